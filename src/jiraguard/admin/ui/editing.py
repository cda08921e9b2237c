"""Changing the managed configuration from the UI, through
:class:`~jiraguard.config_store.ConfigStore`.

The UI edits what the file and the saved document say (never the environment's values, so a
secret given as an environment variable is not copied into the database). A section saved
from the UI replaces (lists) or overrides (tables) the file's; see ``jiraguard.config_store``.
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request

from jiraguard.admin.common import services
from jiraguard.admin.ui.session import AdminUser, client_ip
from jiraguard.settings import Settings


async def editable(request: Request, section: str) -> Any:
    """The section as the UI edits it: the saved document's, else the file's."""
    config = services(request).config
    overlay = await config.overlay()
    if section in overlay:
        return copy.deepcopy(overlay[section])
    default: Any = [] if section in ("providers", "rules") else {}
    return copy.deepcopy(config.file_data.get(section, default))


async def save_section(request: Request, admin: AdminUser, section: str, value: Any) -> Settings:
    """Save ``section`` = ``value`` (validated with everything else; ConfigError if not)."""
    config = services(request).config
    overlay = await config.overlay()
    overlay[section] = value
    return await config.save(overlay, actor=admin.username, client=client_ip(request))


def split_list(value: object) -> list[str]:
    """A form's comma- or newline-separated list."""
    text = str(value or "")
    return [item.strip() for item in text.replace("\n", ",").split(",") if item.strip()]
