"""Alembic environment for the warehouse. Run through `pipelines.warehouse.upgrade`, which passes the
connection; the schema (`dtks` on PostgreSQL, none on SQLite) is decided per dialect."""

from __future__ import annotations

from alembic import context

from pipelines.warehouse.schema import metadata

connection = context.config.attributes["connection"]
schema = context.config.attributes.get("schema")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table="alembic_version_dtks",
    version_table_schema=schema,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
