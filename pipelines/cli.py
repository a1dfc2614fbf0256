"""The `dtks` command.

dtks synth     --landing DIR --quarter Q [--kab 5203 ...] [--persons N] [--seed S] [--rate kind=x ...]
               [--moved-kabupaten-rate x]
dtks run       --landing DIR --quarter Q [--warehouse URL] [--warehouse-conn ID] [--reports DIR]
               [--airflow-url URL [--user NAME --password PW]]
dtks airflow start --home DIR [--port 8080] [--executor LocalExecutor|CeleryExecutor] [--workers N]
               [--metadata URL] [--broker URL] [--warehouse URL] [--user NAME --password PW]
dtks airflow stop  --home DIR
dtks evaluate  --landing DIR --quarter Q [--warehouse URL | --warehouse-conn ID] [--json FILE]
dtks trace     --quarter Q (--nik NIK | --source-file F --source-row R) [--warehouse URL | --warehouse-conn ID]
               [--format text|json] [--mask]
dtks grant-auditor [--warehouse URL | --warehouse-conn ID] [--login NAME --password-env VAR]
dtks demo      [--persons N] [--dir DIR]
dtks config    [show | doc | schema] [--config FILE]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from pipelines.log_masking import MaskingFilter, install_console_masking
from pipelines.privacy import mask_text


def _setup_logging(verbose: bool) -> None:
    # stderr carries logs, warnings and tracebacks: masked whatever writes there. stdout is each
    # command's own output (`dtks trace` shows NIKs unless --mask, by design).
    install_console_masking(stdout=False)
    handler = logging.StreamHandler()
    handler.addFilter(MaskingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])


def _parse_rates(items: list[str]) -> dict[str, float]:
    rates = {}
    for item in items:
        name, _, value = item.partition("=")
        if not value:
            raise SystemExit(f"--rate expects kind=value, got {item!r}")
        rates[name.strip()] = float(value)
    return rates


PASSWORD_ON_COMMAND_LINE = (
    "dtks: warning: the password in --warehouse is visible to every local user (ps) and in your shell "
    "history. Leave it out of the URL and let libpq find it in PGPASSWORD or ~/.pgpass, or name an "
    "Airflow connection with --warehouse-conn."
)


def _warn_if_password(url: str | None) -> None:
    from sqlalchemy.engine import make_url

    try:
        has_password = bool(url and make_url(url).password)
    except Exception:  # an unparseable URL is reported where it is used
        return
    if has_password:
        print(PASSWORD_ON_COMMAND_LINE, file=sys.stderr)


def _warehouse(args: argparse.Namespace) -> Any:
    """The warehouse a reading command (evaluate, trace, grant-auditor) connects to: `--warehouse URL`; else
    the Airflow connection `--warehouse-conn` (default dtks_warehouse) from `AIRFLOW_CONN_<ID>` or a
    configured secrets backend, then from the embedded metadata `dtks run` wrote it to; else, for the
    default connection, the embedded SQLite warehouse."""
    from sqlalchemy.engine import make_url

    from pipelines.airflow_metadata import load_connection
    from pipelines.airflow_runner import default_warehouse, embedded_environment
    from pipelines.stages import home
    from pipelines.warehouse.connection import (
        DEFAULT_CONN_ID,
        WarehouseConnectionError,
        remember_secret,
        resolve,
        to_sqlalchemy_url,
    )

    if args.warehouse:
        _warn_if_password(args.warehouse)
        return make_url(args.warehouse)
    conn_id = args.warehouse_conn or DEFAULT_CONN_ID
    try:
        return resolve(conn_id)
    except WarehouseConnectionError:
        pass
    base = home()
    if (base / "airflow" / "airflow.db").exists():
        fields = load_connection(embedded_environment(base), conn_id)
        if fields is not None:
            remember_secret(fields)
            return to_sqlalchemy_url(fields, conn_id)
    if conn_id == DEFAULT_CONN_ID:
        return make_url(default_warehouse(base))
    raise SystemExit(f"dtks: no Airflow connection {conn_id!r} in the environment or in {base / 'airflow'}")


def cmd_synth(args: argparse.Namespace) -> int:
    from pipelines.synth import SynthConfig, generate

    config = SynthConfig(kab_codes=tuple(args.kab or ["5203"]), persons=args.persons, seed=args.seed)
    if args.rate:
        config = config.with_rates(**_parse_rates(args.rate))
    if args.xlsx_share is not None:
        config = config.with_options(xlsx_share=args.xlsx_share)
    if args.moved_kabupaten_rate is not None:
        config = config.with_options(moved_kabupaten_rate=args.moved_kabupaten_rate)
    start = time.perf_counter()
    summary = generate(Path(args.landing), args.quarter, config, overwrite=args.overwrite)
    print(f"Generated {args.quarter} under {args.landing} in {time.perf_counter() - start:.1f} s")
    print(json.dumps(_summary_dict(summary), indent=2, default=str))
    return 0


def _summary_dict(summary: Any) -> dict[str, Any]:
    import dataclasses

    data = summary.counts() if hasattr(summary, "counts") else dataclasses.asdict(summary)
    return {k: v for k, v in data.items() if not k.endswith("paths")}


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.airflow_metadata import MetadataError
    from pipelines.airflow_runner import RunFailed, run_quarter
    from pipelines.config import SettingsError, load_config
    from pipelines.contract import quarter_is_valid
    from pipelines.warehouse.connection import DEFAULT_CONN_ID, WarehouseConnectionError

    if not quarter_is_valid(args.quarter):
        raise SystemExit(f"--quarter must look like 2026Q3, got {args.quarter!r}")
    if not (Path(args.landing) / args.quarter).is_dir():
        raise SystemExit(f"No landing folder {Path(args.landing) / args.quarter}")
    config = json.loads(Path(args.config).read_text()) if args.config else None
    try:  # the run checks them too; bad settings are said now rather than after Airflow has started
        load_config(config)
    except SettingsError as exc:
        print(f"dtks run: {exc}", file=sys.stderr)
        return 2
    if args.airflow_url:
        return _run_on_deployment(args, config)
    _warn_if_password(args.warehouse)
    start = time.perf_counter()
    try:
        result = run_quarter(
            args.landing,
            args.quarter,
            warehouse=args.warehouse,
            warehouse_conn_id=args.warehouse_conn or DEFAULT_CONN_ID,
            reports=args.reports,
            work=args.work,
            config=config,
        )
    except (RunFailed, MetadataError, WarehouseConnectionError) as exc:
        print(mask_text(f"dtks run: {exc}"), file=sys.stderr)
        return 2
    result["wall_seconds"] = round(time.perf_counter() - start, 1)
    print(format_run(result))
    return exit_status(result)


def _run_on_deployment(args: argparse.Namespace, config: dict[str, Any] | None) -> int:
    """`dtks run --airflow-url`: trigger dtks_quarterly over the REST API, wait, print as the embedded run."""
    import httpx

    from pipelines.deploy.api import ApiError
    from pipelines.deploy.remote import run_remote

    if args.warehouse:
        raise SystemExit(
            "dtks run: with --airflow-url the run publishes to the deployment's dtks_warehouse connection "
            "(set by `dtks airflow start --warehouse`); name another with --warehouse-conn"
        )
    password = args.password or os.environ.get("DTKS_AIRFLOW_PASSWORD")
    if not password:
        raise SystemExit("dtks run: give the deployment's password in DTKS_AIRFLOW_PASSWORD (or --password)")
    conf = {
        "quarter": args.quarter,
        "landing": str(Path(args.landing).resolve()),
        "warehouse_conn_id": args.warehouse_conn,
        "reports": str(Path(args.reports).resolve()) if args.reports else None,
        "work": str(Path(args.work).resolve()) if args.work else None,
        "config": config,
    }
    start = time.perf_counter()
    try:
        result = run_remote(args.airflow_url, args.user, password, {k: v for k, v in conf.items() if v})
    except (ApiError, OSError, httpx.HTTPError) as exc:
        print(mask_text(f"dtks run: {args.airflow_url}: {exc}"), file=sys.stderr)
        return COULD_NOT_RUN
    result["wall_seconds"] = round(time.perf_counter() - start, 1)
    print(format_run(result))
    return exit_status(result)


# `dtks run`'s exit status: published whole; not published; could not run; published with kabupaten/kota
# held back by their quality gate (policy publish_others).
PUBLISHED_WHOLE, NOT_PUBLISHED, COULD_NOT_RUN, PUBLISHED_HELD_BACK = 0, 1, 2, 3


def exit_status(result: dict[str, Any]) -> int:
    if result["status"] != "PUBLISHED":
        return NOT_PUBLISHED
    return PUBLISHED_HELD_BACK if result.get("held_back") else PUBLISHED_WHOLE


def format_run(result: dict[str, Any]) -> str:
    s = result.get("summaries", {})
    decide = s.get("decide", {})
    lines = [
        f"Run {result['run_id']} for {result['quarter']}: {result['status']}"
        + (
            f" (failed in {result.get('failed_stage')}: {result.get('message')})"
            if result["status"] != "PUBLISHED"
            else ""
        )
        + (
            f"; kabupaten/kota HELD BACK by their quality gate, not published: {', '.join(result['held_back'])}"
            if result.get("held_back")
            else ""
        ),
        f"  wall time {result.get('wall_seconds', '?')} s; stages: "
        + ", ".join(f"{k} {v.get('seconds', 0):.1f}s" for k, v in s.items() if isinstance(v, dict) and "seconds" in v),
    ]
    if "ingest" in s:
        lines.append(
            f"  rows in: {s['ingest']['submission_rows']} submission rows, "
            f"{s['ingest']['dukcapil_rows']} Dukcapil persons; "
            f"files: {s['ingest']['file_statuses']}"
        )
    landing = s.get("discover", {}).get("landing") or {}
    if landing.get("unexpected") or landing.get("not_examined"):
        lines.append(
            f"  landing area: {landing['unexpected']} entries not expected inputs {landing.get('by_action')}"
            + (f", {landing['not_examined']} more only counted" if landing.get("not_examined") else "")
            + "; listed in the HTML summary and run.landing"
        )
    if decide:
        lines.append(f"  outcomes: {decide.get('outcomes')}; persons in snapshot: {decide.get('persons')}")
        lines.append(f"  status padan: {decide.get('status_padan')}")
        lines.append("  findings: " + ", ".join(f"{k} {v}" for k, v in decide.get("findings", {}).items()))
    delivery = result.get("delivery") or {}
    if delivery:
        sent = [m for m in delivery.get("messages", []) if m.get("status") == "SENT"]
        lines.append(f"  e-mail: {delivery.get('status')} ({len(sent)} message(s) sent)")
    lines += [
        f"  warehouse: {result.get('warehouse')}",
        f"  reports:   {result.get('reports_dir')}",
        f"  work dir:  {result.get('work_dir')}",
        f"  airflow log: {result.get('airflow_log')}",
    ]
    return mask_text("\n".join(lines))


def cmd_evaluate(args: argparse.Namespace) -> int:
    from pipelines.evaluate import evaluate_quarter, format_report
    from pipelines.warehouse import connect

    engine = connect(_warehouse(args))
    result = evaluate_quarter(engine, args.landing, args.quarter)
    print(format_report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


DEMO_KEY_NOTE = (
    "Note: the demo pseudonymises NIKs with the public demo key (DTKS_PERSON_KEY_SECRET is not set), which "
    "anyone can use to reverse its person keys: fine for this synthetic data, refused by `dtks run` and the "
    "Airflow DAG. Set DTKS_PERSON_KEY_SECRET to a long random value before running real data."
)


def cmd_demo(args: argparse.Namespace) -> int:
    """Synthetic Lombok Timur quarter -> Airflow run -> SQLite warehouse -> workbook -> evaluation."""
    import os

    from pipelines.airflow_runner import run_quarter
    from pipelines.config import DEMO_KEY_ENV, PERSON_KEY_ENV
    from pipelines.evaluate import evaluate_quarter, format_report
    from pipelines.synth import SynthConfig, generate
    from pipelines.warehouse import connect

    base = Path(args.dir).resolve()
    os.environ["DTKS_HOME"] = str(base)
    if not os.environ.get(PERSON_KEY_ENV, "").strip():
        os.environ[DEMO_KEY_ENV] = "1"  # the demo alone may run on the public key (its runs inherit this)
        print(DEMO_KEY_NOTE)
    landing, quarter = base / "landing", args.quarter
    warehouse = f"sqlite:///{base / 'warehouse.sqlite'}"
    start = time.perf_counter()
    if not (landing / quarter).exists() or args.regenerate:
        print(
            f"[1/3] Generating a synthetic quarter {quarter} for Kabupaten Lombok Timur (5203), "
            f"{args.persons} persons ..."
        )
        config = SynthConfig(kab_codes=("5203",), persons=args.persons, seed=args.seed)
        generate(landing, quarter, config, overwrite=True)
    print(f"[2/3] Running the dtks_quarterly DAG through Airflow ({time.perf_counter() - start:.0f} s so far) ...")
    result = run_quarter(str(landing), quarter, warehouse=warehouse, reports=str(base / "reports"))
    result["wall_seconds"] = round(time.perf_counter() - start, 1)
    print(format_run(result))
    if result["status"] != "PUBLISHED":
        return 1
    print("[3/3] Evaluating the publication against the generator's ground truth ...")
    evaluation = evaluate_quarter(connect(warehouse), landing, quarter)
    print(format_report(evaluation))
    (base / "evaluation.json").write_text(json.dumps(evaluation, indent=2))
    print(f"Demo finished in {time.perf_counter() - start:.0f} s. Files under {base}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    """The effective settings (defaults < DTKS_CONFIG < --config), checked; the settings table; the schema."""
    from pipelines.config import PipelineConfig, SettingsError, load_config
    from pipelines.settings_doc import markdown_table, show

    if args.what == "doc":
        print(markdown_table())
        return 0
    if args.what == "schema":
        print(json.dumps(PipelineConfig.model_json_schema(), indent=2))
        return 0
    try:
        overrides = json.loads(Path(args.config).read_text(encoding="utf-8")) if args.config else None
        config = load_config(overrides)
    except (OSError, json.JSONDecodeError) as exc:
        print(f"dtks config: {args.config}: {type(exc).__name__}", file=sys.stderr)
        return 2
    except SettingsError as exc:
        print(f"dtks config: {exc}", file=sys.stderr)
        return 2
    print(show(config))
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    """Friendly to the auditor: every problem is one sentence saying what to pass, never a traceback, and
    a warehouse that is not there is not created (an SQLite file is opened only if it exists)."""
    from sqlalchemy.exc import SQLAlchemyError

    from pipelines.trace import TraceError, format_trace, trace, trace_document
    from pipelines.warehouse import connect

    def fail(message: str) -> int:
        print(f"dtks trace: {message}", file=sys.stderr)
        return 2

    if args.source_file and args.source_row is None:
        return fail("--source-file perlu --source-row (nomor baris data; baris 1 = baris pertama sesudah judul).")
    url = _warehouse(args)
    if url.get_backend_name() == "sqlite" and (not url.database or not Path(url.database).is_file()):
        return fail(
            f"Tidak ada gudang data di {url.database or '(tanpa berkas)'}. Berikan --warehouse "
            "(mis. postgresql+psycopg2://auditor@host/dtks atau sqlite:////jalur/warehouse.sqlite) atau "
            "--warehouse-conn ID, atau jalankan dari folder tempat `dtks run` dijalankan (atau set DTKS_HOME)."
        )
    start = time.perf_counter()
    try:
        result = trace(
            connect(url),
            args.quarter,
            nik=args.nik,
            source_file=args.source_file,
            source_row=args.source_row,
            read_input=not args.no_input,
        )
    except TraceError as exc:
        return fail(str(exc))
    except SQLAlchemyError as exc:
        reason = type(getattr(exc, "orig", None) or exc).__name__
        return fail(
            f"Gudang data {url.render_as_string(hide_password=True)} tidak dapat dibaca ({reason}): periksa "
            "--warehouse, hak akses, dan bahwa gudang data itu pernah menerbitkan triwulan."
        )
    if args.format == "json":
        text = json.dumps(trace_document(result, mask=args.mask), ensure_ascii=False, indent=2)
    else:
        text = format_trace(result, mask=args.mask)
    try:
        print(text)
    except BrokenPipeError:  # piped into `head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    print(f"(dijawab dalam {time.perf_counter() - start:.3f} detik)", file=sys.stderr)
    return 0


def cmd_grant_auditor(args: argparse.Namespace) -> int:
    from pipelines.warehouse import connect
    from pipelines.warehouse.roles import grant_auditor

    password = _auditor_password(args)
    engine = connect(_warehouse(args))
    try:
        result = grant_auditor(
            engine,
            args.role,
            login=args.login,
            password=password,
            publishers=args.publisher,
            revoke_public_connect=args.revoke_public_connect,
        )
    except ValueError as exc:
        print(f"dtks grant-auditor: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(format_grant(result, password_set=password is not None))
    return 1 if result.open_paths or result.unreadable else 0


def _auditor_password(args: argparse.Namespace) -> str | None:
    """The login's password from an environment variable or the prompt, never from the command line."""
    import getpass
    import os

    if not args.login:
        if args.password_env:
            raise SystemExit("dtks grant-auditor: --password-env needs --login")
        return None
    if args.no_password:
        return None
    if args.password_env:
        value = os.environ.get(args.password_env)
        if not value:
            raise SystemExit(f"dtks grant-auditor: the environment variable {args.password_env} is empty or unset")
        return value
    if not sys.stdin.isatty():
        raise SystemExit(
            "dtks grant-auditor: give the login's password in an environment variable (--password-env NAME) or "
            "at the prompt (run it in a terminal); --no-password keeps the login without one"
        )
    first = getpass.getpass(f"Password for {args.login}: ")
    if not first or first != getpass.getpass("Once more: "):
        raise SystemExit("dtks grant-auditor: the two passwords were empty or differ")
    return first


