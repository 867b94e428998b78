"""The web dashboard: the fleet, its money and its controls in a browser.

``python -m dashboard`` serves it; see :mod:`dashboard.cli`.
"""
