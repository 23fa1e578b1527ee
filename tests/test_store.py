"""The SQLite store: schema and migrations, file mode, one transaction per file, history,
failures, exact round trip of the ``classify --jsonl`` record."""

from __future__ import annotations

import json
import os
import sqlite3
import stat

import pytest

from classifier import store as store_mod
from classifier.schema import Classification, Evidence
from classifier.store import (SCHEMA_VERSION, Store, StoreError, connect, failures,
                              iter_classifications, open_store, schema_version, summary)

MV1 = "rules-1+model-aaaa"
MV2 = "rules-2+model-bbbb"


def decision(sha: str, index: int = 0, **kw) -> Classification:
    base = dict(
        source=f"/indbakke/{sha[:6]}.pdf", sha256=sha, decision_index=index, pages=(1, 3),
        outcome="hjemvist", partial=False, kritik=True,
        errors=["officialprincip", "begrundelse"], law_area="tabt_arbejdsfortjeneste",
        citations=["serviceloven § 42, stk. 1", "retssikkerhedsloven § 10"],
        municipality="Gladsaxe Kommune", first_instance="Gladsaxe Kommune",
        decision_date="2024-03-12", case_number="24-012345", format="modern_letter",
        confidence=0.8125, needs_review=True, review_reasons=["low_confidence:outcome"],
        probabilities={"outcome:hjemvist": 0.8125, "outcome:ændret": 0.125,
                       "officialprincip": 0.91, "begrundelse": 0.77, "kritik": 0.66},
        evidence=[
            Evidence("hjemvist", "Det betyder, at vi hjemviser sagen til kommunen.", 1,
                     "afgørelse", 0.8125),
            Evidence("officialprincip", "Sagen er ikke tilstrækkeligt oplyst om dit "
                     "indtægtstab.", 2, "begrundelse", None),
        ],
        instructions=["Kommunen skal indhente oplysninger om din arbejdstid.",
                      "Kommunen skal træffe en ny afgørelse."],
    )
    base.update(kw)
    return Classification(**base)


def sha(n: int) -> str:
    return f"{n:064x}"


def test_new_store_has_current_schema_and_mode_0600(tmp_path):
    old = os.umask(0)  # the mode must not depend on a permissive umask
    try:
        path = tmp_path / "sub" / "anke.db"
        s = open_store(path)
        s.write_file(sha(1), "/x.pdf", [decision(sha(1))], run_id=None, model_version=MV1)
        assert schema_version(s.conn) == SCHEMA_VERSION == len(store_mod.MIGRATIONS)
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in s.conn.execute("SELECT name FROM sqlite_master")}
        assert {"runs", "files", "decisions", "labels", "evidence", "instructions",
                "citations", "review_reasons", "probabilities", "v_decisions"} <= tables
        for p in (path, path.with_name("anke.db-wal"), path.with_name("anke.db-shm")):
            assert p.exists(), p
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        s.close()
    finally:
        os.umask(old)


def test_migration_from_version_1_file(tmp_path):
    path = tmp_path / "v1.db"
    conn = connect(path, migrate_to=1)
    assert schema_version(conn) == 1
    conn.execute("INSERT INTO runs (id, started, model_version, engine, ocr, args) "
                 "VALUES (1, '2024-01-01T00:00:00+00:00', 'old', 'pdfium', 1, '{}')")
    conn.execute("INSERT INTO files (id, sha256, path, status, pages, run_id, model_version, "
                 "created) VALUES (1, ?, '/old/a.pdf', 'ok', 2, 1, 'old', 'then')", (sha(7),))
    conn.execute("INSERT INTO decisions (id, file_id, sha256, decision_index, page_first, "
                 "page_last, outcome, kritik, law_area, model_version, run_id) VALUES "
                 "(1, 1, ?, 0, 1, 2, 'ændret', 1, 'botilbud', 'old', 1)", (sha(7),))
    conn.executemany("INSERT INTO labels (decision_id, kind, label, probability) "
                     "VALUES (1, ?, ?, ?)", [("outcome", "ændret", 0.9),
                                              ("error", "retsgrundlag", 0.7),
                                              ("error", "partshøring", None)])
    conn.execute("INSERT INTO evidence (decision_id, label, text, page, section) "
                 "VALUES (1, 'ændret', 'Vi ændrer kommunens afgørelse.', 1, 'afgørelse')")
    conn.execute("INSERT INTO citations (decision_id, text) VALUES (1, 'serviceloven § 108')")
    conn.execute("INSERT INTO instructions (decision_id, ord, text) VALUES (1, 0, 'Gør noget.')")
    conn.close()

    s = open_store(path)  # migrates to the current version
    assert schema_version(s.conn) == SCHEMA_VERSION
    [c] = list(iter_classifications(s.conn))
    assert c.source == "/old/a.pdf" and c.status == "ok" and c.outcome == "ændret"
    assert c.errors == ["retsgrundlag", "partshøring"]
    assert c.citations == ["serviceloven § 108"] and c.instructions == ["Gør noget."]
    assert c.evidence == [Evidence("ændret", "Vi ændrer kommunens afgørelse.", 1, "afgørelse")]
    assert c.pages == (1, 2) and c.kritik is True
    assert s.conn.execute("SELECT status FROM runs").fetchone()[0] == "unknown"
    assert s.already_done(sha(7), "old")
    # new rows can be written next to the migrated ones
    s.write_file(sha(8), "/new/b.pdf", [decision(sha(8))], run_id=None, model_version=MV1)
    assert summary(s.conn)["files"]["ok"] == 2
    s.close()


