"""Embedded SQLite store of classifications (stdlib sqlite3, WAL mode, file mode 0600).

    open_store("anke.db") -> Store           (creates / migrates the file)
    Store.write_file(...)                    one transaction per input file
    iter_classifications(conn)               -> Classification, same JSON as ``classify --jsonl``
    failures(conn) / summary(conn)

Layout (schema version 2, see ``MIGRATIONS``):

- ``runs``        one row per bulk run (model version, engine, ocr, args, counts, status).
- ``files``       one row per classified input file and model version; ``current=1`` marks the
                  row in force, earlier rows are kept as history (``current=0``). At most one
                  current row per sha256 (partial unique index).
- ``decisions``   one row per Classification returned for a file (a bundle yields several);
                  ``current`` follows the file row. ``text`` is the masked body text or NULL.
- ``labels``      (decision, kind outcome|kritik|error, label, probability, ord).
- ``evidence``, ``instructions``, ``citations``, ``review_reasons``, ``probabilities``.
- views ``v_decisions`` (current decisions with path and model version) and ``v_errors``.

Every query defaults to current rows. Only one process (the bulk runner's main process)
writes; readers may run concurrently thanks to WAL.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from classifier.schema import Classification, Evidence, OUTCOMES

#: Classification fields that have their own column or table; anything else a newer
#: Classification carries is kept verbatim in ``decisions.extra`` (JSON) so it round-trips.
_KNOWN_FIELDS = {
    "source", "sha256", "decision_index", "pages", "status", "error", "outcome", "partial",
    "kritik", "errors", "law_area", "citations", "municipality", "first_instance",
    "decision_date", "case_number", "format", "confidence", "needs_review", "review_reasons",
    "probabilities", "evidence", "instructions", "text",
}


class StoreError(Exception):
    """The store file cannot be used (not a database, newer schema, ...)."""


# --------------------------------------------------------------------------- migrations

def _m1_initial(conn: sqlite3.Connection) -> None:
    """Version 1: the core tables."""
    for sql in (
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started TEXT NOT NULL,
            finished TEXT,
            model_version TEXT NOT NULL,
            engine TEXT,
            ocr INTEGER,
            args TEXT
        )""",
        """CREATE TABLE files (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL,
            path TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
            error TEXT,
            pages INTEGER,
            run_id INTEGER REFERENCES runs(id),
            model_version TEXT NOT NULL,
            created TEXT NOT NULL,
            current INTEGER NOT NULL DEFAULT 1
        )""",
        "CREATE UNIQUE INDEX files_current ON files(sha256) WHERE current = 1",
        "CREATE INDEX files_sha ON files(sha256)",
        """CREATE TABLE decisions (
            id INTEGER PRIMARY KEY,
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            sha256 TEXT NOT NULL,
            decision_index INTEGER NOT NULL DEFAULT 0,
            page_first INTEGER,
            page_last INTEGER,
            outcome TEXT,
            partial INTEGER NOT NULL DEFAULT 0,
            kritik INTEGER NOT NULL DEFAULT 0,
            law_area TEXT,
            municipality TEXT,
            first_instance TEXT,
            decision_date TEXT,
            case_number TEXT,
            format TEXT,
            confidence REAL,
            needs_review INTEGER NOT NULL DEFAULT 0,
            model_version TEXT NOT NULL,
            run_id INTEGER REFERENCES runs(id),
            current INTEGER NOT NULL DEFAULT 1,
            text TEXT
        )""",
        "CREATE INDEX decisions_file ON decisions(file_id)",
        "CREATE INDEX decisions_sha ON decisions(sha256, decision_index)",
        """CREATE TABLE labels (
            id INTEGER PRIMARY KEY,
            decision_id INTEGER NOT NULL REFERENCES decisions(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('outcome', 'kritik', 'error')),
            label TEXT NOT NULL,
            probability REAL
        )""",
        "CREATE INDEX labels_decision ON labels(decision_id)",
        "CREATE INDEX labels_kind ON labels(kind, label)",
        """CREATE TABLE evidence (
            id INTEGER PRIMARY KEY,
            decision_id INTEGER NOT NULL REFERENCES decisions(id) ON DELETE CASCADE,
            label TEXT NOT NULL,
            text TEXT NOT NULL,
            page INTEGER,
            section TEXT
        )""",
        "CREATE INDEX evidence_decision ON evidence(decision_id)",
        """CREATE TABLE instructions (
            id INTEGER PRIMARY KEY,
            decision_id INTEGER NOT NULL REFERENCES decisions(id) ON DELETE CASCADE,
            ord INTEGER NOT NULL,
            text TEXT NOT NULL
        )""",
        "CREATE INDEX instructions_decision ON instructions(decision_id)",
        """CREATE TABLE citations (
            id INTEGER PRIMARY KEY,
            decision_id INTEGER NOT NULL REFERENCES decisions(id) ON DELETE CASCADE,
            text TEXT NOT NULL
        )""",
        "CREATE INDEX citations_decision ON citations(decision_id)",
    ):
        conn.execute(sql)


