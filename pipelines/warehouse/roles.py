"""Read-only access for auditors on the PostgreSQL warehouse.

`grant_auditor` gives a NOLOGIN group role (`dtks_auditor`) SELECT on the published warehouse - the tables
and views of schema `dtks`, and through default privileges every table the publishing role creates there
later - and nothing else, optionally with a login in it. Staging tables live in `dtks_staging`, which the
role is never granted: only what a finished publication attached is readable (partitions through their
parents). It then checks, from the catalogue, every way the login could still write, and says what only a
database administrator can close.

Why privileges and not read-only transactions: `default_transaction_read_only` is a user-settable parameter,
and PostgreSQL 15 has no way to stop a role from setting it (`REVOKE SET ON PARAMETER` only applies to
parameters that need a superuser; a role may even `ALTER ROLE` its own defaults). So switching read-only off
must gain nothing: no write privilege anywhere the login can reach. Beyond the role's own grants that means
what PUBLIC holds in the warehouse database: TEMPORARY on the database (temporary tables, functions in
`pg_temp`) and EXECUTE on the large-object creators (`lo_create`, `lo_creat`, `lo_from_bytea`). The warehouse
database is the pipeline's own, so `grant_auditor` revokes those from PUBLIC there (the large-object
functions only as a superuser: they belong to the bootstrap superuser) and reports each change.

CONNECT: PUBLIC may connect to every database by default. Revoking that on another database changes it for
every role that relied on it, so `grant_auditor` only lists the other databases the login can reach, prints
the pg_hba.conf lines that confine the group to the warehouse database (the way that changes no database),
and revokes PUBLIC's CONNECT only on the databases it is explicitly given (`revoke_public_connect`).

The password is sent as a SCRAM-SHA-256 verifier computed on the client (libpq's PQencryptPasswordConn
through psycopg2), never as plain text in a statement.

SQLite has no roles: give auditors a copy of the file, or open it with
`sqlite:///file:warehouse.sqlite?mode=ro&uri=true`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from psycopg2 import sql
from psycopg2.extensions import encrypt_password
from sqlalchemy import Engine

from pipelines.contract import WAREHOUSE_SCHEMA
from pipelines.warehouse import is_postgres, upgrade
from pipelines.warehouse.partitions import STAGING_SCHEMA

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# PUBLIC may run these by default; each creates a large object (a write) in any transaction not read-only.
LARGE_OBJECT_CREATORS = ("lo_creat(integer)", "lo_create(oid)", "lo_from_bytea(oid, bytea)")
# Predefined roles whose members write without any grant on the warehouse.
WRITING_ROLES = ("pg_write_all_data", "pg_write_server_files", "pg_execute_server_program")
# A login left idle inside a transaction holds its read locks and would hold up the next publication's swap.
LOGIN_SETTINGS = {"default_transaction_read_only": "on", "idle_in_transaction_session_timeout": "15min"}


@dataclass
class AuditorGrant:
    """What `grant_auditor` did and found. `open_paths` empty: the login cannot write anything."""

    role: str
    login: str | None
    database: str
    publishers: list[str]
    readable: list[str] = field(default_factory=list)  # relations of `dtks` granted to the role
    changes: list[str] = field(default_factory=list)  # what changed in the database beyond the two roles
    open_paths: list[str] = field(default_factory=list)  # every way left for the login to write
    unreadable: list[str] = field(default_factory=list)  # published relations the role cannot read
    other_databases: list[str] = field(default_factory=list)  # other databases the login may connect to
    for_the_dba: list[str] = field(default_factory=list)  # what only an administrator can do


def _ident(name: str, what: str = "Role name") -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{what} {name!r}: use lower-case letters, digits and _ (max 63).")
    return name


def scram_verifier(connection, password: str, login: str) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `login`, computed here (random salt, 4096
    iterations): the server never sees the password."""
    return encrypt_password(password, login, connection, "scram-sha-256")


