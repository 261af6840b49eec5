"""The parts of an ensemble folder: two Parquet datasets partitioned by scenario and replicate.

Layout of ``out_dir``::

    manifest.json                 config, seeds, versions, executor, timings, task list and status
    config/<scenario>.yaml        fully resolved configuration of each scenario
    parts/daily/scenario=<s>/replicate=<r>/part.parquet    daily table of task (s, r)
    parts/routes/scenario=<s>/replicate=<r>/part.parquet   its route flows (travellers per year and route)
    totals.parquet, trajectories.parquet, comparison.csv   combined tables (when all tasks are done)

Each of ``parts/daily`` and ``parts/routes`` is one hive-partitioned dataset: the scenario
and replicate of a row are in its file's path (read by :mod:`pyarrow.dataset`, also by any
other Arrow tool, e.g. ``pyarrow.dataset.dataset(out_dir / "parts/daily", partitioning="hive")``),
the other columns in the file. :func:`read_parts` reads any set of parts as one dataset.

Every part is self-checking: its Parquet metadata holds a record (:data:`PART_KEY`) of the
task that made it (scenario, replicate, seed, configuration fingerprint, code version), its
table name, row count, schema (column names and Arrow types) and the SHA-256 of its content,
plus the SHA-256 of that record (:data:`RECORD_SHA_KEY`); pages carry checksums.
:func:`check_part` reads a part back in full and verifies all of it, whether or not a
manifest recorded the part, so a part damaged in any way that changes what it reads as (a
renamed column, a changed value, a truncated file) is re-run, and a part of another task or
configuration is never silently mixed in. Files are written atomically
(:mod:`sim.ensemble.files`).
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from ..config import ConfigError
from . import files
from .files import MANIFEST, read_manifest, sha256, write_json, write_text

__all__ = [
    "DAILY", "LOCK", "MANIFEST", "PART_KEY", "ROUTES", "check_part", "locked", "part_path", "read_daily", "read_manifest",
    "read_parts", "read_routes", "sha256", "write_json", "write_part", "write_table", "write_text",
]

DAILY, ROUTES = "daily", "routes"
"""The two part tables of a task: its daily table and its route flows."""

PARTITIONING = ds.partitioning(pa.schema([("scenario", pa.string()), ("replicate", pa.int64())]), flavor="hive")
"""``scenario=<name>/replicate=<r>`` folders: the keys of a part's rows."""

PART_KEY = b"tipsim.part"
"""Parquet schema-metadata key holding a part's record (JSON): task, table, rows, schema, content SHA-256."""

RECORD_SHA_KEY = b"tipsim.part.sha256"
"""Parquet schema-metadata key holding the SHA-256 of the record under :data:`PART_KEY`."""

LOCK = ".tipsim.lock"


def parts_dir(out_dir: Path, table: str) -> Path:
    """The base folder of a part table's dataset."""
    return out_dir / "parts" / table


def part_path(out_dir: Path, table: str, scenario: str, replicate: int) -> Path:
    """Where task (scenario, replicate) keeps its part of ``table`` (:data:`DAILY` or :data:`ROUTES`)."""
    return parts_dir(out_dir, table) / f"scenario={scenario}" / f"replicate={replicate}" / "part.parquet"


def write_table(path: Path, frame: pd.DataFrame) -> None:
    """Write a combined table atomically (Parquet, or CSV if ``path`` ends in .csv)."""
    if path.suffix == ".csv":
        write_text(path, frame.to_csv(index=False))
    else:
        files.atomic_write(path, lambda f: frame.to_parquet(f, index=False))


def _schema_list(schema: pa.Schema) -> list[list[str]]:
    return [[f.name, str(f.type)] for f in schema]


