"""perpfleet's persistent state: models, migrations, encrypted credentials, admin CLI.

Migrating (Alembic) is :mod:`database.migrate`, imported only where the schema is changed.

The entry points other packages use::

    from database import create_engine, session_maker, require_current_schema
    from database.repositories.accounts import get_account_credentials
"""

from database.engine import create_engine, database_url, display_url, session_maker
from database.schema_version import (
    SchemaState,
    is_initialised,
    require_current_schema,
    schema_state,
)

__all__ = [
    "SchemaState",
    "create_engine",
    "database_url",
    "display_url",
    "is_initialised",
    "require_current_schema",
    "schema_state",
    "session_maker",
]
