"""The interactive config builder: an application on top of the config schema, the database
(which accounts exist) and the bot runtime's ``--check`` - hence not part of ``trading_config``.

``python -m config_builder``; the questions are in :mod:`config_builder.prompts` (pure), the
terminal I/O in :mod:`config_builder.terminal`.
"""
