"""First start: an empty user directory gets an administrator and one personal access token.

So that ``./scripts/serve`` followed by one ``curl`` works before any provider is configured.
The token is shown once: on stderr in a box, or written to ``tokens.bootstrap_token_file``
(created with mode 0600, never overwritten) with only the path printed. Several processes
starting together create one administrator: the unique user name decides, the losers stand
down.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from dataclasses import dataclass
from typing import TextIO

from jiraguard.auth.pat import Origin, PersonalAccessTokens
from jiraguard.auth.principal import ADMIN_GROUP
from jiraguard.settings import Settings
from jiraguard.store.db import Database
from jiraguard.store.users import UserDirectory, UserExists, count_users

BOOTSTRAP = Origin(method="BOOTSTRAP", path="jiraguard serve")
TOKEN_NAME = "bootstrap"  # noqa: S105 - the token's label, not a secret


class BootstrapError(Exception):
    """The first start cannot hand out the administrator's token safely."""


@dataclass(frozen=True, slots=True)
class Bootstrapped:
    username: str
    token_id: int
    token_file: str | None


async def bootstrap_admin(
    settings: Settings, db: Database, *, out: TextIO | None = None
) -> Bootstrapped | None:
    """Create the first administrator and its token when the directory is empty.

    Returns None when there are users already (or another process won the race).
    """
    users = UserDirectory(db)
    if not settings.tokens.enabled or await count_users(db) > 0:
        return None
    name = settings.tokens.bootstrap_admin
    path = settings.tokens.bootstrap_token_file
    if path is not None and await asyncio.to_thread(os.path.lexists, path):
        if await count_users(db) > 0:
            return None  # another process bootstrapped since we looked, and wrote the file
        raise _file_exists(path)
    try:
        await users.add(name, display_name="Administrator", groups=[ADMIN_GROUP], admin=True)
    except UserExists:
        return None  # another process is bootstrapping this very moment
    # Only the process that created the administrator touches the file.
    descriptor = None
    if path is not None:
        try:
            # O_EXCL: never overwrite (or follow a planted symlink to) an existing file.
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError as exc:
            raise _file_exists(path) from exc
        except OSError as exc:
            raise BootstrapError(f"cannot create {path}: {exc.strerror}") from exc
    try:
        tokens = PersonalAccessTokens(db, settings.tokens, audit=settings.audit.enabled)
        issued = await tokens.create(name, TOKEN_NAME, None, actor=name, origin=BOOTSTRAP)
        if descriptor is not None:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                descriptor = None
                handle.write(issued.raw + "\n")
        url = settings.server.public_url + "/rest/api/2/myself"
        _announce(name, issued.raw if path is None else None, path, url, out or sys.stderr)
        return Bootstrapped(name, issued.record.id, path)
    finally:
        if descriptor is not None:  # nothing was written: leave no empty file behind
            os.close(descriptor)
            with contextlib.suppress(OSError):
                os.unlink(path or "")


def _file_exists(path: str) -> BootstrapError:
    return BootstrapError(
        f"tokens.bootstrap_token_file {path} exists already; move it away and start again"
    )


def _announce(name: str, token: str | None, path: str | None, url: str, out: TextIO) -> None:
    lines = [f"jiraguard: first start: administrator '{name}' created;"]
    if token is not None:
        lines += ["its personal access token (shown once):", "", f"  {token}", ""]
    else:
        lines += [f"its personal access token was written to {path} (mode 0600)."]
    lines += [
        "Try it:",
        f'  curl -H "Authorization: Bearer <token>" {url}',
    ]
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    out.write("\n".join([rule, *(f"| {line.ljust(width)} |" for line in lines), rule]) + "\n")
    out.flush()