def grant_auditor(
    engine: Engine,
    role: str = "dtks_auditor",
    *,
    login: str | None = None,
    password: str | None = None,
    publishers: Sequence[str] = (),
    revoke_public_connect: Iterable[str] = (),
) -> AuditorGrant:
    """Create (if needed) the read-only group `role` and grant it the published warehouse; optionally a
    login in it (with `password`, sent as a SCRAM verifier). `publishers`: the roles that create the
    warehouse's tables (default: the owners of schema `dtks` and of its tables). `revoke_public_connect`:
    other databases on which PUBLIC's CONNECT is revoked (a change for every role; explicit only).
    Safe to run again."""
    if not is_postgres(engine):
        raise ValueError("Read-only roles need PostgreSQL; SQLite has none (open the file read-only instead).")
    _ident(role)
    if login is not None and _ident(login, "Login name") == role:
        raise ValueError("The login must differ from the group role.")
    revoke = list(dict.fromkeys(revoke_public_connect))
    _prepare_schema(engine, publishers)
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_database()")
            database = cursor.fetchone()[0]
            owners = list(publishers) or _schema_owners(cursor)
            if role in owners or login in owners:
                raise ValueError("The auditor role or login cannot be a publishing role.")
            result = AuditorGrant(role, login, database, owners)
            _check_databases(cursor, database, revoke)
            cursor.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (owners,))
            unknown = sorted(set(owners) - {name for (name,) in cursor.fetchall()})
            if unknown:
                raise ValueError(f"No role named {', '.join(unknown)} (--publisher) on this server.")
            _create_role(cursor, role, login=False)
            _grant_reading(cursor, result)
            if login:
                _create_role(cursor, login, login=True, group=role)
                if password:
                    verifier = scram_verifier(connection, password, login)
                    cursor.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(_i(login), sql.Literal(verifier)))
                for name, value in LOGIN_SETTINGS.items():
                    cursor.execute(sql.SQL("ALTER ROLE {} SET {} = {}").format(_i(login), _i(name), sql.Literal(value)))
                cursor.execute(
                    sql.SQL("ALTER ROLE {} SET search_path = {}, public").format(_i(login), _i(WAREHOUSE_SCHEMA))
                )
            _close_public_writes(cursor, result)
            refused = []  # REVOKE by a role that neither owns the database nor is a superuser only warns
            for other in revoke:
                cursor.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(_i(other)))
                cursor.execute("SELECT has_database_privilege('public', %s, 'CONNECT')", (other,))
                if cursor.fetchone()[0]:
                    refused.append(f"REVOKE CONNECT ON DATABASE {other} FROM PUBLIC;  -- as its owner or a superuser")
                else:
                    result.changes.append(f"CONNECT on database {other} revoked from PUBLIC")
        connection.commit()
        with connection.cursor() as cursor:
            subject = login or role
            result.open_paths = write_paths(cursor, subject, group=role)
            result.unreadable = _unreadable(cursor, subject)
            result.other_databases = reachable_databases(cursor, subject)
            result.for_the_dba = refused + _for_the_dba(cursor, result)
        connection.rollback()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()
    return result


