"""Jira's JSON shapes, built from our records (see shared/jira-rest-compat.md §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

API = "/rest/api/2"


def jira_datetime(moment: datetime) -> str:
    """Jira's date-time format, ``yyyy-MM-dd'T'HH:mm:ss.SSSZ`` (e.g. ``…T12:00:00.000+0000``)."""
    return (
        moment.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}"
        + moment.strftime("%z")
    )


def avatar_urls(base_url: str, username: str) -> dict[str, str]:
    url = f"{base_url}/secure/useravatar?ownerId={quote(username)}"
    return {size: f"{url}&size={size}" for size in ("48x48", "24x24", "16x16", "32x32")}


def user_json(
    base_url: str,
    *,
    name: str,
    key: str,
    display_name: str,
    email: str,
    active: bool = True,
) -> dict[str, Any]:
    """A Jira user object (``self`` matches the ``user?username=`` pattern clients look for)."""
    return {
        "self": f"{base_url}{API}/user?username={quote(name)}",
        "key": key,
        "name": name,
        "emailAddress": email,
        "avatarUrls": avatar_urls(base_url, name),
        "displayName": display_name,
        "active": active,
        "timeZone": "UTC",
    }
