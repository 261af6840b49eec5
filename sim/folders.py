"""Checks of the folders tipsim writes results into, made before any work starts.

Light to import (no pandas, no model), so the command line can check a folder before it
loads anything. A results folder is never overwritten or mixed: a command writes only into a
new or empty folder, or into a folder of its own kind that it resumes.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from .config import ConfigError

RUN_FORMAT = "tipsim-run/1"
"""``format`` of a run folder's manifest (an ensemble folder's is ``tipsim-ensemble/<n>``)."""

SYSTEM_DIRS = ("/proc", "/sys", "/dev")
"""Folders of the operating system, never a place for results."""


def folder_contents(path: Path) -> str:
    """What a non-empty folder holds, in words (for error messages)."""
    manifest = path / "manifest.json"
    fmt = None
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text())
            fmt = data.get("format") if isinstance(data, dict) else None
            if fmt is None and isinstance(data, dict) and "people_created" in data:
                fmt = RUN_FORMAT
        except (OSError, ValueError):
            pass
    if fmt == RUN_FORMAT:
        return "a `tipsim run` folder"
    if isinstance(fmt, str) and fmt.startswith("tipsim-ensemble/"):
        return "a `tipsim compare` folder"
    if (path / "design.csv").is_file():
        return "a `tipsim sweep` folder"
    n = sum(1 for _ in path.iterdir())
    return f"{n} file(s) or folder(s) not made by tipsim" if fmt is None else f"results of format {fmt}"


def check_out_dir(out_dir: str | Path, key: str = "out_dir", accept=None) -> Path:
    """Refuse, before any work, an ``out_dir`` that cannot take the results; return it.

    It must be a folder (or a path whose nearest existing ancestor is a folder) outside
    /proc, /sys and /dev, in which this process can create files (tested with an unnamed
    temporary file, so nothing is left behind), and it must be empty unless ``accept(path)``
    says its contents are this command's own (an ensemble folder being resumed).
    Raises :class:`~sim.config.ConfigError` naming ``key``.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{key} = {out}: exists and is not a folder; give a new or empty folder")
    resolved = out.resolve()
    for system in SYSTEM_DIRS:
        if resolved.is_relative_to(system):
            raise ConfigError(f"{key} = {out}: inside {system}, a system folder; give a folder for results")
    existing = resolved
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{key} = {out}: {existing} is a file, not a folder")
    try:
        tempfile.TemporaryFile(dir=existing).close()
    except OSError as exc:
        raise ConfigError(f"{key} = {out}: cannot write in {existing} ({exc.strerror})") from None
    if out.is_dir() and any(out.iterdir()) and not (accept is not None and accept(out)):
        raise ConfigError(f"{key} = {out}: not empty (holds {folder_contents(out)}); tipsim does not overwrite or mix "
                          "results: give a new or empty folder")
    return out
