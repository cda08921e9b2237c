"""HTML pages: one Jinja2 environment, the headers every admin page carries, error pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from jiraguard.errors import JiraError

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    # Scripts and styles from /admin/static only: no inline script, so an injected one cannot
    # run even if escaping were missed somewhere.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def path_breaks(path: object) -> Markup:
    """A request path, escaped, that a narrow column wraps after a ``/``, ``?`` or ``&``
    (``<wbr>``) instead of in the middle of a word."""
    text = str(path or "")
    out = []
    for char in text:
        out.append(escape(char))
        if char in "/?&":
            out.append(Markup("<wbr>"))
    return Markup("").join(out)


_env.filters["path_breaks"] = path_breaks


class PageError(JiraError):
    """A refusal shown to a person as a page instead of Jira's JSON: 400 (bad input), 403
    (not allowed), 404."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, [message])


def secure_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def page(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> Response:
    """Render ``template`` with ``context`` plus ``request`` and the session (when logged in)."""
    values = {"request": request, "admin": request.scope.get("jiraguard.admin"), **(context or {})}
    html = _env.get_template(template).render(values)
    return secure_headers(HTMLResponse(html, status_code=status))


def error_page(request: Request, status: int, message: str) -> Response:
    return page(request, "error.html", {"status": status, "message": message}, status)
