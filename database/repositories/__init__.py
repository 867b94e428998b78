"""Data access: small async functions over an ``AsyncSession``, one module per subject.

Functions here never commit: the caller owns the transaction, so several steps
(store credentials + write the audit row) succeed or fail together.
"""
