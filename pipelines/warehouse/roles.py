"""A read-only role for auditors on the PostgreSQL warehouse.

The role may read every table and view of schema `dtks`, now and after future migrations, and nothing
else: no INSERT, UPDATE, DELETE, TRUNCATE, no DDL. Logins made for auditors also default to read-only
transactions, as a second fence. SQLite has no roles: give auditors a copy of the file, or open it with
`sqlite:///file:warehouse.sqlite?mode=ro&uri=true`.
"""

from __future__ import annotations

import re

from sqlalchemy import Engine, text

from pipelines.contract import WAREHOUSE_SCHEMA
from pipelines.warehouse import is_postgres, upgrade

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _ident(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"Role name {name!r}: use lower-case letters, digits and _ (max 63).")
    return f'"{name}"'


def grant_auditor(
    engine: Engine, role: str = "dtks_auditor", *, login: str | None = None, password: str | None = None
) -> None:
    """Create (if needed) the read-only `role`, grant it the warehouse, and optionally a login in it."""
    if not is_postgres(engine):
        raise ValueError("Read-only roles need PostgreSQL; SQLite has none (open the file read-only instead).")
    upgrade(engine)
    r, schema = _ident(role), f'"{WAREHOUSE_SCHEMA}"'
    with engine.begin() as c:
        exists = c.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        if not exists:
            c.execute(text(f"CREATE ROLE {r} NOLOGIN"))
        c.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {r}"))
        c.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {r}"))
        # Tables and views that later migrations create (they run as this same owner).
        c.execute(text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {r}"))
        c.execute(text(f"REVOKE CREATE ON SCHEMA {schema} FROM {r}"))
        if login:
            user = _ident(login)
            found = c.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": login}).first()
            if not found:
                c.execute(text(f"CREATE ROLE {user} LOGIN"))
            if password:
                c.execute(text(f"ALTER ROLE {user} PASSWORD :p"), {"p": password})
            c.execute(text(f"GRANT {r} TO {user}"))
            c.execute(text(f"ALTER ROLE {user} SET default_transaction_read_only = on"))
            c.execute(text(f"ALTER ROLE {user} SET search_path = {schema}, public"))
