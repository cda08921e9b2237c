"""Attachments: upload (multipart field ``file``), metadata, download, delete.

The ``X-Atlassian-Token`` header is not required (docs/jira-compat.md rule 2 lets both spellings
through; we need neither, since bearer tokens are not sent by browsers on their own). The
whole upload counts against ``server.max_body_bytes`` (413 past it). Downloads live under
``/rest/api/2/attachment/content/{id}`` so the authentication middleware guards them.
"""

from __future__ import annotations

import mimetypes
import re
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message

from jiraguard.errors import bad_request, not_found
from jiraguard.jira.context import acting_user, base_url, database, issue_or_404
from jiraguard.jira.params import read_body
from jiraguard.jira.views import attachment_json
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.attachments import attachment_content, attachment_meta, attachments_of
from jiraguard.store.ids import row_id
from jiraguard.store.issues import Change, record_changes
from jiraguard.store.models import Attachment

MAX_FILES = 100
OCTET_STREAM = "application/octet-stream"
_MIME = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$"
)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def safe_filename(name: str) -> str:
    """The client's file name without path separators or control characters (so it can
    neither climb directories nor break a ``Content-Disposition`` header)."""
    cleaned = _UNSAFE.sub("_", name).strip()
    return cleaned[:255] or "attachment"


def _mime_type(declared: str | None, name: str) -> str:
    """The part's declared type when it is a plain ``type/subtype``; else a guess from the
    name. Parameters and anything odd are dropped: the value becomes a response header."""
    mime = (declared or "").split(";")[0].strip()
    if _MIME.match(mime):
        return mime.lower()
    return mimetypes.guess_type(name)[0] or OCTET_STREAM


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact UTF-8 one (RFC 6266 §4.3)."""
    fallback = filename.encode("ascii", "replace").decode("ascii").replace('"', "'")
    fallback = fallback.replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def _uploads(request: Request) -> list[tuple[str, str, bytes]]:
    """(filename, mime type, content) of every ``file`` part, within the size limit."""
    raw = await read_body(request)

    async def replay() -> Message:
        """Hand the form parser the body already read (and size-checked)."""
        return {"type": "http.request", "body": raw, "more_body": False}

    form = await Request(request.scope, replay).form(
        max_files=MAX_FILES, max_part_size=len(raw) + 1
    )
    try:
        files = []
        for part in form.getlist("file"):
            if not isinstance(part, UploadFile):
                continue
            name = safe_filename(part.filename or "")
            files.append((name, _mime_type(part.content_type, name), await part.read()))
    finally:
        await form.close()
    if not files:
        raise bad_request("No file was attached (expected a multipart field named 'file').")
    return files


async def upload(request: Request) -> Response:
    """POST /issue/{k}/attachments → 200 with the JSON array of new attachments."""
    files = await _uploads(request)
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        issue = await issue_or_404(session, request.path_params["issue"])
        created = []
        for name, mime, content in files:
            row = Attachment(
                issue_id=issue.id,
                author_id=me.id,
                filename=name,
                mime_type=mime,
                size=len(content),
                content=content,
            )
            session.add(row)
            await session.flush()
            created.append(row.id)
        changes = [
            Change("Attachment", None, None, str(i), f[0])
            for i, f in zip(created, files, strict=True)
        ]
        await record_changes(session, issue, me.id, changes)
    async with database(request).session() as session:
        rows = await attachments_of(session, (), attachment_ids=created)
        base = base_url(request)
        return JiraJSONResponse([attachment_json(base, a, who) for a, who in rows])


async def metadata(request: Request) -> Response:
    """GET /attachment/{id}: the attachment's metadata."""
    wanted = request.path_params["attachment"]
    async with database(request).session() as session:
        ident = row_id(wanted)
        rows = await attachments_of(session, (), attachment_ids=[ident]) if ident else []
        if not rows:
            raise not_found(f"The attachment with id '{wanted}' does not exist")
        return JiraJSONResponse(attachment_json(base_url(request), *rows[0]))


async def content(request: Request) -> Response:
    """GET /attachment/content/{id}: the file, as an attachment download."""
    wanted = request.path_params["attachment"]
    async with database(request).session() as session:
        meta = await attachment_meta(session, wanted)
        data = await attachment_content(session, meta.id) if meta is not None else None
        if meta is None or data is None:
            raise not_found(f"The attachment with id '{wanted}' does not exist")
        filename, mime = meta.filename, meta.mime_type
    return Response(
        data,
        media_type=mime,
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
        },
    )


async def remove(request: Request) -> Response:
    """DELETE /attachment/{id} → 204 (recorded in the changelog)."""
    wanted = request.path_params["attachment"]
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        meta = await attachment_meta(session, wanted)
        if meta is None:
            raise not_found(f"The attachment with id '{wanted}' does not exist")
        issue = await issue_or_404(session, str(meta.issue_id))
        await record_changes(
            session, issue, me.id, [Change("Attachment", str(meta.id), meta.filename, None, None)]
        )
        await session.delete(meta)
    return Response(status_code=204)


routes = [
    Route("/issue/{issue}/attachments", upload, methods=["POST"]),
    Route("/attachment/content/{attachment}", content, methods=["GET"]),
    Route("/attachment/{attachment}", metadata, methods=["GET"]),
    Route("/attachment/{attachment}", remove, methods=["DELETE"]),
]
