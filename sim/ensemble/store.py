"""Files of an ensemble folder: one Parquet part per task, the manifest, the combined tables.

Layout of ``out_dir``::

    manifest.json                 config, seeds, versions, executor, timings, task list and status
    config/<scenario>.yaml        fully resolved configuration of each scenario
    parts/<scenario>/r00007.parquet   daily table of one task (scenario, replicate 7); its route
                                  flows (travellers per year and route) ride in its metadata
    totals.parquet, trajectories.parquet, comparison.csv   combined tables (when all tasks are done)

Every file is written to a temporary name in its folder, flushed to disk, then renamed, so
a killed run leaves either a complete file or none. Each part carries its task identity and
the fingerprint of the configuration that made it in the Parquet schema metadata, and page
checksums; :func:`check_part` reads it back in full, so a truncated or corrupted part (or one
from another configuration) is recognised on resume. Assumes a POSIX file system shared by
all workers (on a cluster: the network file system the jobs see).
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..config import ConfigError

META_KEY = b"tipsim.task"
"""Parquet schema-metadata key holding a part's task identity (JSON)."""

ROUTES_KEY = b"tipsim.routes"
"""Parquet schema-metadata key holding the task's route flows (``routes.parquet`` of a run, as JSON)."""

MANIFEST = "manifest.json"
LOCK = ".tipsim.lock"
TMP_MARK = ".tmp-"
PROCESS_UMASK = os.umask(0)
os.umask(PROCESS_UMASK)  # the process umask (read by setting and restoring it)


def part_path(out_dir: Path, scenario: str, replicate: int) -> Path:
    """Where the part of task (scenario, replicate) lives."""
    return out_dir / "parts" / scenario / f"r{replicate:05d}.parquet"


def _atomic(path: Path, write) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, fsync it, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{TMP_MARK}", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~PROCESS_UMASK)  # mkstemp makes files private; results are shared like any file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically."""
    _atomic(path, lambda f: f.write(text.encode()))


def write_json(path: Path, data: dict) -> None:
    """Write a JSON file atomically."""
    write_text(path, json.dumps(data, indent=1, default=str) + "\n")


def write_table(path: Path, frame: pd.DataFrame) -> None:
    """Write a combined table atomically (Parquet, or CSV if ``path`` ends in .csv)."""
    if path.suffix == ".csv":
        write_text(path, frame.to_csv(index=False))
    else:
        _atomic(path, lambda f: frame.to_parquet(f, index=False))


def write_part(path: Path, daily: pd.DataFrame, identity: dict, routes: pd.DataFrame | None = None) -> str:
    """Write one task's daily table atomically, with its identity, its route flows and page checksums; return its digest."""
    table = pa.Table.from_pandas(daily, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[META_KEY] = json.dumps(identity, sort_keys=True).encode()
    if routes is not None:
        meta[ROUTES_KEY] = routes.to_json(orient="split", index=False).encode()
    table = table.replace_schema_metadata(meta)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, write_page_checksum=True)
    data = buffer.getvalue()
    _atomic(path, lambda f: f.write(data))
    return hashlib.sha256(data).hexdigest()


def digest(path: Path) -> str:
    """SHA-256 of a file's bytes (recorded in the manifest for every finished part)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_part(path: Path, identity: dict, rows: int, sha256: str | None = None) -> tuple[str, str]:
    """Whether a part is complete and belongs to the task.

    Returns ``("ok", "")``, ``("missing", "")``, ``("corrupt", reason)`` for an unreadable,
    truncated or short file, or one whose bytes differ from the digest ``sha256`` recorded
    when it was written (re-run it), or ``("foreign", reason)`` for a readable part made by
    another task, configuration or code version (never overwritten silently).
    """
    if not path.exists():
        return "missing", ""
    if sha256 is not None and digest(path) != sha256:
        return "corrupt", "its bytes differ from the digest recorded when it was written"
    try:
        table = pq.read_table(path, page_checksum_verification=True)
    except (OSError, pa.ArrowException) as exc:
        return "corrupt", f"unreadable ({str(exc).splitlines()[0]})"
    raw = (table.schema.metadata or {}).get(META_KEY)
    if raw is None:
        return "corrupt", "no task identity in its metadata"
    found = json.loads(raw)
    if found != identity:
        diff = sorted(k for k in set(found) | set(identity) if found.get(k) != identity.get(k))
        return "foreign", f"made by another task or configuration (differs in {', '.join(diff)})"
    if table.num_rows != rows:
        return "corrupt", f"{table.num_rows} rows, expected {rows}"
    return "ok", ""


def read_parts(paths: Iterable[Path], columns: list[str] | None = None) -> pd.DataFrame:
    """Concatenate part files (optionally only ``columns``; columns missing in a part are NaN)."""
    frames = [pd.read_parquet(p, columns=None if columns is None else _present(p, columns)) for p in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _present(path: Path, columns: list[str]) -> list[str]:
    names = set(pq.read_schema(path).names)
    return [c for c in columns if c in names]


def read_daily(out_dir: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The daily tables of all finished tasks of an ensemble folder, one row per (scenario, replicate, date)."""
    out = Path(out_dir)
    manifest = read_manifest(out)
    if manifest is None:
        raise ConfigError(f"{out}: not an ensemble folder (no {MANIFEST})")
    paths = [out / t["part"] for t in manifest["tasks"] if t["status"] == "done"]
    return read_parts(paths, columns)


def read_routes(out_dir: str | Path) -> pd.DataFrame:
    """Route flows of all finished tasks of an ensemble folder: ``scenario, replicate, seed, year, from,
    to, mode, travellers`` (travellers per year and route, as in a run's ``routes.parquet``)."""
    out = Path(out_dir)
    manifest = read_manifest(out)
    if manifest is None:
        raise ConfigError(f"{out}: not an ensemble folder (no {MANIFEST})")
    frames = []
    for task in manifest["tasks"]:
        if task["status"] != "done":
            continue
        meta = pq.read_schema(out / task["part"]).metadata or {}
        if ROUTES_KEY not in meta:
            raise ConfigError(f"{out / task['part']}: no route flows (made by a tipsim version that did not record them)")
        routes = pd.read_json(io.StringIO(meta[ROUTES_KEY].decode()), orient="split")
        identity = json.loads(meta[META_KEY])
        for i, col in enumerate(("scenario", "replicate", "seed")):
            routes.insert(i, col, identity[col])
        frames.append(routes)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def read_manifest(out_dir: Path) -> dict | None:
    """The manifest of an ensemble folder, or None if there is none."""
    path = out_dir / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: unreadable manifest ({exc})") from None


def remove_temporaries(out_dir: Path) -> int:
    """Delete temporary files left by killed writers; return how many."""
    n = 0
    for p in out_dir.rglob(f".*{TMP_MARK}*"):
        p.unlink(missing_ok=True)
        n += 1
    return n


@contextmanager
def locked(out_dir: Path):
    """Hold an exclusive lock on an ensemble folder (one runner per folder at a time)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / LOCK, "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"out_dir = {out_dir}: another tipsim run is using this folder") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