def _m2_roundtrip(conn: sqlite3.Connection) -> None:
    """Version 2: everything needed to give back the exact ``classify --jsonl`` record
    (source, failed records, list order, evidence probability, review reasons, raw
    probabilities, unknown fields), run bookkeeping, per-file timing and two views."""
    for sql in (
        "ALTER TABLE decisions ADD COLUMN source TEXT",
        "ALTER TABLE decisions ADD COLUMN status TEXT NOT NULL DEFAULT 'ok'",
        "ALTER TABLE decisions ADD COLUMN error TEXT",
        "ALTER TABLE decisions ADD COLUMN extra TEXT",
        "UPDATE decisions SET source = (SELECT path FROM files WHERE files.id = decisions.file_id)",
        "ALTER TABLE labels ADD COLUMN ord INTEGER NOT NULL DEFAULT 0",
        "UPDATE labels SET ord = id",
        "ALTER TABLE evidence ADD COLUMN ord INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE evidence ADD COLUMN probability REAL",
        "UPDATE evidence SET ord = id",
        "ALTER TABLE citations ADD COLUMN ord INTEGER NOT NULL DEFAULT 0",
        "UPDATE citations SET ord = id",
        """CREATE TABLE review_reasons (
            id INTEGER PRIMARY KEY,
            decision_id INTEGER NOT NULL REFERENCES decisions(id) ON DELETE CASCADE,
            ord INTEGER NOT NULL,
            text TEXT NOT NULL
        )""",
        "CREATE INDEX review_reasons_decision ON review_reasons(decision_id)",
        """CREATE TABLE probabilities (
            id INTEGER PRIMARY KEY,
            decision_id INTEGER NOT NULL REFERENCES decisions(id) ON DELETE CASCADE,
            ord INTEGER NOT NULL,
            key TEXT NOT NULL,
            value REAL
        )""",
        "CREATE INDEX probabilities_decision ON probabilities(decision_id)",
        "ALTER TABLE runs ADD COLUMN status TEXT",
        "ALTER TABLE runs ADD COLUMN n_files INTEGER",
        "ALTER TABLE runs ADD COLUMN n_classified INTEGER",
        "ALTER TABLE runs ADD COLUMN n_skipped INTEGER",
        "ALTER TABLE runs ADD COLUMN n_failed INTEGER",
        "UPDATE runs SET status = CASE WHEN finished IS NULL THEN 'unknown' ELSE 'finished' END",
        "ALTER TABLE files ADD COLUMN seconds REAL",
        "CREATE INDEX decisions_current ON decisions(current, status)",
        """CREATE VIEW v_decisions AS
            SELECT d.id, f.path, d.source, d.sha256, d.decision_index, d.page_first, d.page_last,
                   d.status, d.error, d.outcome, d.partial, d.kritik, d.law_area,
                   d.municipality, d.first_instance, d.decision_date, d.case_number, d.format,
                   d.confidence, d.needs_review, d.model_version, d.run_id
            FROM decisions d JOIN files f ON f.id = d.file_id
            WHERE d.current = 1""",
        """CREATE VIEW v_errors AS
            SELECT d.id AS decision_id, d.sha256, d.decision_index, d.outcome, d.law_area,
                   d.municipality, d.decision_date, l.label AS error, l.probability
            FROM labels l JOIN decisions d ON d.id = l.decision_id
            WHERE d.current = 1 AND l.kind = 'error'""",
    ):
        conn.execute(sql)


