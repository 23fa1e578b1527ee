"""Export the store's current decisions as JSONL, CSV or Parquet.

    export("anke.db", "jsonl", "out.jsonl")   # exactly the ``classify --jsonl`` records
    export("anke.db", "csv", "-")             # one row per decision, lists joined by ";"
    export("anke.db", "parquet", "out.parquet")
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from classifier.store import iter_rows, to_classification

FORMATS = ("jsonl", "csv", "parquet")

#: CSV columns, in order. List fields are joined with ``LIST_SEP``; ``errors`` is also
#: exploded into one 0/1 column per error type for spreadsheet pivots.
CSV_COLUMNS = (
    "source", "sha256", "decision_index", "page_first", "page_last", "status", "error",
    "outcome", "partial", "kritik", "errors", "law_area", "citations", "municipality",
    "first_instance", "decision_date", "case_number", "format", "confidence", "needs_review",
    "review_reasons", "instructions", "model_version", "run_id",
)
LIST_SEP = ";"


class ExportError(Exception):
    pass


def _records(store_path: str | os.PathLike, include_failed: bool) -> Iterator[dict[str, Any]]:
    store_path = Path(store_path)
    if not store_path.exists():
        raise ExportError(f"no store at {store_path}")
    yield from iter_rows(store_path, current=True, include_failed=include_failed)


def _csv_row(record: dict[str, Any]) -> dict[str, Any]:
    pages = record.get("pages") or [None, None]
    row: dict[str, Any] = {}
    for col in CSV_COLUMNS:
        if col == "page_first":
            value = pages[0]
        elif col == "page_last":
            value = pages[-1]
        else:
            value = record.get(col)
        if isinstance(value, list):
            value = LIST_SEP.join(str(v) for v in value)
        elif isinstance(value, bool):
            value = int(value)
        row[col] = "" if value is None else value
    return row


def _open_out(out: str | os.PathLike | IO | None, binary: bool = False):
    if out is None or out == "-":
        return (sys.stdout.buffer if binary else sys.stdout), False
    if hasattr(out, "write"):
        return out, False
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if binary:
        return open(path, "wb"), True
    return open(path, "w", encoding="utf-8", newline=""), True


def export(store_path: str | os.PathLike, fmt: str, out: str | os.PathLike | IO | None = "-",
           *, include_failed: bool = True) -> int:
    """Write the current decisions of the store at ``store_path`` to ``out`` (path, open
    stream, or ``"-"`` for stdout) as ``fmt`` (jsonl | csv | parquet); returns the number of
    records written. Failed records (status failed, with the reason in ``error``) are
    included unless ``include_failed=False``.

    - jsonl: one ``Classification.to_json()`` object per line, exactly as ``classify --jsonl``.
    - csv: one row per decision (``CSV_COLUMNS``), ``errors``/``citations``/... joined by ";".
    - parquet: one row per decision with list and struct columns (needs pyarrow).
    """
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        return _export_parquet(store_path, out, include_failed)
    records = _records(store_path, include_failed)
    first = next(records, None)  # fail on a missing store before opening the output
    stream, close = _open_out(out)
    n = 0
    try:
        if fmt == "jsonl":
            for record in _chain(first, records):
                stream.write(json.dumps(to_classification(record).to_json(),
                                        ensure_ascii=False) + "\n")
                n += 1
        else:
            writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\n")
            writer.writeheader()
            for record in _chain(first, records):
                writer.writerow(_csv_row(record))
                n += 1
        stream.flush()
    finally:
        if close:
            stream.close()
    return n


def _chain(first, rest) -> Iterator[dict[str, Any]]:
    if first is not None:
        yield first
        yield from rest


def _parquet_schema(pa):
    string_list = pa.list_(pa.string())
    return pa.schema([
        ("source", pa.string()), ("sha256", pa.string()), ("decision_index", pa.int64()),
        ("pages", pa.list_(pa.int64())), ("status", pa.string()), ("error", pa.string()),
        ("outcome", pa.string()), ("partial", pa.bool_()), ("kritik", pa.bool_()),
        ("errors", string_list), ("law_area", pa.string()), ("citations", string_list),
        ("municipality", pa.string()), ("first_instance", pa.string()),
        ("decision_date", pa.string()), ("case_number", pa.string()), ("format", pa.string()),
        ("confidence", pa.float64()), ("needs_review", pa.bool_()),
        ("review_reasons", string_list),
        ("probabilities", pa.map_(pa.string(), pa.float64())),
        ("evidence", pa.list_(pa.struct([
            ("label", pa.string()), ("text", pa.string()), ("page", pa.int64()),
            ("section", pa.string()), ("probability", pa.float64())]))),
        ("instructions", string_list),
        ("model_version", pa.string()), ("run_id", pa.int64()),
    ])


def _export_parquet(store_path, out, include_failed: bool) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ExportError("Parquet export needs pyarrow: pip install 'anke[parquet]' "
                          "(or pip install pyarrow)") from exc
    schema = _parquet_schema(pa)
    names = schema.names
    rows = []
    for record in _records(store_path, include_failed):
        data = to_classification(record).to_json()
        data["model_version"] = record["model_version"]
        data["run_id"] = record["run_id"]
        data["probabilities"] = list((data.get("probabilities") or {}).items())
        rows.append({k: data.get(k) for k in names})
    table = pa.Table.from_pylist(rows, schema=schema)
    if out is None or out == "-":
        sink = io.BytesIO()
        pq.write_table(table, sink)
        sys.stdout.buffer.write(sink.getvalue())
    else:
        if not hasattr(out, "write"):
            Path(out).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, out)
    return len(rows)


def read_parquet_classifications(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Rows of an exported Parquet file back in ``Classification.to_json()`` layout."""
    import pyarrow.parquet as pq

    out = []
    for row in pq.read_table(path).to_pylist():
        row.pop("model_version", None)
        row.pop("run_id", None)
        row["probabilities"] = dict(row.get("probabilities") or [])
        out.append(row)
    return out