def _i(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def _prepare_schema(engine: Engine, publishers: Sequence[str]) -> None:
    """Migrate the warehouse only as the role that owns it (objects belong to whoever creates them, and a
    publisher must own its tables to swap partitions); with named publishers and no warehouse yet, create
    its schemas for the first of them, whose first run migrates. A warehouse owned by another role is left
    to its owner's next run: the default privileges cover whatever that migration creates."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(
            "SELECT (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s), current_user",
            (WAREHOUSE_SCHEMA,),
        )
        owner, me = cursor.fetchone()
        if owner is None and publishers:
            for schema in (WAREHOUSE_SCHEMA, STAGING_SCHEMA):
                cursor.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(_i(schema), _i(publishers[0]))
                )
        raw.commit()
    finally:
        raw.close()
    if owner in (None, me) and not (owner is None and publishers):
        upgrade(engine)


def _schema_owners(cursor) -> list[str]:
    cursor.execute(
        """
        SELECT DISTINCT owner FROM (
            SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = %(s)s
            UNION ALL
            SELECT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %(s)s AND c.relkind IN ('r', 'p', 'v', 'm')
        ) owners ORDER BY owner
        """,
        {"s": WAREHOUSE_SCHEMA},
    )
    return [owner for (owner,) in cursor.fetchall()]


def _check_databases(cursor, database: str, revoke: list[str]) -> None:
    if database in revoke:
        raise ValueError(f"{database} is the warehouse database: the auditors must keep CONNECT on it.")
    cursor.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", (revoke,))
    missing = sorted(set(revoke) - {name for (name,) in cursor.fetchall()})
    if missing:
        raise ValueError(f"No database named {', '.join(missing)} on this server.")


def _create_role(cursor, name: str, *, login: bool, group: str | None = None) -> None:
    """Create the role, or check that the existing one is a plain role an auditor may use: no attribute
    beyond LOGIN, no membership but `group`, nothing it owns here. (A mistyped `--login postgres` must not
    change an administrator's password.)"""
    cursor.execute(
        """
        SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin,
               ARRAY(SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid
                     WHERE m.member = r.oid AND b.rolname <> %(group)s ORDER BY 1),
               EXISTS (SELECT 1 FROM pg_class WHERE relowner = r.oid)
               OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspowner = r.oid)
               OR EXISTS (SELECT 1 FROM pg_database WHERE datdba = r.oid)
        FROM pg_roles r WHERE rolname = %(name)s
        """,
        {"name": name, "group": group or ""},
    )
    row = cursor.fetchone()
    if row is None:
        kind = sql.SQL("LOGIN") if login else sql.SQL("NOLOGIN")
        cursor.execute(sql.SQL("CREATE ROLE {} {}").format(_i(name), kind))
    else:
        attributes = ["SUPERUSER", "CREATEROLE", "CREATEDB", "REPLICATION", "BYPASSRLS"]
        problems = [a for a, on in zip(attributes, row[:5], strict=True) if on]
        if row[5] != login:
            problems.append("LOGIN" if row[5] else "NOLOGIN")
        problems += [f"member of {m}" for m in row[6]]
        if row[7]:
            problems.append("owns objects")
        if problems:
            raise ValueError(
                f"Role {name} exists and is not a plain auditor {'login' if login else 'role'} "
                f"({', '.join(problems)}): choose another name."
            )
    if group:
        cursor.execute(sql.SQL("GRANT {} TO {}").format(_i(group), _i(name)))


def _grant_reading(cursor, result: AuditorGrant) -> None:
    """SELECT on the published relations (partitions are read through their parents) and future ones;
    no write privilege left from any earlier grant; never the staging schema."""
    role, schema = _i(result.role), _i(WAREHOUSE_SCHEMA)
    cursor.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(_i(result.database), role))
    cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role))
    cursor.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(schema, role))
    cursor.execute(
        sql.SQL(
            "REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {} FROM {}"
        ).format(schema, role)
    )
    cursor.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition ORDER BY 1
        """,
        (WAREHOUSE_SCHEMA,),
    )
    result.readable = [name for (name,) in cursor.fetchall()]
    for name in result.readable:
        cursor.execute(sql.SQL("GRANT SELECT ON {}.{} TO {}").format(schema, _i(name), role))
    cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (STAGING_SCHEMA,))
    if cursor.fetchone():
        cursor.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC, {}").format(_i(STAGING_SCHEMA), role))
    for publisher in result.publishers:
        cursor.execute("SAVEPOINT default_privileges")
        try:
            cursor.execute(
                sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
                    _i(publisher), schema, role
                )
            )
        except Exception:  # not a member of `publisher`: reported by `_for_the_dba`
            cursor.execute("ROLLBACK TO SAVEPOINT default_privileges")


def _close_public_writes(cursor, result: AuditorGrant) -> None:
    """What PUBLIC holds in the warehouse database that writes: revoked (the database is the pipeline's
    own); each actual change is reported."""
    database = _i(result.database)
    cursor.execute("SELECT has_database_privilege('public', current_database(), 'TEMPORARY')")
    if cursor.fetchone()[0]:
        cursor.execute(sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(database))
        cursor.execute("SELECT has_database_privilege('public', current_database(), 'TEMPORARY')")
        if not cursor.fetchone()[0]:
            result.changes.append(f"TEMPORARY on database {result.database} revoked from PUBLIC")
    cursor.execute("SELECT nspname FROM pg_namespace WHERE has_schema_privilege('public', oid, 'CREATE')")
    for (schema,) in cursor.fetchall():
        cursor.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(_i(schema)))
        cursor.execute("SELECT has_schema_privilege('public', %s, 'CREATE')", (schema,))
        if not cursor.fetchone()[0]:
            result.changes.append(f"CREATE on schema {schema} revoked from PUBLIC")
    for function in LARGE_OBJECT_CREATORS:
        if _public_may_execute(cursor, function):
            cursor.execute(sql.SQL("REVOKE EXECUTE ON FUNCTION pg_catalog.{} FROM PUBLIC").format(sql.SQL(function)))
            if not _public_may_execute(cursor, function):
                result.changes.append(f"EXECUTE on function {function} revoked from PUBLIC")


def _public_may_execute(cursor, function: str) -> bool:
    cursor.execute("SELECT has_function_privilege('public', %s::regprocedure, 'EXECUTE')", (f"pg_catalog.{function}",))
    return cursor.fetchone()[0]


def write_paths(cursor, subject: str, group: str | None = None) -> list[str]:
    """Every way the role `subject` could still write in the current database, from the catalogue: role
    attributes and memberships, CREATE and TEMPORARY on the database, CREATE on a schema, a write privilege
    on a relation or sequence of a schema it can use, large objects it may create or change, SECURITY
    DEFINER functions it may run. Empty: whatever it SETs, every write fails."""
    found: list[str] = []
    cursor.execute(
        """
        SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = %s
        """,
        (subject,),
    )
    attributes = ["SUPERUSER", "CREATEROLE", "CREATEDB", "REPLICATION", "BYPASSRLS"]
    found += [f"role attribute {a}" for a, on in zip(attributes, cursor.fetchone(), strict=True) if on]
    cursor.execute(
        """
        SELECT rolname FROM pg_roles
        WHERE pg_has_role(%(s)s, oid, 'MEMBER') AND rolname NOT IN (%(s)s, %(g)s) ORDER BY 1
        """,
        {"s": subject, "g": group or subject},
    )
    found += [
        f"member of role {name}" + (" (writes without grants)" if name in WRITING_ROLES else "")
        for (name,) in cursor.fetchall()
    ]
    for privilege in ("CREATE", "TEMPORARY"):
        cursor.execute("SELECT has_database_privilege(%s, current_database(), %s)", (subject, privilege))
        if cursor.fetchone()[0]:
            found.append(f"{privilege} on the database")
    cursor.execute(
        "SELECT nspname FROM pg_namespace WHERE has_schema_privilege(%s, oid, 'CREATE') ORDER BY 1", (subject,)
    )
    found += [f"CREATE on schema {name}" for (name,) in cursor.fetchall()]
    cursor.execute(
        """
        SELECT n.nspname, c.relname, p.privilege FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER']) AS p(privilege)
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND has_schema_privilege(%(s)s, n.oid, 'USAGE')
          AND c.oid <> 'pg_catalog.pg_settings'::regclass  -- UPDATE on it is SET: a session's own settings
          AND (has_table_privilege(%(s)s, c.oid, p.privilege)
               OR (p.privilege IN ('INSERT', 'UPDATE') AND has_any_column_privilege(%(s)s, c.oid, p.privilege)))
        UNION ALL
        SELECT n.nspname, c.relname, p.privilege FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN unnest(ARRAY['USAGE', 'UPDATE']) AS p(privilege)
        WHERE c.relkind = 'S' AND has_schema_privilege(%(s)s, n.oid, 'USAGE')
          AND has_sequence_privilege(%(s)s, c.oid, p.privilege)
        ORDER BY 1, 2, 3
        """,
        {"s": subject},
    )
    found += [f"{privilege} on {schema}.{name}" for schema, name, privilege in cursor.fetchall()]
    cursor.execute(
        """
        SELECT p.oid::regprocedure::text FROM pg_proc p
        WHERE p.oid = ANY(%(creators)s::regprocedure[]) AND has_function_privilege(%(s)s, p.oid, 'EXECUTE')
        ORDER BY 1
        """,
        {"s": subject, "creators": [f"pg_catalog.{f}" for f in LARGE_OBJECT_CREATORS]},
    )
    found += [f"EXECUTE on function {name} (creates large objects)" for (name,) in cursor.fetchall()]
    cursor.execute(
        """
        SELECT count(*) FROM pg_largeobject_metadata m
        WHERE pg_has_role(%(s)s, m.lomowner, 'MEMBER')
           OR current_setting('lo_compat_privileges')::boolean
           OR EXISTS (SELECT 1 FROM aclexplode(m.lomacl) a
                      WHERE a.privilege_type = 'UPDATE' AND (a.grantee = 0 OR pg_has_role(%(s)s, a.grantee, 'MEMBER')))
        """,
        {"s": subject},
    )
    writable = cursor.fetchone()[0]
    if writable:
        found.append(f"{writable} large object(s) it may change")
    cursor.execute(
        """
        SELECT p.oid::regprocedure::text, pg_get_userbyid(p.proowner) FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND has_schema_privilege(%(s)s, n.oid, 'USAGE') AND has_function_privilege(%(s)s, p.oid, 'EXECUTE')
        ORDER BY 1
        """,
        {"s": subject},
    )
    found += [f"EXECUTE on SECURITY DEFINER function {name} (runs as {owner})" for name, owner in cursor.fetchall()]
    return found


def _unreadable(cursor, subject: str) -> list[str]:
    cursor.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
          AND NOT has_table_privilege(%(s)s, c.oid, 'SELECT') ORDER BY 1
        """,
        {"s": subject, "schema": WAREHOUSE_SCHEMA},
    )
    return [name for (name,) in cursor.fetchall()]


