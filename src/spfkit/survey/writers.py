"""The survey's output files: JSONL, CSV and Parquet, with the same fields (:data:`FIELDS`).

Results are appended as they come, one whole row per write, flushed every ``flush_every``
rows and on close, so an interrupted run leaves a file of whole rows (a run killed hard
may leave one cut line at the end: :func:`repair` drops it before ``--resume`` appends).
JSONL and CSV can be resumed; Parquet (pyarrow, the ``survey`` extra) is written in row
groups and closed properly on Ctrl-C, but cannot be appended to.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol

from spfkit.survey.result import FIELDS, LIST_FIELDS, DomainResult, from_row
from spfkit.visible import json_text

__all__ = ["ResultWriter", "done_domains", "open_writer", "read_results", "repair"]


class ResultWriter(Protocol):
    def write(self, result: DomainResult) -> None: ...

    def close(self) -> None: ...


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".parquet"):
        return suffix[1:]
    raise ValueError(f"{path}: the output must end in .jsonl, .csv or .parquet")


class _Jsonl:
    def __init__(self, path: Path, append: bool, flush_every: int) -> None:
        self._file: IO[str] = open(path, "a" if append else "w", encoding="utf-8")
        self._every = flush_every
        self._pending = 0

    def write(self, result: DomainResult) -> None:
        self._file.write(json_text(result.row(), compact=True))
        self._tick()

    def _tick(self) -> None:
        self._pending += 1
        if self._pending >= self._every:
            self._file.flush()
            self._pending = 0

    def close(self) -> None:
        self._file.close()


class _Csv(_Jsonl):
    def __init__(self, path: Path, append: bool, flush_every: int) -> None:
        fresh = not append or not path.exists() or path.stat().st_size == 0
        super().__init__(path, append, flush_every)
        self._csv = csv.writer(self._file, lineterminator="\r\n")  # RFC 4180; CR/LF in a value get quoted
        if fresh:
            self._csv.writerow(FIELDS)

    def write(self, result: DomainResult) -> None:
        row = result.row()
        for name in LIST_FIELDS:
            row[name] = " ".join(row[name])  # type: ignore[arg-type]
        self._csv.writerow(["" if row[f] is None else row[f] for f in FIELDS])
        self._tick()


class _Parquet:
    """Row groups of ``group`` rows via pyarrow; the schema is fixed from :data:`FIELDS`."""

    def __init__(self, path: Path, group: int) -> None:
        import pyarrow.parquet as pq

        self._schema = parquet_schema()
        self._writer = pq.ParquetWriter(str(path), self._schema)
        self._rows: list[dict[str, object]] = []
        self._group = group

    def write(self, result: DomainResult) -> None:
        row = result.row()
        if row["pass_ipv6"] is not None:  # up to 2^128: decimal digits, not int64
            row["pass_ipv6"] = str(row["pass_ipv6"])
        self._rows.append(row)
        if len(self._rows) >= self._group:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def close(self) -> None:
        self._flush()
        self._writer.close()


def parquet_schema() -> Any:
    """The Arrow schema of a result row (lists as list<string>, counts as int64 but the IPv6
    address count, which reaches 2^128, as a string of digits)."""
    import pyarrow as pa

    types = {"includes": pa.list_(pa.string()), "lint": pa.list_(pa.string()),
             "tcp": pa.bool_(), "dmarc_rua": pa.bool_(), "dmarc_ruf": pa.bool_()}
    ints = ("lookups_v4", "lookups_v6", "void_v4", "void_v6", "pass_ipv4", "dmarc_pct")
    types.update({name: pa.int64() for name in ints})
    return pa.schema([(name, types.get(name, pa.string())) for name in FIELDS])


def open_writer(path: str | Path, *, append: bool = False, flush_every: int = 200) -> ResultWriter:
    """A writer for ``path`` by its suffix; ``append`` continues an existing JSONL/CSV file."""
    path = Path(path)
    kind = _kind(path)
    if kind == "parquet":
        if append:
            raise ValueError("--resume needs a .jsonl or .csv output (Parquet cannot be appended to)")
        return _Parquet(path, max(flush_every, 1000))
    return (_Csv if kind == "csv" else _Jsonl)(path, append, flush_every)


def repair(path: str | Path) -> int:
    """Drop a cut last line (a run killed mid-write); returns the octets dropped."""
    path = Path(path)
    if not path.exists() or _kind(path) == "parquet":
        return 0
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb+") as f:
        f.seek(max(0, size - 65536))
        tail = f.read()
        if tail.endswith(b"\n"):
            return 0
        cut = tail.rfind(b"\n")
        keep = size - len(tail) + cut + 1 if cut >= 0 else 0
        f.truncate(keep)
        os.fsync(f.fileno())
        return size - keep


def read_results(path: str | Path) -> Iterator[DomainResult]:
    """Every result in an output file (streamed; Parquet by row group; a directory of Parquet
    parts, as ``--dask`` writes, part by part)."""
    path = Path(path)
    if path.is_dir():
        for part in sorted(path.glob("*.parquet")):
            yield from read_results(part)
        return
    kind = _kind(path)
    if kind == "parquet":
        import pyarrow.parquet as pq

        source = pq.ParquetFile(str(path))
        for group in range(source.num_row_groups):
            for row in source.read_row_group(group).to_pylist():
                yield from_row(row)
        return
    with open(path, encoding="utf-8", newline="") as f:
        if kind == "csv":
            for row in csv.DictReader(f):
                yield from_row(row)
        else:
            for line in f:
                if line.strip():
                    yield from_row(json.loads(line))


def done_domains(path: str | Path) -> set[str]:
    """The domains already in ``path`` (for ``--resume``); empty when it does not exist."""
    path = Path(path)
    if not path.exists():
        return set()
    return {r.domain for r in read_results(path)}