#: Migration i (1-based) brings a store from user_version i-1 to i. Append, never edit.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_m1_initial, _m2_roundtrip]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection, target: int | None = None) -> int:
    """Apply pending migrations up to ``target`` (default: latest); each in its own
    transaction together with the ``user_version`` bump. Returns the resulting version."""
    target = SCHEMA_VERSION if target is None else target
    version = schema_version(conn)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"store schema version {version} is newer than this program supports "
            f"({SCHEMA_VERSION}); upgrade anke")
    while version < target:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(conn)  # another process may have migrated meanwhile
            if version >= target:
                conn.execute("COMMIT")
                break
            MIGRATIONS[version](conn)
            version += 1
            conn.execute(f"PRAGMA user_version = {version:d}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return version


# --------------------------------------------------------------------------- connecting

def _chmod_sidecars(path: Path) -> None:
    for suffix in ("-wal", "-shm", "-journal"):
        side = Path(str(path) + suffix)
        try:
            if side.exists() and (side.stat().st_mode & 0o777) != 0o600:
                os.chmod(side, 0o600)
        except OSError:
            pass


def connect(path: str | os.PathLike, *, migrate_to: int | None = None) -> sqlite3.Connection:
    """Open (creating with mode 0600 if needed) and migrate a store; WAL mode, autocommit
    connection (transactions are explicit)."""
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            os.fchmod(fd, 0o600)  # independent of the umask
            os.close(fd)
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=60.0,
                               check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 60000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, migrate_to)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a usable anke store ({exc})") from exc
    if str(path) != ":memory:":
        _chmod_sidecars(path)
    return conn


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _as_conn(conn: Any) -> tuple[sqlite3.Connection, bool]:
    """Accept a Connection, a Store or a path; return (connection, opened_here)."""
    if isinstance(conn, sqlite3.Connection):
        return conn, False
    if isinstance(conn, Store):
        return conn.conn, False
    if not Path(conn).exists():  # reading never creates a store
        raise FileNotFoundError(f"no store at {conn}")
    return connect(conn), True


# --------------------------------------------------------------------------- records

@dataclass
class FileState:
    """The current row of a file in the store."""

    sha256: str
    path: str
    status: str
    error: str | None
    model_version: str
    run_id: int | None


@dataclass
class Failure:
    path: str
    sha256: str
    error: str | None
    model_version: str
    run_id: int | None
    created: str


def _prob_for(probabilities: dict[str, Any], kind: str, label: str) -> float | None:
    """Best-effort probability of a label from the Classification's ``probabilities`` dict
    (the dict itself is stored verbatim in its own table)."""
    keys = {
        "error": (label, f"error:{label}", f"errors:{label}", f"error.{label}",
                  f"errors.{label}"),
        "outcome": (f"outcome:{label}", f"outcome.{label}", label),
        "kritik": ("kritik", "kritik:true", "kritik.true"),
    }[kind]
    for key in keys:
        value = probabilities.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def _as_dict(result: Classification | dict[str, Any]) -> dict[str, Any]:
    if isinstance(result, Classification):
        data = result.to_json()
        # a masked body text may ride along as a plain attribute (not a dataclass field)
        if "text" not in data and isinstance(getattr(result, "text", None), str):
            data["text"] = result.text
        return data
    return dict(result)


# --------------------------------------------------------------------------- the store

