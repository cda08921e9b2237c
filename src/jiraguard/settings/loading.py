"""Reading the configuration: a TOML file, then ``JIRAGUARD_SECTION__KEY`` variables."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from jiraguard.settings.sections import Settings
from jiraguard.untrusted import is_digits

ENV_PREFIX = "JIRAGUARD_"
ENV_CONFIG_PATH = "JIRAGUARD_CONFIG"


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` lists every error as ``path: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))
        self.problems = problems


def _env_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _named(entry: dict[str, Any], name: str) -> bool:
    return str(entry.get("name", "")).lower() == name


def _set_path(data: dict[str, Any], path: list[str], value: Any) -> None:
    """Set ``value`` at ``path``, where a provider entry is addressed by name or index."""
    head, rest = path[0], path[1:]
    if head == "providers" and rest and len(rest) > 1:
        providers = data.setdefault("providers", [])
        if not isinstance(providers, list):
            return
        selector = rest[0]
        entry = next(
            (
                p
                for p in providers
                if isinstance(p, dict) and str(p.get("name", "")).lower() == selector
            ),
            None,
        )
        if (
            entry is None
            and is_digits(selector)
            and len(selector) < 6
            and int(selector) < len(providers)
        ):
            entry = providers[int(selector)]
        if entry is None:
            entry = {"name": selector}
            providers.append(entry)
        _set_path(entry, rest[1:], value)
        return
    if not rest:
        data[head] = value
        return
    child = data.setdefault(head, {})
    if isinstance(child, dict):
        _set_path(child, rest, value)


def apply_environment(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Overlay ``JIRAGUARD_SECTION__KEY`` variables onto the file's data.

    Only names with a ``__`` separator are configuration; other ``JIRAGUARD_*`` variables
    (``JIRAGUARD_CONFIG``, a test flag) are not keys and are left alone.
    """
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__") if part]
        if path:
            _set_path(data, path, _env_value(environ[name]))
    return data


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not part.startswith(("function-", "model-")):
            out += f".{part}" if out else part
    return out or "(top level)"


def validate_settings(data: Mapping[str, Any]) -> Settings:
    """Validate a configuration mapping, reporting every problem at once."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False, include_input=False):
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            problems.append(f"{_location(error['loc'])}: {message}")
        raise ConfigError(problems) from exc


def load_settings(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the TOML file (``path`` or ``$JIRAGUARD_CONFIG``; none means defaults) and the
    environment, and validate the result."""
    env = os.environ if environ is None else environ
    return validate_settings(apply_environment(read_config_file(config_path(path, env)), env))


def config_path(path: str | Path | None, environ: Mapping[str, str]) -> Path | None:
    """The configuration file to read: ``path``, else ``$JIRAGUARD_CONFIG``, else none."""
    chosen = path if path is not None else environ.get(ENV_CONFIG_PATH)
    return Path(chosen) if chosen else None


def read_config_file(path: Path | None) -> dict[str, Any]:
    """The TOML file's data (empty without a file); ConfigError when it cannot be read."""
    if path is None:
        return {}
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from exc