def format_grant(result: Any, *, password_set: bool) -> str:
    """What `grant-auditor` did and what is left open, for the administrator who ran it."""
    from pipelines.contract import WAREHOUSE_SCHEMA
    from pipelines.warehouse.partitions import STAGING_SCHEMA

    publishers = ", ".join(result.publishers) or "its owner"
    lines = [
        f"Role {result.role} reads {len(result.readable)} tables and views of schema {WAREHOUSE_SCHEMA} in database "
        f"{result.database} (partitions through their parents) and every table {publishers} creates there later; "
        f"it has no access to {STAGING_SCHEMA}.",
    ]
    if result.login:
        lines.append(
            f"Login {result.login}: member of {result.role}, read-only transactions by default"
            + ("; password stored as a SCRAM-SHA-256 verifier computed here." if password_set else ".")
        )
    if result.changes:
        lines.append(f"Changed in database {result.database}: " + "; ".join(result.changes) + ".")
    subject = result.login or result.role
    lines.append(
        f"Ways left for {subject} to write: " + ("none." if not result.open_paths else "; ".join(result.open_paths))
    )
    if result.unreadable:
        lines.append(f"Not readable by {result.role} (grant failed): " + ", ".join(result.unreadable))
    lines.append(
        f"Other databases {subject} may connect to: "
        + (", ".join(result.other_databases) if result.other_databases else "none.")
    )
    if result.other_databases:
        lines.append(
            "  Confine it in pg_hba.conf (below), or revoke PUBLIC's CONNECT on a database with "
            "--revoke-public-connect NAME (that changes the database for every role relying on PUBLIC)."
        )
    if result.for_the_dba:
        lines.append("For the database administrator:")
        lines += [f"  {line}" for line in result.for_the_dba]
    return "\n".join(lines)


