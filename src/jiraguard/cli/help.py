"""Help texts in the usual command-line style: ``NAME``, ``TEXT``, ``INTEGER``; flags bare.

The installed typer labels every parameter with its Python type (``<bool>``, ``<str>``,
``{name}``), which reads as a placeholder to fill in even for a flag that takes no value.
"""

from __future__ import annotations

import re
from typing import Any

from typer import core

_WORDS = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "path": "PATH", "bool": ""}


def _label(typed: str) -> str:
    inner = typed.strip("<>")
    listed = re.fullmatch(r"list\[(.*)\]", inner)
    if listed:
        inner = listed.group(1)
    if "|" in inner:
        return inner
    return _WORDS.get(inner, inner.upper())


def install() -> None:
    """Replace the type labels of typer's parameters (once, idempotent)."""
    if getattr(core, "_jiraguard_help", False):
        return
    parameter: Any = core._TyperParameter
    original = parameter.display_type

    def display_type(self: Any, ctx: Any) -> str:
        if getattr(self, "is_flag", False):
            return ""
        return _label(str(original(self, ctx)))

    def usage_name(self: Any) -> str:
        name = str(self.display_name_raw).upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    def rich_name(self: Any) -> str:
        return str(self.display_name_raw).upper() + ("..." if self.nargs != 1 else "")

    parameter.display_type = display_type
    argument: Any = core.TyperArgument
    argument._usage_display_name = usage_name
    argument._rich_display_name = rich_name
    core._jiraguard_help = True  # type: ignore[attr-defined]
