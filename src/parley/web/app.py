"""`parley serve`: a thin web face over the same services as the CLI.

Every page has a JSON twin built by the same view: ``/status`` renders HTML,
``/status.json`` the data.  One exception handler turns a ParleyError into the
JSON error shape ``{"error": {"type", "message", "hint"}}`` (or a page).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from parley.errors import InputError, ParleyError, WorkspaceError
from parley.store.workspace import Workspace

_STYLE = """body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#1b1f24}
table{border-collapse:collapse;margin:1rem 0}td,th{padding:.3rem .7rem;border-bottom:1px solid #dde}
th{text-align:left;background:#f4f6f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
nav a{margin-right:1rem}.err{color:#a40000}"""


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def _cell(value: Any) -> str:
    numeric = isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
    text = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else ("" if value is None else str(value))
    return f'<td class="n">{html.escape(text)}</td>' if numeric else f"<td>{html.escape(text)}</td>"


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "<p>Nothing yet.</p>"
    cols = list(rows[0].keys())
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(_cell(r.get(c)) for c in cols) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _page(title: str, body: str) -> HTMLResponse:
    nav = '<nav><a href="/status">Status</a><a href="/problems">Problems</a><a href="/tables">Tables</a></nav>'
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)} - Parley</title>"
        f"<style>{_STYLE}</style></head><body>{nav}<h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def create_app(workspace: Workspace) -> FastAPI:
    """The web app for one workspace (no import-time state)."""
    app = FastAPI(title="Parley", version="0.1.0")

    def view(path: str, title: str, render: Callable[[Any], str]) -> Callable[[Callable[..., Any]], Any]:
        def register(fetch: Callable[..., Any]) -> Any:
            async def as_json(request: Request) -> Response:
                return JSONResponse(_plain(fetch(dict(request.query_params))))

            async def as_html(request: Request) -> Response:
                return _page(title, render(fetch(dict(request.query_params))))

            app.add_api_route(f"{path}.json", as_json, methods=["GET"], name=f"{path}-json")
            app.add_api_route(path, as_html, methods=["GET"], name=path, response_class=HTMLResponse)
            return fetch

        return register

    @view("/status", "Workspace", lambda s: _table([{k: v for k, v in s.items() if k != "by_payer"}]) + "<h2>By payer</h2>" + _table(s["by_payer"]))
    def status(params: dict[str, str]) -> dict[str, Any]:
        from parley.services.summary import workspace_summary

        return workspace_summary(workspace=workspace)

    @view("/problems", "Problems", _table)
    def problems(params: dict[str, str]) -> list[dict[str, Any]]:
        from parley.services.summary import list_problems

        try:
            limit = int(params.get("limit", "100"))
        except ValueError as exc:
            raise InputError("limit must be a whole number") from exc
        return list_problems(workspace=workspace, severity=params.get("severity"), file=params.get("file"), limit=limit)

    @view("/tables", "Canonical tables", _table)
    def tables(params: dict[str, str]) -> list[dict[str, Any]]:
        from parley.store.tables import ALL_TABLES

        return [{"table": t.name, "columns": len(t.schema), "meaning": t.doc} for t in ALL_TABLES.values()]

    @app.get("/", include_in_schema=False)
    async def home() -> Response:
        return Response(status_code=307, headers={"location": "/status"})

    @app.exception_handler(ParleyError)
    async def on_error(request: Request, exc: ParleyError) -> Response:
        code = 400 if isinstance(exc, InputError) else 404 if isinstance(exc, WorkspaceError) else 500
        message = str(exc).split("\n  hint:")[0]
        if request.url.path.endswith(".json"):
            return JSONResponse(
                {"error": {"type": type(exc).__name__, "message": message, "hint": exc.hint}}, status_code=code
            )
        page = _page("Error", f'<p class="err">{html.escape(message)}</p><p>{html.escape(exc.hint or "")}</p>')
        page.status_code = code
        return page

    return app
