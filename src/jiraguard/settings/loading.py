"""Reading the configuration: a TOML file, then ``JIRAGUARD_SECTION__KEY`` variables."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from jiraguard.settings.sections import Settings
from jiraguard.untrusted import is_digits

ENV_PREFIX = "JIRAGUARD_"
ENV_CONFIG_PATH = "JIRAGUARD_CONFIG"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


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


def provider_key(name: str) -> str:
    """How an environment variable names a provider: lower case, ``-`` and ``.`` as ``_``
    (``JIRAGUARD_PROVIDERS__NODE_INTRO__...`` addresses the provider ``node-intro``)."""
    return re.sub(r"[-.]", "_", name.lower())


def environment_paths(environ: Mapping[str, str]) -> list[list[str]]:
    """The configuration paths the environment sets, in the order they are applied."""
    return [path for _, path in environment_entries(environ)]


def environment_entries(environ: Mapping[str, str]) -> list[tuple[str, list[str]]]:
    """``(variable, path)`` for each ``JIRAGUARD_SECTION__KEY`` and each whole section given
    as JSON (``JIRAGUARD_PROVIDERS='[...]'``). Other ``JIRAGUARD_*`` variables
    (``JIRAGUARD_CONFIG``, a test flag) are not keys and are left alone."""
    entries = []
    for name in sorted(environ):  # a whole section sorts before its keys: those apply on it
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :]
        if "__" in rest:
            path = [part.lower() for part in rest.split("__") if part]
        elif rest.lower() in Settings.model_fields:
            path = [rest.lower()]
        else:
            continue
        if path:
            entries.append((name, path))
    return entries


def _provider_entry(
    providers: list[Any], selector: str, variable: str, problems: list[str]
) -> dict[str, Any] | None:
    matches = [
        p
        for p in providers
        if isinstance(p, dict) and provider_key(str(p.get("name", ""))) == selector
    ]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(str(p.get("name")) for p in providers if isinstance(p, dict)) or "none"
    if len(matches) > 1:
        problems.append(f"{variable}: several providers are named like {selector!r} ({names})")
        return None
    if is_digits(selector) and len(selector) < 6 and int(selector) < len(providers):
        entry = providers[int(selector)]
        return entry if isinstance(entry, dict) else None
    problems.append(
        f"{variable}: no provider is named {selector!r} (providers: {names}); an environment "
        "variable changes a provider of the file or the admin UI, it does not add one"
    )
    return None


def _set_path(
    data: dict[str, Any], path: list[str], value: Any, variable: str, problems: list[str]
) -> None:
    """Set ``value`` at ``path``, where a provider entry is addressed by name or index."""
    head, rest = path[0], path[1:]
    if head == "providers" and rest:
        providers = data.get("providers", [])
        if len(rest) == 1 or not isinstance(providers, list):
            problems.append(
                f"{variable}: name a provider and a key (JIRAGUARD_PROVIDERS__<NAME>__<KEY>), "
                "or give the whole list as JIRAGUARD_PROVIDERS='[...]'"
            )
            return
        entry = _provider_entry(providers, rest[0], variable, problems)
        if entry is not None:
            _set_path(entry, rest[1:], value, variable, problems)
        return
    if not rest:
        data[head] = value
        return
    child = data.setdefault(head, {})
    if isinstance(child, dict):
        _set_path(child, rest, value, variable, problems)
    else:
        problems.append(f"{variable}: {head} is not a table")


def _whole_section(name: str, variable: str, value: Any, problems: list[str]) -> bool:
    """Whether ``value`` may replace the section ``name`` as a whole."""
    annotation = str(Settings.model_fields[name].annotation)
    wants_list = annotation.startswith("list")
    if wants_list and not isinstance(value, list):
        problems.append(f"{variable}: must be a JSON array of {name} tables")
        return False
    if not wants_list and not isinstance(value, dict):
        problems.append(f"{variable}: must be a JSON object (or set keys as {variable}__KEY)")
        return False
    return True


def apply_environment(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Overlay the environment onto ``data`` (the file's, or the file and the UI's document).

    ``JIRAGUARD_SECTION__KEY`` sets one key (nested tables with more ``__``);
    ``JIRAGUARD_PROVIDERS__<NAME>__<KEY>`` a key of the provider whose name, in lower case
    with ``-`` and ``.`` read as ``_``, is ``<name>`` (or of the provider at that index); a
    variable naming no provider is refused, never a new provider. ``JIRAGUARD_<SECTION>``
    holding JSON replaces a whole section (``JIRAGUARD_PROVIDERS='[{...}]'``). ConfigError
    lists every variable that cannot be applied.
    """
    problems: list[str] = []
    for variable, path in environment_entries(environ):
        value = _env_value(environ[variable])
        whole = "__" not in variable[len(ENV_PREFIX) :]
        if whole and not _whole_section(path[0], variable, value, problems):
            continue
        _set_path(data, path, value, variable, problems)
    if problems:
        raise ConfigError(problems)
    return data


def _location(loc: tuple[int | str, ...], data: Mapping[str, Any] | None = None) -> str:
    """``providers[corp].issuer``: a provider by its name when it has one."""
    out = ""
    parent: Any = data
    for part in loc:
        entry: Any = None
        if isinstance(parent, list) and isinstance(part, int) and part < len(parent):
            entry = parent[part]
        elif isinstance(parent, Mapping) and isinstance(part, str):
            entry = parent.get(part)
        named = isinstance(entry, Mapping) and _is_name(entry.get("name"))
        if isinstance(part, int) and out == "providers" and named:
            out += f"[{entry['name']}]"
        elif isinstance(part, int):
            out += f"[{part}]"
        elif not part.startswith(("function-", "model-")):
            out += f".{part}" if out else part
        parent = entry
    return out or "(top level)"


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and _NAME.fullmatch(value) is not None


def validate_settings(data: Mapping[str, Any]) -> Settings:
    """Validate a configuration mapping, reporting every problem at once."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        problems = [_problem(error, data) for error in errors]
        problems += _beyond_unknown_keys(data, errors)
        raise ConfigError(list(dict.fromkeys(problems))) from exc


def _problem(error: Any, data: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{_location(error['loc'], data)}: {message}"


def _beyond_unknown_keys(data: Mapping[str, Any], errors: list[Any]) -> list[str]:
    """What a provider with unknown keys would also be told once they are removed: its
    consistency checks run only on an otherwise valid entry, and every problem is reported
    at once."""
    unknown: dict[int, set[str]] = {}
    for error in errors:
        loc = error["loc"]
        extra = error["type"] == "extra_forbidden" and len(loc) == 3 and loc[0] == "providers"
        if extra and isinstance(loc[1], int) and isinstance(loc[2], str):
            unknown.setdefault(loc[1], set()).add(loc[2])
    providers = data.get("providers")
    if not unknown or not isinstance(providers, list):
        return []
    from jiraguard.settings.providers import ProviderSettings

    problems = []
    for index, keys in unknown.items():
        entry = providers[index]
        if not isinstance(entry, Mapping):
            continue
        cleaned = {k: v for k, v in entry.items() if k not in keys}
        try:
            ProviderSettings.model_validate(cleaned)
        except ValidationError as again:
            for error in again.errors(include_url=False, include_input=False):
                error = {**error, "loc": ("providers", index, *error["loc"])}
                problems.append(_problem(error, data))
    return problems


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