def reachable_databases(cursor, subject: str) -> list[str]:
    """The other databases of the server whose CONNECT privilege `subject` holds (pg_hba.conf may still
    turn it away: this catalogue cannot tell)."""
    cursor.execute(
        """
        SELECT datname FROM pg_database
        WHERE datallowconn AND datname <> current_database() AND has_database_privilege(%s, oid, 'CONNECT')
        ORDER BY 1
        """,
        (subject,),
    )
    return [name for (name,) in cursor.fetchall()]


def _for_the_dba(cursor, result: AuditorGrant) -> list[str]:
    """Statements and configuration only an administrator can apply, for what is still open."""
    todo = []
    cursor.execute(
        """
        SELECT DISTINCT pg_get_userbyid(d.defaclrole) FROM pg_default_acl d
        JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a
        WHERE n.nspname = %s AND d.defaclobjtype = 'r' AND a.grantee = %s::regrole AND a.privilege_type = 'SELECT'
        """,
        (WAREHOUSE_SCHEMA, result.role),
    )
    covered = {name for (name,) in cursor.fetchall()}
    for publisher in sorted(set(result.publishers) - covered):
        todo.append(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {publisher} IN SCHEMA {WAREHOUSE_SCHEMA} "
            f"GRANT SELECT ON TABLES TO {result.role};  -- as a superuser or a member of {publisher}"
        )
    for function in LARGE_OBJECT_CREATORS:
        if _public_may_execute(cursor, function):
            todo.append(f"REVOKE EXECUTE ON FUNCTION pg_catalog.{function} FROM PUBLIC;  -- as a superuser")
    if result.other_databases:
        database = result.database if _IDENTIFIER.match(result.database) else f'"{result.database}"'
        todo += [
            "# pg_hba.conf, above any line that would admit these roles elsewhere, then reload:",
            f"host  {database}  +{result.role}  all  scram-sha-256",
            f"host  all  +{result.role}  all  reject",
            f"local  all  +{result.role}  reject",
        ]
    return todo
