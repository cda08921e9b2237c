"""What the authentication step found out about a request, for everyone after it.

The auth middleware fills a :class:`RequestNote` once per request: whether the path is
protected, the client's address (``server.trusted_proxies`` applied), and its verdict. The
observation middleware outside it (request log, metrics) and the routes and the gateway's
proxy inside it read the note instead of deciding again. A mutable holder in the scope, so it
reaches the outer middleware even when a middleware in between passed a copy of the scope on.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import Scope

from jiraguard.auth.principal import Principal

NOTE = "jiraguard.note"
"""Scope key of the request's :class:`RequestNote`."""


@dataclass(slots=True)
class RequestNote:
    protected: bool | None = None
    """Whether the path is under ``auth.protected_paths``; None until the auth step ran."""
    client: str | None = None
    """The client's address as the auth step resolved it (None when it did not need it)."""
    allowed: bool | None = None
    """The verdict; None when nothing was decided (a path that needs no credentials)."""
    principal: Principal | None = None
    """The principal, when the credentials were accepted (even if the request was refused)."""
    username: str | None = None
    reason: str | None = None
    """Why the request was refused."""

    def accept(self, principal: Principal) -> None:
        self.allowed, self.principal, self.username = True, principal, principal.username

    def refuse(self, reason: str, username: str | None, principal: Principal | None) -> None:
        self.allowed, self.reason, self.username, self.principal = (
            False,
            reason,
            username,
            principal,
        )


def note_of(scope: Scope) -> RequestNote:
    """The request's note, put in the scope here when no outer middleware did."""
    note: RequestNote | None = scope.get(NOTE)
    if note is None:
        note = scope[NOTE] = RequestNote()
    return note
