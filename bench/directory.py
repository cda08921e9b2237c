"""Users for the benchmarks' servers, added through the command line before they start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

JIRAGUARD = str(Path(sys.executable).with_name("jiraguard"))


def add_user(config: Path, name: str, *, admin: bool = False) -> None:
    """``jiraguard user add`` on the database ``config`` names, creating it when new."""
    command = [JIRAGUARD, "user", "add", name, "--config", str(config), "--create-database"]
    if admin:
        command.append("--admin")
    subprocess.run(command, check=True, capture_output=True)