def _content_sha256(table: pa.Table) -> str:
    """SHA-256 of a table's column names, types, values and schema metadata (other than the part record)."""
    meta = {k: v for k, v in (table.schema.metadata or {}).items() if k not in (PART_KEY, RECORD_SHA_KEY)}
    table = table.replace_schema_metadata(meta).combine_chunks()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def _as_stored(table: pa.Table) -> pa.Table:
    """``table`` as Parquet stores it (e.g. ``timestamp[s]`` becomes ``timestamp[ms]``), so that the record
    describes the part as it reads back."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return pq.read_table(io.BytesIO(buffer.getvalue()))


def write_part(path: Path, frame: pd.DataFrame, identity: dict, table: str) -> str:
    """Write one part atomically with its self-checking record and page checksums; return the file's SHA-256.

    ``frame`` holds the part's columns without ``scenario`` and ``replicate`` (those are in
    its path, :func:`part_path`).
    """
    arrow = _as_stored(pa.Table.from_pandas(frame, preserve_index=False))
    record = {"task": identity, "table": table, "rows": arrow.num_rows, "schema": _schema_list(arrow.schema),
              "content_sha256": _content_sha256(arrow)}
    raw = json.dumps(record, sort_keys=True).encode()
    meta = {**(arrow.schema.metadata or {}), PART_KEY: raw, RECORD_SHA_KEY: hashlib.sha256(raw).hexdigest().encode()}
    buffer = io.BytesIO()
    pq.write_table(arrow.replace_schema_metadata(meta), buffer, write_page_checksum=True)
    data = buffer.getvalue()
    files.write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def check_part(path: Path, identity: dict, table: str, rows: int | None, expected: dict[str, str] | None = None,
               sha256_recorded: str | None = None) -> tuple[str, str]:
    """Whether a part is complete, undamaged and belongs to the task.

    Args:
        path: the part file.
        identity: the task's identity (:attr:`sim.ensemble.tasks.Task.identity`).
        table: :data:`DAILY` or :data:`ROUTES`.
        rows: expected number of rows (None: any).
        expected: columns the part must have, each with the kind of Arrow type it must have
            (``int``, ``float``, ``number``, ``string``, ``timestamp``).
        sha256_recorded: the file's SHA-256 if a manifest recorded it when the part was written.

    Returns ``("ok", "")``, ``("missing", "")``, ``("corrupt", reason)`` for a part to re-run
    (unreadable, truncated, damaged in its content, schema or record, lacking an expected
    column, or with bytes other than the recorded digest), or ``("foreign", reason)`` for an
    intact part made by another task, configuration or code version (never overwritten silently).
    """
    if not path.exists():
        return "missing", ""
    if sha256_recorded is not None and sha256(path) != sha256_recorded:
        return "corrupt", "its bytes differ from the digest recorded when it was written"
    try:
        arrow = pq.read_table(path, page_checksum_verification=True, partitioning=None)
        return _verify(arrow, identity, table, rows, expected or {})
    except (OSError, pa.ArrowException, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        # a damaged footer can fail while reading, or later while decoding names and metadata
        return "corrupt", f"unreadable ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"


def _verify(arrow: pa.Table, identity: dict, table: str, rows: int | None,
            expected: dict[str, str]) -> tuple[str, str]:
    """The checks of :func:`check_part` on a part read back in full."""
    meta = arrow.schema.metadata or {}
    raw, raw_sha = meta.get(PART_KEY), meta.get(RECORD_SHA_KEY)
    if raw is None or raw_sha is None:
        return "corrupt", "no tipsim part record in its metadata"
    if hashlib.sha256(raw).hexdigest().encode() != raw_sha:
        return "corrupt", "its part record is damaged"
    record = json.loads(raw)
    if record.get("task") != identity or record.get("table") != table:
        found = {**record.get("task", {}), "table": record.get("table")}
        wanted = {**identity, "table": table}
        diff = sorted(k for k in set(found) | set(wanted) if found.get(k) != wanted.get(k))
        return "foreign", f"made by another task or configuration (differs in {', '.join(diff)})"
    actual = _schema_list(arrow.schema)
    if actual != record["schema"]:
        changed = [f"{a[0]} ({a[1]})" for a in actual if a not in record["schema"]]
        return "corrupt", f"its columns differ from those it was written with ({', '.join(changed) or 'order'})"
    if _content_sha256(arrow) != record["content_sha256"]:
        return "corrupt", "its content differs from the digest it was written with"
    if rows is not None and arrow.num_rows != rows:
        return "corrupt", f"{arrow.num_rows} rows, expected {rows}"
    for name, kind in expected.items():
        if name not in arrow.schema.names:
            return "corrupt", f"lacks column {name}"
        if not _is_kind(arrow.schema.field(name).type, kind):
            return "corrupt", f"column {name} is {arrow.schema.field(name).type}, expected {kind}"
    return "ok", ""


def _is_kind(arrow_type: pa.DataType, kind: str) -> bool:
    t = pa.types
    return {
        "int": t.is_integer, "float": t.is_floating, "number": lambda x: t.is_integer(x) or t.is_floating(x),
        "string": lambda x: t.is_string(x) or t.is_large_string(x), "timestamp": t.is_timestamp,
    }[kind](arrow_type)


def dataset(paths: Iterable[Path]) -> ds.Dataset:
    """Parts of one table (any subset of its files) as one Arrow dataset with ``scenario`` and ``replicate`` columns.

    The schema is the union of the parts' schemas: a column some parts lack (e.g. another
    scenario's ``cost_<intervention>``) is null in their rows.
    """
    paths = [Path(p) for p in paths]
    schemas = [pq.read_schema(p) for p in paths]
    if all({"scenario", "replicate"} <= set(s.names) for s in schemas):
        partitioning = None  # parts of format tipsim-ensemble/1 (parts/<scenario>/r00007.parquet) hold their keys
    else:
        partitioning, schemas = PARTITIONING, [PARTITIONING.schema, *schemas]
    schema = pa.unify_schemas(schemas)
    meta = {k: v for k, v in (schema.metadata or {}).items() if k not in (PART_KEY, RECORD_SHA_KEY)}
    return ds.dataset([str(p) for p in paths], schema=schema.with_metadata(meta), format="parquet",
                      partitioning=partitioning, partition_base_dir=str(paths[0].parents[2]))


def read_parts(paths: Iterable[Path], columns: list[str] | None = None) -> pd.DataFrame:
    """Parts of one table as one data frame, in the order of ``paths``: ``scenario, replicate`` and the parts' columns.

    Args:
        paths: part files, all of one table (:func:`part_path`).
        columns: only these columns (those no part has are left out); default all.
    """
    paths = list(paths)
    if not paths:
        return pd.DataFrame(columns=columns)
    data = dataset(paths)
    names = [n for n in ("scenario", "replicate") if columns is None or n in columns]
    names += [n for n in data.schema.names if n not in ("scenario", "replicate") and (columns is None or n in columns)]
    if columns is not None:
        order = {c: i for i, c in enumerate(columns)}
        names.sort(key=lambda n: order[n])
    return data.to_table(columns=names).to_pandas()


def _done_parts(out_dir: str | Path, key: str) -> list[Path]:
    out = Path(out_dir)
    manifest = read_manifest(out)
    if manifest is None:
        raise ConfigError(f"{out}: not an ensemble folder (no {MANIFEST})")
    done = [t for t in manifest.get("tasks", []) if t.get("status") == "done"]
    lacking = [t["label"] for t in done if key not in t]
    if lacking:
        raise ConfigError(f"{out}: tasks {', '.join(lacking[:4])} have no {key} part (made by a tipsim version that "
                          "did not record them); run `tipsim compare` into a new out_dir")
    return [out / t[key] for t in done]


def read_daily(out_dir: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The daily tables of all finished tasks of an ensemble folder, one row per (scenario, replicate, date)."""
    return read_parts(_done_parts(out_dir, "part"), columns)


def read_routes(out_dir: str | Path) -> pd.DataFrame:
    """Route flows of all finished tasks of an ensemble folder: ``scenario, replicate, seed, year, from,
    to, mode, travellers`` (travellers per year and route, as in a run's ``routes.parquet``)."""
    return read_parts(_done_parts(out_dir, "routes"))


@contextmanager
def locked(out_dir: Path):
    """Hold an exclusive lock on an ensemble folder (one runner per folder at a time); the lock file is removed after.

    The lock is taken on a file in the folder; it is unlinked while still locked, and a
    runner that locked a file that was unlinked meanwhile tries again, so two runners never
    hold the lock at once.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LOCK
    while True:
        f = open(path, "a")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            raise ConfigError(f"out_dir = {out_dir}: another tipsim run is using this folder") from None
        try:
            same = os.path.exists(path) and os.stat(path).st_ino == os.fstat(f.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        f.close()  # the holder removed it between our open and our lock: take a fresh file
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        fcntl.flock(f, fcntl.LOCK_UN)
        f.close()