def test_newer_or_foreign_file_is_refused(tmp_path):
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        connect(path)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"%PDF-1.7 this is not a database" * 100)
    with pytest.raises(StoreError, match="not a usable"):
        connect(junk)


def test_round_trip_is_exact_jsonl_record(tmp_path):
    s = open_store(tmp_path / "a.db")
    results = [decision(sha(1), 0),
               decision(sha(1), 1, outcome="stadfæstet", kritik=False, errors=[], pages=(4, 5),
                        evidence=[], instructions=[], probabilities={}, confidence=None,
                        needs_review=False, review_reasons=[], municipality=None)]
    results[0].text = "Du har klaget over [KOMMUNE]s afgørelse ..."  # masked body text
    s.write_file(sha(1), "/indbakke/bundle.pdf", results, run_id=None, model_version=MV1)
    back = list(s.iter_classifications())
    assert [c.to_json() for c in back] == [c.to_json() for c in results]
    assert json.dumps([c.to_json() for c in back], ensure_ascii=False) == \
        json.dumps([c.to_json() for c in results], ensure_ascii=False)
    assert back[0].text.startswith("Du har klaget")
    # labels table: queryable kinds with the probability picked from the dict
    rows = s.conn.execute("SELECT kind, label, probability FROM labels l JOIN decisions d "
                          "ON d.id = l.decision_id WHERE d.decision_index = 0 "
                          "ORDER BY l.ord").fetchall()
    assert rows == [("outcome", "hjemvist", 0.8125), ("kritik", "kritik", 0.66),
                    ("error", "officialprincip", 0.91), ("error", "begrundelse", 0.77)]
    assert s.conn.execute("SELECT pages FROM files").fetchone()[0] == 5
    s.close()


def test_no_text_stores_no_body_text(tmp_path):
    s = open_store(tmp_path / "a.db")
    c = decision(sha(1))
    c.text = "Kære [NAVN] ..."
    s.write_file(sha(1), "/a.pdf", [c], run_id=None, model_version=MV1, no_text=True)
    assert s.conn.execute("SELECT COUNT(*) FROM decisions WHERE text IS NOT NULL").fetchone() \
        == (0,)
    assert s.conn.execute("SELECT COUNT(*) FROM evidence").fetchone() == (2,)
    s.close()


def test_failed_file_is_stored_with_reason_and_retried_only_on_request(tmp_path):
    s = open_store(tmp_path / "a.db")
    run = s.start_run(MV1, engine="pdfium", ocr=True, args={})
    bad = Classification(source="/x/broken.pdf", sha256=sha(2), status="failed",
                         error="encrypted: the PDF needs a password")
    s.write_file(sha(2), "/x/broken.pdf", [bad], run_id=run, model_version=MV1)
    s.write_file(sha(3), "/x/empty.txt", [], run_id=run, model_version=MV1)
    fails = failures(s.conn)
    assert [(f.path, f.error) for f in fails] == [
        ("/x/broken.pdf", "encrypted: the PDF needs a password"),
        ("/x/empty.txt", "no_decisions: the classifier returned no decision")]
    assert s.plan(sha(2), MV1) == "skip_failed"
    assert s.plan(sha(2), MV1, retry_failed=True) == "retry"
    # the failed record itself round-trips (it is what classify --jsonl prints)
    assert [c.to_json() for c in s.iter_classifications()] == [bad.to_json()]
    assert [c.to_json() for c in s.iter_classifications(include_failed=False)] == []
    info = summary(s.conn)
    assert info["files"] == {"total": 2, "ok": 0, "failed": 2} and info["decisions"] == 0
    s.close()


