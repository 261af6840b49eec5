"""Result files on disk: atomic writes with ordinary permissions, SHA-256 digests, manifests.

The one place where tipsim's result folders are written and their manifests read, used by
the ensemble store (:mod:`sim.ensemble.store`) and by the figure code
(:mod:`sim.plots.results`).

* Every file is written to a hidden temporary name in its folder (``.NAME.tmp-PID-XXXXXXXX``),
  flushed to disk, then renamed, so a killed writer leaves either the complete file or none
  under ``NAME``. Temporary files are created with mode 0o666 (0o777 for folders) and the
  kernel applies the process umask, as for any file; the umask is never changed.
* Cleanup removes only the temporary files this process created and has not renamed yet
  (on an error and at exit), never other files that look like temporaries.
* A manifest that cannot be read is one :class:`~sim.config.ConfigError` saying what is wrong
  and whether deleting it is safe.

Assumes a POSIX file system (on a cluster: the network file system every worker sees).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..config import ConfigError

MANIFEST = "manifest.json"
TMP_MARK = ".tmp-"

_OWN_TEMPORARIES: set[Path] = set()
"""Temporary files and folders this process created and has not renamed or removed yet."""


def _temporary_name(path: Path) -> Path:
    return path.parent / f".{path.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"


def atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(file)`` on a new temporary file beside ``path``, fsync it, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for any new file
    _OWN_TEMPORARIES.add(tmp)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        _OWN_TEMPORARIES.discard(tmp)


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(path, lambda f: f.write(data))


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically."""
    write_bytes(path, text.encode())


def write_json(path: Path, data: dict) -> None:
    """Write a JSON file atomically."""
    write_text(path, json.dumps(data, indent=1, default=str) + "\n")


def temporary_folder(parent: Path, prefix: str) -> Path:
    """A new empty folder in ``parent`` with the usual permissions (mode 0o777 less the umask).

    It is this process's own temporary: :func:`remove_own_temporaries` deletes it unless
    :func:`release` was called after it was renamed.
    """
    parent.mkdir(parents=True, exist_ok=True)
    path = parent / f".{prefix}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    path.mkdir(mode=0o777)
    _OWN_TEMPORARIES.add(path)
    return path


def release(path: Path) -> None:
    """Forget a temporary of this process (it was renamed or removed)."""
    _OWN_TEMPORARIES.discard(path)


def remove_own_temporaries() -> int:
    """Delete the temporary files and folders this process created and still holds; return how many."""
    import shutil

    n = 0
    for path in list(_OWN_TEMPORARIES):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        _OWN_TEMPORARIES.discard(path)
        n += 1
    return n


atexit.register(remove_own_temporaries)


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (hex), read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


DELETE_SAFE = ("deleting it is safe: every part carries its own identity, schema and digest, so running the same "
               "`tipsim compare` command again re-checks the parts, keeps the good ones and writes a new manifest "
               "(only the timing history is lost)")
"""Why an ensemble's manifest can be deleted (its parts, not the manifest, are the record of the results)."""


def read_manifest(folder: Path) -> dict | None:
    """The manifest (``manifest.json``) of a results folder, or None if there is none.

    Raises one :class:`ConfigError` for a truncated or corrupt file or one that is not a JSON
    object, saying whether deleting it is safe: for an ensemble folder (a ``parts/`` folder
    beside it) it is; for anything else tipsim cannot tell, and says so.
    """
    path = Path(folder) / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_bytes().decode())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problem = f"truncated or corrupt ({str(exc).splitlines()[0]})"
    else:
        if isinstance(manifest, dict):
            return manifest
        problem = f"not a tipsim manifest (a JSON {type(manifest).__name__}, not an object)"
    if (path.parent / "parts").is_dir():
        advice = DELETE_SAFE
    else:
        advice = "this is not an ensemble folder, so tipsim cannot tell whether deleting it is safe; restore it from a copy"
    raise ConfigError(f"{path}: {problem}; {advice}")