class Store:
    """A connection to one store file; the write side used by the bulk runner."""

    def __init__(self, conn: sqlite3.Connection, path: str | os.PathLike | None = None):
        self.conn = conn
        self.path = Path(path) if path is not None else None

    @classmethod
    def open(cls, path: str | os.PathLike) -> Store:
        return cls(connect(path), path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- runs
    def start_run(self, model_version: str, *, engine: str | None = None,
                  ocr: bool | None = None, args: dict[str, Any] | None = None) -> int:
        cur = self.conn.execute(
            "INSERT INTO runs (started, model_version, engine, ocr, args, status) "
            "VALUES (?, ?, ?, ?, ?, 'running')",
            (_now(), model_version, engine, None if ocr is None else int(ocr),
             json.dumps(args or {}, ensure_ascii=False, default=str)))
        return cur.lastrowid

    def finish_run(self, run_id: int, *, status: str = "finished", n_files: int | None = None,
                   n_classified: int | None = None, n_skipped: int | None = None,
                   n_failed: int | None = None) -> None:
        self.conn.execute(
            "UPDATE runs SET finished = ?, status = ?, n_files = ?, n_classified = ?, "
            "n_skipped = ?, n_failed = ? WHERE id = ?",
            (_now(), status, n_files, n_classified, n_skipped, n_failed, run_id))

    # ---- skip logic
    def file_state(self, sha256: str) -> FileState | None:
        row = self.conn.execute(
            "SELECT sha256, path, status, error, model_version, run_id FROM files "
            "WHERE sha256 = ? AND current = 1", (sha256,)).fetchone()
        return FileState(*row) if row else None

    def already_done(self, sha256: str, model_version: str) -> bool:
        """True when the file is stored (ok or failed) under this model version."""
        state = self.file_state(sha256)
        return state is not None and state.model_version == model_version

    def plan(self, sha256: str, model_version: str, *, reclassify: bool = False,
             retry_failed: bool = False) -> str:
        """What a run should do with a file: ``new``, ``retry``, ``reclassify`` (classify it)
        or ``skip``, ``skip_failed``, ``skip_other_version`` (leave it)."""
        state = self.file_state(sha256)
        if state is None:
            return "new"
        if state.status == "failed":
            return "retry" if retry_failed else "skip_failed"
        if state.model_version == model_version:
            return "skip"
        return "reclassify" if reclassify else "skip_other_version"

    # ---- writing
    def write_file(self, sha256: str, path: str, results: Iterable[Classification | dict],
                   *, run_id: int | None, model_version: str, no_text: bool = False,
                   seconds: float | None = None,
                   texts: list[str | None] | None = None) -> int:
        """Store one file's results in ONE transaction; earlier rows of the same file become
        history (current=0). A file is ``failed`` when it yields no result or any result has
        status failed. ``texts``: masked body text per result (default: a ``text``
        field/attribute of the result); never stored with ``no_text``. Returns files.id."""
        from classifier.privacy import CPR_MASK, CPR_RE

        path = CPR_RE.sub(CPR_MASK, str(path))  # files are often named by CPR number
        records = [_as_dict(r) for r in results]
        for r in records:
            if r.get("source"):
                r["source"] = CPR_RE.sub(CPR_MASK, str(r["source"]))
        failed = [r for r in records if r.get("status", "ok") != "ok"]
        if not records:
            status, error = "failed", "no_decisions: the classifier returned no decision"
        elif failed:
            status = "failed"
            error = "; ".join(dict.fromkeys(str(r.get("error") or "failed") for r in failed))
        else:
            status, error = "ok", None
        last_pages = [_pages(r)[1] for r in records]
        pages = max((p for p in last_pages if p is not None), default=None)
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("UPDATE decisions SET current = 0 WHERE sha256 = ? AND current = 1",
                         (sha256,))
            conn.execute("UPDATE files SET current = 0 WHERE sha256 = ? AND current = 1",
                         (sha256,))
            file_id = conn.execute(
                "INSERT INTO files (sha256, path, status, error, pages, run_id, model_version, "
                "created, current, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                (sha256, str(path), status, error, pages, run_id, model_version, _now(),
                 seconds)).lastrowid
            for i, record in enumerate(records):
                text = None
                if not no_text:
                    text = texts[i] if texts is not None and i < len(texts) else \
                        record.get("text")
                _insert_decision(conn, file_id, sha256, record, run_id=run_id,
                                 model_version=model_version, text=text)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return file_id

    # ---- reading (same as the module functions)
    def iter_classifications(self, current: bool = True, **kw: Any) -> Iterator[Classification]:
        return iter_classifications(self.conn, current, **kw)

    def failures(self) -> list[Failure]:
        return failures(self.conn)

    def summary(self) -> dict[str, Any]:
        return summary(self.conn)