RUN_WAREHOUSE_HELP = """\
The warehouse is the Airflow connection dtks_warehouse (--warehouse-conn for another). --warehouse URL
writes the URL into that connection in the embedded metadata, password encrypted, and the run's conf
names only the connection. Without --warehouse: AIRFLOW_CONN_DTKS_WAREHOUSE if set, else the embedded
SQLite warehouse.

Keep passwords off the command line, where every local user sees them (ps): give a URL without password
(postgresql+psycopg2://dtks@db.example.go.id/dtks) and let libpq take it from PGPASSWORD or ~/.pgpass,
or set AIRFLOW_CONN_DTKS_WAREHOUSE (e.g. postgres://dtks:PASSWORD@db.example.go.id:5432/dtks) in the
environment instead of --warehouse."""

READ_WAREHOUSE_HELP = """\
Which warehouse: --warehouse URL; else the Airflow connection --warehouse-conn (default dtks_warehouse)
from AIRFLOW_CONN_<ID> or, failing that, from the embedded metadata `dtks run` stored it in; else the
embedded SQLite warehouse.

Keep passwords off the command line, where every local user sees them (ps): give a URL without password
and let libpq take it from PGPASSWORD or ~/.pgpass, or use a connection (--warehouse-conn,
AIRFLOW_CONN_<ID>)."""


