"""Alembic's entry point: migrates the connection that outreach.db hands over, or the configured URL."""

from sqlalchemy import Connection

from alembic import context
from outreach.alerts import models as _alert_models  # noqa: F401  (its tables are on the same metadata)
from outreach.config import load_settings
from outreach.db import Database
from outreach.members import models as _member_models  # noqa: F401  (its tables are on the same metadata)
from outreach.models import Base
from outreach.staff import models as _staff_models  # noqa: F401  (its tables are on the same metadata)

config = context.config
target_metadata = Base.metadata


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    database = Database(load_settings().database_url.reveal())
    with database.engine.begin() as own_connection:
        _migrate(own_connection)
    database.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run `outreach db upgrade`")
run_migrations_online()