def test_plan_skip_reclassify_matrix(tmp_path):
    s = open_store(tmp_path / "a.db")
    assert s.plan(sha(1), MV1) == "new" and not s.already_done(sha(1), MV1)
    s.write_file(sha(1), "/a.pdf", [decision(sha(1))], run_id=None, model_version=MV1)
    assert s.already_done(sha(1), MV1) and not s.already_done(sha(1), MV2)
    assert s.plan(sha(1), MV1) == "skip"
    assert s.plan(sha(1), MV1, reclassify=True) == "skip"  # same version: nothing to redo
    assert s.plan(sha(1), MV2) == "skip_other_version"
    assert s.plan(sha(1), MV2, reclassify=True) == "reclassify"
    s.close()


def test_reclassify_keeps_history_and_queries_default_to_current(tmp_path):
    s = open_store(tmp_path / "a.db")
    s.write_file(sha(1), "/a.pdf", [decision(sha(1))], run_id=None, model_version=MV1)
    s.write_file(sha(1), "/a.pdf", [decision(sha(1), outcome="ændret", errors=[])],
                 run_id=None, model_version=MV2)
    assert [c.outcome for c in s.iter_classifications()] == ["ændret"]
    assert sorted(c.outcome for c in s.iter_classifications(current=False)) == \
        ["hjemvist", "ændret"]
    rows = s.conn.execute("SELECT model_version, current FROM files ORDER BY id").fetchall()
    assert rows == [(MV1, 0), (MV2, 1)]
    assert s.conn.execute("SELECT model_version, current FROM decisions ORDER BY id"
                          ).fetchall() == [(MV1, 0), (MV2, 1)]
    info = summary(s.conn)
    assert info["decisions"] == 1 and info["history_rows"] == 1 and info["errors"] == {}
    # the database itself refuses two current rows for one file
    with pytest.raises(sqlite3.IntegrityError):
        s.conn.execute("INSERT INTO files (sha256, path, status, model_version, created) "
                       "VALUES (?, '/dup.pdf', 'ok', 'x', 'now')", (sha(1),))
    s.close()


def test_a_failure_mid_write_leaves_nothing_of_that_file(tmp_path, monkeypatch):
    s = open_store(tmp_path / "a.db")
    s.write_file(sha(1), "/a.pdf", [decision(sha(1))], run_id=None, model_version=MV1)
    before = {t: s.conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
              for t in ("files", "decisions", "labels", "evidence", "citations")}

    real = store_mod._insert_decision
    calls = {"n": 0}

    def flaky(conn, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 2:  # the second decision of the bundle
            raise OSError("disk full")
        return real(conn, *a, **kw)

    monkeypatch.setattr(store_mod, "_insert_decision", flaky)
    bundle = [decision(sha(1), 0), decision(sha(1), 1)]
    with pytest.raises(OSError):  # a reclassification of a stored file ...
        s.write_file(sha(1), "/a.pdf", bundle, run_id=None, model_version=MV2)
    calls["n"] = 0
    with pytest.raises(OSError):  # ... and a new file
        s.write_file(sha(2), "/b.pdf", [decision(sha(2), 0), decision(sha(2), 1)],
                     run_id=None, model_version=MV1)
    after = {t: s.conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in before}
    assert after == before  # old rows still current, nothing of either attempt
    assert not s.conn.in_transaction
    s.close()


def test_summary_counts_and_omgoerelsesprocent(tmp_path):
    s = open_store(tmp_path / "a.db")
    outcomes = ["stadfæstet"] * 5 + ["hjemvist"] * 3 + ["ændret", "afvist"]
    for i, o in enumerate(outcomes):
        s.write_file(sha(i), f"/{i}.pdf",
                     [decision(sha(i), outcome=o, kritik=(i % 2 == 0),
                               errors=["officialprincip"] if o == "hjemvist" else [],
                               needs_review=(i == 0))],
                     run_id=None, model_version=MV1)
    info = summary(s.conn)
    assert info["decisions"] == 10
    assert info["outcomes"] == {"stadfæstet": 5, "hjemvist": 3, "ændret": 1, "afvist": 1}
    assert info["errors"] == {"officialprincip": 3}
    assert info["kritik"] == 5 and info["needs_review"] == 1
    assert info["omgoerelsesprocent"] == pytest.approx(4 / 9)
    assert info["model_versions"] == {MV1: 10}
    # the read helpers also take a path, and never create a store
    assert summary(tmp_path / "a.db")["decisions"] == 10
    with pytest.raises(FileNotFoundError):
        summary(tmp_path / "typo.db")
    assert not (tmp_path / "typo.db").exists()
    assert isinstance(s, Store)
    s.close()