def _warehouse_arguments(p: argparse.ArgumentParser, url_help: str = "SQLAlchemy URL, without password") -> None:
    p.add_argument("--warehouse", help=url_help)
    p.add_argument("--warehouse-conn", help="Airflow connection id of the warehouse (default dtks_warehouse)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dtks", description="Quarterly DTKS cleansing pipeline.")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="generate a synthetic quarter with ground truth")
    p.add_argument("--landing", required=True)
    p.add_argument("--quarter", required=True)
    p.add_argument("--kab", action="append", help="kabupaten/kota code, e.g. 5203 (repeatable)")
    p.add_argument("--persons", type=int, default=100_000, help="Dukcapil persons in total")
    p.add_argument("--seed", type=int, default=20260701)
    p.add_argument("--rate", action="append", default=[], help="error rate override, e.g. name_typo=0.05")
    p.add_argument("--xlsx-share", type=float)
    p.add_argument(
        "--moved-kabupaten-rate",
        type=float,
        help="share of families Dukcapil lists in another kabupaten than the one submitting them (several --kab)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing quarter under --landing")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser(
        "run",
        help="run the quarterly DAG through Airflow",
        description=RUN_WAREHOUSE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--landing", required=True)
    p.add_argument("--quarter", required=True)
    p.add_argument(
        "--warehouse",
        help="SQLAlchemy URL, stored as the run's Airflow connection; default: an embedded SQLite file. "
        "Leave the password out (PGPASSWORD, ~/.pgpass)",
    )
    p.add_argument("--warehouse-conn", help="Airflow connection id of the warehouse (default dtks_warehouse)")
    p.add_argument("--reports", help="reports directory")
    p.add_argument("--work", help="work directory for intermediate files")
    p.add_argument("--config", help="JSON file with setting overrides")
    p.add_argument("--airflow-url", help="run on this Airflow deployment (REST API v2), e.g. http://127.0.0.1:8080")
    p.add_argument("--user", default="admin", help="the deployment's login (with --airflow-url)")
    p.add_argument(
        "--password", help="its password (visible in ps: prefer the environment variable DTKS_AIRFLOW_PASSWORD)"
    )
    p.set_defaults(func=cmd_run)

    _airflow_parser(sub)

    p = sub.add_parser(
        "evaluate",
        help="grade a published quarter against the generator's ground truth",
        description=READ_WAREHOUSE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--landing", required=True)
    p.add_argument("--quarter", required=True)
    _warehouse_arguments(p)
    p.add_argument("--json", help="also write the full result as JSON")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "trace",
        help="the whole chain behind a published record, for auditors",
        description=READ_WAREHOUSE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quarter", required=True)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--nik", help="every row linked to, or submitting, this NIK")
    which.add_argument(
        "--source-file",
        help="a village file: its name (5203012001.csv), its path in the landing area, or its absolute path",
    )
    p.add_argument("--source-row", type=int, help="the data row in --source-file (1 = the first after the header)")
    _warehouse_arguments(p)
    p.add_argument("--mask", action="store_true", help="mask every personal field (for screenshots and tickets)")
    p.add_argument("--no-input", action="store_true", help="do not re-read the input files from the landing area")
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (Bahasa Indonesia, to read) or json (schema dtks-trace/1, for audit working papers)",
    )
    p.set_defaults(func=cmd_trace)

    p = sub.add_parser(
        "grant-auditor",
        help="create a read-only role (and login) for auditors on PostgreSQL",
        description=READ_WAREHOUSE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _warehouse_arguments(
        p, "postgresql+psycopg2:// URL of a role that may create roles (its password in ~/.pgpass or PGPASSWORD)"
    )
    p.add_argument("--role", default="dtks_auditor")
    p.add_argument("--login", help="also create this login role, member of --role")
    secret = p.add_mutually_exclusive_group()
    secret.add_argument("--password-env", help="name of the environment variable holding the login's password")
    secret.add_argument("--no-password", action="store_true", help="set no password (certificate or peer login)")
    p.add_argument(
        "--publisher",
        action="append",
        default=[],
        help="role that creates the warehouse's tables (repeatable; default: the owners of schema dtks)",
    )
    p.add_argument(
        "--revoke-public-connect",
        action="append",
        default=[],
        metavar="DATABASE",
        help="revoke PUBLIC's CONNECT on this other database of the server (changes it for every role; repeatable)",
    )
    p.set_defaults(func=cmd_grant_auditor)

    p = sub.add_parser("demo", help="synthetic quarter end to end on embedded SQLite")
    p.add_argument("--dir", default="demo")
    p.add_argument("--quarter", default="2026Q3")
    p.add_argument("--persons", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=20260701)
    p.add_argument("--regenerate", action="store_true")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("config", help="the effective run settings, checked (or the settings table, the schema)")
    p.add_argument("what", nargs="?", choices=("show", "doc", "schema"), default="show")
    p.add_argument("--config", help="JSON file with setting overrides, as `dtks run --config` takes")
    p.set_defaults(func=cmd_config)
    return parser


def _airflow_parser(sub: Any) -> None:
    from pipelines.deploy.settings import DEFAULT_BROKER, DEFAULT_PORT, DEFAULT_USER, EXECUTORS, LOCAL_EXECUTOR

    airflow = sub.add_parser("airflow", help="a local Airflow deployment: start, stop").add_subparsers(
        dest="action", required=True
    )
    p = airflow.add_parser(
        "start",
        help="start api-server, scheduler, dag-processor, triggerer (and Celery workers) as local processes",
    )
    p.add_argument("--home", required=True, help="folder of the deployment: metadata, secrets, logs, work")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--executor", choices=EXECUTORS, default=LOCAL_EXECUTOR)
    p.add_argument("--workers", type=int, default=2, help="Celery workers (CeleryExecutor)")
    p.add_argument("--concurrency", type=int, default=2, help="task slots per Celery worker")
    p.add_argument("--metadata", help="metadata database URL (PostgreSQL for CeleryExecutor; default SQLite)")
    p.add_argument("--broker", default=DEFAULT_BROKER, help="Celery broker (Redis) URL")
    p.add_argument("--warehouse", help="warehouse URL, stored as connection dtks_warehouse (default SQLite)")
    p.add_argument("--landing", help="landing root of scheduled runs (DTKS_LANDING)")
    p.add_argument("--user", default=DEFAULT_USER, help="admin login of the UI and API")
    p.add_argument("--password", help="its password (default: generated into <home>/airflow/admin_password)")
    p.add_argument(
        "--no-timetable",
        action="store_true",
        help="create no scheduled runs (manual runs and backfills only; tests)",
    )
    p.set_defaults(func=cmd_airflow_start)
    p = airflow.add_parser("stop", help="stop the processes `dtks airflow start` started under --home")
    p.add_argument("--home", required=True)
    p.set_defaults(func=cmd_airflow_stop)


def cmd_airflow_start(args: argparse.Namespace) -> int:
    from pipelines.deploy.control import DeployError, start
    from pipelines.deploy.settings import Deployment

    _warn_if_password(args.warehouse)
    try:
        deployment = Deployment(
            home=Path(args.home).resolve(),
            port=args.port,
            executor=args.executor,
            workers=args.workers,
            concurrency=args.concurrency,
            metadata=args.metadata,
            broker=args.broker,
            warehouse=args.warehouse,
            user=args.user,
            landing=Path(args.landing).resolve() if args.landing else None,
            follow_timetable=not args.no_timetable,
        )
        started = start(deployment, args.password)
    except (ValueError, DeployError) as exc:
        print(mask_text(f"dtks airflow start: {exc}"), file=sys.stderr)
        return 2
    password_note = "" if args.password else f" (kept in {deployment.airflow_home / 'admin_password'})"
    print(f"Airflow is up in {started.seconds:.0f} s ({args.executor}); dtks_quarterly is parsed and unpaused.")
    print(f"  UI:    {started.url}")
    print(f"  login: {started.user} / {started.password}{password_note}")
    print(f"  logs:  {deployment.logs}/<process>.log; task logs under {deployment.airflow_home / 'logs'}")
    print(f"  run:   DTKS_AIRFLOW_PASSWORD=... dtks run --airflow-url {started.url} --landing DIR --quarter Q")
    print(f"  stop:  dtks airflow stop --home {deployment.home}")
    return 0


def cmd_airflow_stop(args: argparse.Namespace) -> int:
    from pipelines.deploy.control import DeployError, stop

    try:
        ended = stop(Path(args.home).resolve())
    except DeployError as exc:
        print(f"dtks airflow stop: {exc}", file=sys.stderr)
        return 1
    print(f"Stopped {', '.join(ended)}." if ended else f"Nothing was running under {args.home}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