def open_store(path: str | os.PathLike = "anke.db") -> Store:
    return Store.open(path)


def _pages(record: dict[str, Any]) -> tuple[int | None, int | None]:
    pages = record.get("pages")
    if not pages:
        return None, None
    pages = list(pages)
    return pages[0], pages[-1]


def _insert_decision(conn: sqlite3.Connection, file_id: int, sha256: str,
                     record: dict[str, Any], *, run_id: int | None, model_version: str,
                     text: str | None) -> int:
    first, last = _pages(record)
    text = text if isinstance(text, str) else None
    extra = {k: v for k, v in record.items() if k not in _KNOWN_FIELDS}
    decision_id = conn.execute(
        """INSERT INTO decisions (file_id, sha256, decision_index, page_first, page_last,
               outcome, partial, kritik, law_area, municipality, first_instance,
               decision_date, case_number, format, confidence, needs_review, model_version,
               run_id, current, text, source, status, error, extra)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)""",
        (file_id, sha256, int(record.get("decision_index") or 0), first, last,
         record.get("outcome"), int(bool(record.get("partial"))),
         int(bool(record.get("kritik"))), record.get("law_area"), record.get("municipality"),
         record.get("first_instance"), record.get("decision_date"), record.get("case_number"),
         record.get("format"), record.get("confidence"), int(bool(record.get("needs_review"))),
         model_version, run_id, text, record.get("source"), record.get("status") or "ok",
         record.get("error"),
         json.dumps(extra, ensure_ascii=False) if extra else None)).lastrowid
    probabilities = record.get("probabilities") or {}
    labels: list[tuple[str, str]] = []
    if record.get("outcome"):
        labels.append(("outcome", record["outcome"]))
    if record.get("kritik"):
        labels.append(("kritik", "kritik"))
    labels += [("error", e) for e in record.get("errors") or []]
    conn.executemany(
        "INSERT INTO labels (decision_id, kind, label, probability, ord) VALUES (?, ?, ?, ?, ?)",
        [(decision_id, kind, label, _prob_for(probabilities, kind, label), i)
         for i, (kind, label) in enumerate(labels)])
    conn.executemany(
        "INSERT INTO probabilities (decision_id, ord, key, value) VALUES (?, ?, ?, ?)",
        [(decision_id, i, k, v) for i, (k, v) in enumerate(probabilities.items())])
    evidence = [e if isinstance(e, dict) else _evidence_dict(e)
                for e in record.get("evidence") or []]
    conn.executemany(
        "INSERT INTO evidence (decision_id, ord, label, text, page, section, probability) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(decision_id, i, e.get("label"), e.get("text"), e.get("page"), e.get("section"),
          e.get("probability")) for i, e in enumerate(evidence)])
    for table, key in (("instructions", "instructions"), ("citations", "citations"),
                       ("review_reasons", "review_reasons")):
        conn.executemany(
            f"INSERT INTO {table} (decision_id, ord, text) VALUES (?, ?, ?)",
            [(decision_id, i, str(t)) for i, t in enumerate(record.get(key) or [])])
    return decision_id


def _evidence_dict(ev: Evidence) -> dict[str, Any]:
    return {f.name: getattr(ev, f.name) for f in fields(ev)}


# --------------------------------------------------------------------------- reading

_DECISION_COLUMNS = (
    "id", "source", "sha256", "decision_index", "page_first", "page_last", "status", "error",
    "outcome", "partial", "kritik", "law_area", "municipality", "first_instance",
    "decision_date", "case_number", "format", "confidence", "needs_review", "text", "extra",
    "model_version", "run_id", "current",
)


