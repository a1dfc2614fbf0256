"""The warehouse: SQLite by default, PostgreSQL in production; the same tables on both.

`connect(url)` gives an engine that maps the tables into schema `dtks` on PostgreSQL, and
`upgrade(engine)` brings the schema to the newest Alembic revision (run before every publication,
so a new release migrates the warehouse by itself). On PostgreSQL a second schema, `dtks_staging`, holds
the tables a publication is loading (see `partitions.py`).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url

from pipelines.contract import WAREHOUSE_SCHEMA
from pipelines.warehouse.partitions import STAGING_SCHEMA

MIGRATIONS = Path(__file__).parent / "migrations"


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def connect(url: str | URL) -> Engine:
    """An engine on the warehouse. Statement parameters (personal data) are kept out of error messages."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 300}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers keep the old publication while a run writes
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if parsed.get_backend_name() == "postgresql":
        # search_path too, so hand-written SQL (auditors, tests) finds the tables without a prefix.
        return create_engine(
            url,
            hide_parameters=True,
            execution_options={"schema_translate_map": {None: WAREHOUSE_SCHEMA}},
            connect_args={"options": f"-csearch_path={WAREHOUSE_SCHEMA},public"},
        )
    raise ValueError(f"Unsupported warehouse {parsed.get_backend_name()!r}: use sqlite:/// or postgresql+psycopg2://")


def upgrade(engine: Engine, revision: str = "head") -> None:
    _migrate(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Back to `revision` (operators and migration tests; some revisions cannot go back and say so)."""
    _migrate(engine, "downgrade", revision)


def _migrate(engine: Engine, direction: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    schema = WAREHOUSE_SCHEMA if is_postgres(engine) else None
    with engine.begin() as connection:
        if schema:
            for name in (schema, STAGING_SCHEMA):
                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{name}"'))
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        config.attributes["schema"] = schema
        getattr(command, direction)(config, revision)


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        opts = {"version_table": "alembic_version_dtks"}
        if is_postgres(engine):
            opts["version_table_schema"] = WAREHOUSE_SCHEMA
        return MigrationContext.configure(connection, opts=opts).get_current_revision()
