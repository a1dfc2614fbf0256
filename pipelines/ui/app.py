"""The plugin's FastAPI app (contract section 2.2), mounted by Airflow's api-server under `/dtks`.

Airflow does not authenticate a plugin's app: every route here depends on `Access.user`, which the plugin
wires to Airflow's own `get_user` (the JWT of the `Authorization: Bearer` header or of the UI's `_token`
cookie, checked by the auth manager): none means 401, a bad one 403. The user must then be allowed to read
`dtks_quarterly`'s runs (`Access.can_read`), and personal data (the unmasked trace, the Dinsos workbooks and
village files) needs the permission `Access.can_unmask` checks. Data Docs and HTML summaries hold counts only.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy import Engine

from pipelines.trace import TraceError
from pipelines.ui import pages
from pipelines.ui.quarters import published_quarters
from pipelines.ui.runs import RunNotFound, data_docs, published_reports, run_record, run_view, task_target
from pipelines.ui.tracing import Question, answer

URL_PREFIX: Final = "/dtks"
DAG_ID: Final = "dtks_quarterly"  # the runs this app describes
# Files with personal data: only for users holding the unmask permission.
PERSONAL_SUFFIXES: Final = frozenset({".xlsx", ".xls", ".csv", ".pdf", ".eml"})
NO_STORE: Final = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class Access:
    """How the app knows its user: `user` is a FastAPI dependency giving the authenticated user (raising
    401/403 otherwise); `can_read` and `can_unmask` ask the auth manager about that user."""

    user: Callable[..., Any]
    can_read: Callable[[Any], bool]
    can_unmask: Callable[[Any], bool]


def create_app(warehouse: Callable[[], Engine], access: Access) -> FastAPI:
    """The app, on the warehouse `warehouse()` returns (called per request: it may be looked up lazily)."""
    app = FastAPI(title="DTKS", description="Hasil proses DTKS dan penelusuran data", docs_url=None, redoc_url=None)

    def reader(user: Annotated[Any, Depends(access.user)]) -> Any:
        if not access.can_read(user):
            raise HTTPException(403, "Tidak berwenang membaca proses dtks_quarterly.")
        return user

    User = Annotated[Any, Depends(reader)]

    def base(request: Request) -> str:
        return str(request.scope.get("root_path") or "").rstrip("/")

    def engine() -> Engine:
        try:
            return warehouse()
        except Exception as exc:  # no connection yet, or one that names no usable warehouse
            from pipelines.warehouse.connection import redact

            message = redact(f"{type(exc).__name__}: {exc}")
            raise HTTPException(503, f"Gudang data tidak dapat dibuka ({message}).") from None

    def summary_of(run_id: str):
        try:
            return run_view(engine(), run_id)
        except RunNotFound:
            raise HTTPException(404, f"Proses {run_id} tidak ada di gudang data.") from None

    @app.get("/api/runs/{run_id}")
    def api_run(run_id: str, user: User) -> JSONResponse:
        return JSONResponse(summary_of(run_id)[0], headers=NO_STORE)

    @app.get("/api/quarters")
    def api_quarters(user: User) -> JSONResponse:
        return JSONResponse(published_quarters(engine()), headers=NO_STORE)

    def trace_question(
        quarter: str, nik: str | None, source_file: str | None, source_row: int | None, unmask: bool, user: Any
    ) -> tuple[Question, bool]:
        if unmask and not access.can_unmask(user):
            raise HTTPException(403, "Tidak berwenang membuka data pribadi: diperlukan peran DTKS Pemeriksa.")
        return Question(quarter, nik or None, source_file or None, source_row), unmask

    @app.get("/api/trace")
    def api_trace(
        user: User,
        quarter: str,
        nik: str | None = None,
        source_file: str | None = None,
        source_row: Annotated[int | None, Query(ge=1)] = None,
        unmask: bool = False,
    ) -> JSONResponse:
        question, unmasked = trace_question(quarter, nik, source_file, source_row, unmask, user)
        try:
            document, _ = answer(engine(), question, unmask=unmasked)
        except TraceError as exc:
            raise HTTPException(404, str(exc)) from None
        return JSONResponse(document, headers=NO_STORE)

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request, user: User) -> HTMLResponse:
        return HTMLResponse(pages.quarters_page(published_quarters(engine()), base(request)), headers=NO_STORE)

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_html(run_id: str, request: Request, user: User, dag_id: str | None = None) -> HTMLResponse:
        if dag_id not in (None, DAG_ID):  # the DAG-run view shows this tab on every DAG's runs
            return HTMLResponse(pages.not_dtks_page(base(request), dag_id), headers=NO_STORE)
        try:
            summary, info = run_view(engine(), run_id)
        except RunNotFound:  # still running, or stopped before it could record its attempt
            return HTMLResponse(pages.unknown_run_page(base(request), run_id), status_code=404, headers=NO_STORE)
        return HTMLResponse(pages.run_page(summary, info, base(request)), headers=NO_STORE)

    def trace_response(request: Request, user: Any, asked: dict[str, Any]) -> HTMLResponse:
        quarters = [q["quarter"] for q in published_quarters(engine())]
        may_unmask = access.can_unmask(user)
        if not asked["quarter"] or not (asked["nik"] or asked["source_file"]):
            return HTMLResponse(pages.trace_page(base(request), quarters, asked, may_unmask=may_unmask))
        question, unmasked = trace_question(
            asked["quarter"], asked["nik"], asked["source_file"], asked["source_row"], asked["unmask"], user
        )
        try:
            document, text = answer(engine(), question, unmask=unmasked)
        except TraceError as exc:
            page = pages.trace_page(base(request), quarters, asked, may_unmask=may_unmask, error=str(exc))
            return HTMLResponse(page, status_code=404, headers=NO_STORE)
        page = pages.trace_page(base(request), quarters, asked, may_unmask=may_unmask, text=text, document=document)
        return HTMLResponse(page, headers=NO_STORE)

    def asked_of(quarter, nik, source_file, source_row, unmask) -> dict[str, Any]:
        row = int(source_row) if source_row and str(source_row).isdigit() else None
        return {"quarter": quarter, "nik": nik, "source_file": source_file, "source_row": row, "unmask": unmask}

    @app.get("/trace", response_class=HTMLResponse)
    def trace_html(
        request: Request,
        user: User,
        quarter: str | None = None,
        nik: str | None = None,
        source_file: str | None = None,
        source_row: str | None = None,
        unmask: bool = False,
    ) -> HTMLResponse:
        return trace_response(request, user, asked_of(quarter, nik, source_file, source_row, unmask))

    @app.post("/trace", response_class=HTMLResponse)
    def trace_form(
        request: Request,
        user: User,
        quarter: Annotated[str | None, Form()] = None,
        nik: Annotated[str | None, Form()] = None,
        source_file: Annotated[str | None, Form()] = None,
        source_row: Annotated[str | None, Form()] = None,
        unmask: Annotated[bool, Form()] = False,
    ) -> HTMLResponse:
        """The page's own form posts here: a NIK in a form's body stays out of URLs, access logs and the
        browser's history."""
        return trace_response(request, user, asked_of(quarter, nik, source_file, source_row, unmask))

    def record_of(run_id: str) -> dict[str, Any]:
        try:
            return run_record(engine(), run_id)
        except RunNotFound:
            raise HTTPException(404, f"Proses {run_id} tidak ada di gudang data.") from None

    @app.get("/runs/{run_id}/data-docs/{kode_kab}/{path:path}")
    def data_docs_file(run_id: str, kode_kab: str, path: str, user: User) -> FileResponse:
        index = data_docs(record_of(run_id)).get(kode_kab)
        if index is None:
            raise HTTPException(404, "Data Docs kabupaten/kota ini tidak ada (lagi) di folder kerja proses.")
        return _file_under(Path(index).parent, path or "index.html")

    @app.get("/runs/{run_id}/reports/{path:path}")
    def report_file(run_id: str, path: str, user: User) -> FileResponse:
        reports = published_reports(record_of(run_id))
        if path not in reports["files"]:
            raise HTTPException(404, "Berkas ini tidak termasuk laporan yang diterbitkan proses ini.")
        if PurePosixPath(path).suffix.lower() in PERSONAL_SUFFIXES and not access.can_unmask(user):
            raise HTTPException(403, "Berkas ini memuat data pribadi: diperlukan peran DTKS Pemeriksa.")
        return _file_under(Path(reports["directory"]), path)

    @app.get("/runs/{run_id}/tasks/{task_id}/{map_index}")
    def task_link(run_id: str, task_id: str, map_index: int, request: Request, user: User) -> RedirectResponse:
        """Where a task's extra link lands: its kabupaten's Data Docs, or its workbook."""
        target = task_target(record_of(run_id), task_id, map_index)
        if target is None:
            raise HTTPException(404, "Belum ada yang dapat dibuka untuk tugas ini (proses belum diterbitkan?).")
        kind, what = target
        run = pages.run_url(base(request), run_id)
        url = f"{run}/data-docs/{what}/index.html" if kind == "data-docs" else f"{run}/reports/{what}"
        return RedirectResponse(url, status_code=307)

    return app


def _file_under(root: Path, relative: str) -> FileResponse:
    """A regular file inside `root`, never through `..` or a symlink out of it."""
    root = root.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise HTTPException(404, "Berkas tidak ada.")
    return FileResponse(target, headers=NO_STORE)