def iter_rows(conn: Any, current: bool = True, *, include_failed: bool = True,
              batch: int = 500) -> Iterator[dict[str, Any]]:
    """Decision records as dicts in ``Classification.to_json()`` layout, plus the store's own
    keys ``model_version``, ``run_id``, ``current`` and ``text``. Ordered by source, index."""
    conn, opened = _as_conn(conn)
    try:
        where = []
        if current:
            where.append("current = 1")
        if not include_failed:
            where.append("status = 'ok'")
        sql = (f"SELECT {', '.join(_DECISION_COLUMNS)} FROM decisions "
               f"{'WHERE ' + ' AND '.join(where) if where else ''} "
               "ORDER BY source, sha256, decision_index, id")
        cur = conn.execute(sql)
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                break
            yield from _assemble(conn, [dict(zip(_DECISION_COLUMNS, row)) for row in rows])
    finally:
        if opened:
            conn.close()


def _children(conn: sqlite3.Connection, sql: str, ids: list[int]) -> dict[int, list[tuple]]:
    out: dict[int, list[tuple]] = {}
    marks = ",".join("?" * len(ids))
    for row in conn.execute(sql.format(marks=marks), ids):
        out.setdefault(row[0], []).append(row[1:])
    return out


def _assemble(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [r["id"] for r in rows]
    errors = _children(conn, "SELECT decision_id, label FROM labels WHERE kind = 'error' "
                             "AND decision_id IN ({marks}) ORDER BY decision_id, ord, id", ids)
    probs = _children(conn, "SELECT decision_id, key, value FROM probabilities "
                            "WHERE decision_id IN ({marks}) ORDER BY decision_id, ord, id", ids)
    evidence = _children(conn, "SELECT decision_id, label, text, page, section, probability "
                               "FROM evidence WHERE decision_id IN ({marks}) "
                               "ORDER BY decision_id, ord, id", ids)
    lists = {
        table: _children(conn, f"SELECT decision_id, text FROM {table} "
                               "WHERE decision_id IN ({marks}) ORDER BY decision_id, ord, id",
                         ids)
        for table in ("instructions", "citations", "review_reasons")
    }
    out = []
    for r in rows:
        i = r["id"]
        pages = ([r["page_first"], r["page_last"]]
                 if r["page_first"] is not None or r["page_last"] is not None else None)
        record: dict[str, Any] = {
            "source": r["source"],
            "sha256": r["sha256"],
            "decision_index": r["decision_index"],
            "pages": pages,
            "status": r["status"],
            "error": r["error"],
            "outcome": r["outcome"],
            "partial": bool(r["partial"]),
            "kritik": bool(r["kritik"]),
            "errors": [e for (e,) in errors.get(i, [])],
            "law_area": r["law_area"],
            "citations": [t for (t,) in lists["citations"].get(i, [])],
            "municipality": r["municipality"],
            "first_instance": r["first_instance"],
            "decision_date": r["decision_date"],
            "case_number": r["case_number"],
            "format": r["format"],
            "confidence": r["confidence"],
            "needs_review": bool(r["needs_review"]),
            "review_reasons": [t for (t,) in lists["review_reasons"].get(i, [])],
            "probabilities": {k: v for k, v in probs.get(i, [])},
            "evidence": [dict(zip(("label", "text", "page", "section", "probability"), e))
                         for e in evidence.get(i, [])],
            "instructions": [t for (t,) in lists["instructions"].get(i, [])],
        }
        if r["extra"]:
            record.update(json.loads(r["extra"]))
        record["text"] = r["text"]
        record["model_version"] = r["model_version"]
        record["run_id"] = r["run_id"]
        record["current"] = bool(r["current"])
        out.append(record)
    return out


def to_classification(record: dict[str, Any]) -> Classification:
    """A stored record back as a Classification (``text`` kept as an attribute, or as the
    field if a newer Classification has one)."""
    c = Classification.from_json(record)
    if "text" not in Classification.__dataclass_fields__ and record.get("text") is not None:
        c.text = record["text"]  # type: ignore[attr-defined]
    return c


def iter_classifications(conn: Any, current: bool = True, *,
                         include_failed: bool = True) -> Iterator[Classification]:
    """Stored decisions as Classification objects: ``c.to_json()`` is exactly the record
    ``classify --jsonl`` printed. Current rows by default (``current=False``: history too).
    Failed records (status failed) are included unless ``include_failed=False``."""
    for record in iter_rows(conn, current, include_failed=include_failed):
        yield to_classification(record)


def failures(conn: Any, current: bool = True) -> list[Failure]:
    """Files whose (current) classification failed, with the reason."""
    conn, opened = _as_conn(conn)
    try:
        rows = conn.execute(
            "SELECT path, sha256, error, model_version, run_id, created FROM files "
            f"WHERE status = 'failed' {'AND current = 1' if current else ''} "
            "ORDER BY path, id").fetchall()
        return [Failure(*row) for row in rows]
    finally:
        if opened:
            conn.close()


def summary(conn: Any) -> dict[str, Any]:
    """Counts over the current rows: files ok/failed, decisions per outcome, kritik, error
    types, law areas, needs_review, omgørelsesprocent, model versions and runs."""
    conn, opened = _as_conn(conn)
    try:
        q = lambda sql, *a: conn.execute(sql, a).fetchall()  # noqa: E731
        files = dict(q("SELECT status, COUNT(*) FROM files WHERE current = 1 GROUP BY status"))
        ok = "current = 1 AND status = 'ok'"
        outcomes = dict(q(f"SELECT outcome, COUNT(*) FROM decisions WHERE {ok} "
                          "GROUP BY outcome ORDER BY COUNT(*) DESC"))
        counted = {o: outcomes.get(o, 0) for o in OUTCOMES}
        treated = counted["stadfæstet"] + counted["ændret"] + counted["hjemvist"]
        rate = ((counted["ændret"] + counted["hjemvist"]) / treated) if treated else None
        errors = dict(q("SELECT l.label, COUNT(*) FROM labels l JOIN decisions d "
                        "ON d.id = l.decision_id WHERE d.current = 1 AND d.status = 'ok' "
                        "AND l.kind = 'error' GROUP BY l.label ORDER BY COUNT(*) DESC"))
        law_areas = dict(q(f"SELECT COALESCE(law_area, ''), COUNT(*) FROM decisions WHERE {ok} "
                           "GROUP BY law_area ORDER BY COUNT(*) DESC"))
        one = lambda sql: q(sql)[0][0]  # noqa: E731
        last_run = q("SELECT id, started, finished, status, model_version FROM runs "
                     "ORDER BY id DESC LIMIT 1")
        return {
            "schema_version": schema_version(conn),
            "runs": one("SELECT COUNT(*) FROM runs"),
            "last_run": dict(zip(("id", "started", "finished", "status", "model_version"),
                                 last_run[0])) if last_run else None,
            "files": {"total": sum(files.values()), "ok": files.get("ok", 0),
                      "failed": files.get("failed", 0)},
            "decisions": one(f"SELECT COUNT(*) FROM decisions WHERE {ok}"),
            "outcomes": {("" if k is None else k): v for k, v in outcomes.items()},
            "partial": one(f"SELECT COUNT(*) FROM decisions WHERE {ok} AND partial = 1"),
            "kritik": one(f"SELECT COUNT(*) FROM decisions WHERE {ok} AND kritik = 1"),
            "errors": errors,
            "law_areas": law_areas,
            "needs_review": one(f"SELECT COUNT(*) FROM decisions WHERE {ok} AND needs_review = 1"),
            "omgoerelsesprocent": rate,
            "model_versions": dict(q("SELECT model_version, COUNT(*) FROM files WHERE current = 1 "
                                     "GROUP BY model_version")),
            "history_rows": one("SELECT COUNT(*) FROM decisions WHERE current = 0"),
        }
    finally:
        if opened:
            conn.close()

