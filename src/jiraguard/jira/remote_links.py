"""A remote link as a request gives it, checked as Jira checks it, and as it is shown.

A link is ``{globalId?, application?: {type?, name?}, relationship?, object: {url, title,
summary?, icon?: {url16x16?, title?}, status?: {resolved?, icon?: {url16x16?, title?,
link?}}}}``. ``object.url`` and ``object.title`` are required (not blank); the URLs must be
URIs; the short texts fit Jira's 255-character columns. Errors are reported under Jira's
names for the members (``url``, ``title``, ``iconUrl``, ``statusIconUrl``…).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlsplit

from jiraguard.errors import field_errors
from jiraguard.jira.views import API
from jiraguard.store.models import RemoteLink

MAX_TEXT = 255
_NOT_IN_URI = frozenset(' \t\r\n<>"{}|\\^`')


def _member(value: dict[str, Any], name: str, error: str, errors: dict[str, str]) -> dict[str, Any]:
    found = value.get(name)
    if found is None:
        return {}
    if not isinstance(found, dict):
        errors[error] = f"'{name}' must be a JSON object."
        return {}
    return found


def _text(
    value: dict[str, Any],
    name: str,
    error: str,
    errors: dict[str, str],
    *,
    limit: int | None = MAX_TEXT,
) -> str | None:
    found = value.get(name)
    if found is None:
        return None
    if not isinstance(found, str):
        errors[error] = f"'{error}' must be a string."
        return None
    if limit is not None and len(found) > limit:
        errors[error] = f"'{error}' must not be longer than {limit} characters."
        return None
    return found


def is_uri(text: str) -> bool:
    """Whether ``text`` parses as a URI (what Java's ``URI`` accepts, roughly: no spaces,
    control characters or the characters RFC 3986 excludes)."""
    if any(c in _NOT_IN_URI or ord(c) < 32 or ord(c) == 127 for c in text):
        return False
    try:
        urlsplit(text)
    except ValueError:  # an unbalanced IPv6 bracket
        return False
    return True


def _uri(value: dict[str, Any], name: str, error: str, errors: dict[str, str]) -> str | None:
    found = _text(value, name, error, errors, limit=None)
    if found and not is_uri(found):
        errors[error] = f"'{error}' is not a valid URI."
        return None
    return found


def _present(**members: Any) -> dict[str, Any]:
    return {name: value for name, value in members.items() if value is not None}


def read_link(body: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """``(globalId, document)`` of a create or update body, or Jira's 400 with every
    problem. The document is what :func:`remote_link_json` shows besides id and self."""
    errors: dict[str, str] = {}
    global_id = _text(body, "globalId", "globalId", errors)
    application = _member(body, "application", "application", errors)
    relationship = _text(body, "relationship", "relationship", errors)
    target = _member(body, "object", "object", errors)
    url = _text(target, "url", "url", errors, limit=None)
    title = _text(target, "title", "title", errors)
    for name, value in (("url", url), ("title", title)):
        if name not in errors and not (value and value.strip()):
            errors[name] = f"'{name}' is required."
    if url and url.strip() and not is_uri(url):
        errors["url"] = "'url' is not a valid URI."
    icon = _member(target, "icon", "icon", errors)
    status = _member(target, "status", "status", errors)
    status_icon = _member(status, "icon", "statusIcon", errors)
    resolved = status.get("resolved")
    if resolved is not None and not isinstance(resolved, bool):
        errors["resolved"] = "'resolved' must be true or false."
    document = {
        "application": _present(
            type=_text(application, "type", "applicationType", errors),
            name=_text(application, "name", "applicationName", errors),
        ),
        "relationship": relationship,
        "object": _present(
            url=url,
            title=title,
            summary=_text(target, "summary", "summary", errors, limit=None),
            icon=_present(
                url16x16=_uri(icon, "url16x16", "iconUrl", errors),
                title=_text(icon, "title", "iconTitle", errors),
            ),
            status=_present(
                resolved=resolved,
                icon=_present(
                    url16x16=_uri(status_icon, "url16x16", "statusIconUrl", errors),
                    title=_text(status_icon, "title", "statusIconTitle", errors),
                    link=_uri(status_icon, "link", "statusIconLink", errors),
                ),
            ),
        ),
    }
    if errors:
        raise field_errors(errors)
    return global_id, document


def link_self(base: str, key: str, link_id: int) -> str:
    """A remote link's ``self``: under the issue's key, as Jira writes it."""
    return f"{base}{API}/issue/{quote(key)}/remotelink/{link_id}"


def remote_link_json(base: str, key: str, link: RemoteLink) -> dict[str, Any]:
    """A remote link as ``/issue/{k}/remotelink`` shows it (``id`` is a number in Jira)."""
    document = json.loads(link.document)
    body: dict[str, Any] = {"id": link.id, "self": link_self(base, key, link.id)}
    if link.global_id is not None:
        body["globalId"] = link.global_id
    body["application"] = document["application"]
    if document["relationship"] is not None:
        body["relationship"] = document["relationship"]
    body["object"] = document["object"]
    return body


def link_text(document: dict[str, Any]) -> str:
    """How the changelog names the link: ``This issue links to "title (url)"``, as Jira."""
    target = document["object"]
    return f'This issue links to "{target["title"]} ({target["url"]})"'
