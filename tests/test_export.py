"""Export of the store: JSONL (exactly the classify --jsonl records), CSV, Parquet."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest

from classifier.export import CSV_COLUMNS, ExportError, export, read_parquet_classifications
from classifier.schema import Classification, Evidence
from classifier.store import iter_classifications, open_store

MV = "rules-1"


def _sha(n: int) -> str:
    return f"{n:064x}"


def _records() -> list[Classification]:
    hjemvist = Classification(
        source="/indbakke/2024/24-012345.pdf", sha256=_sha(1), decision_index=0, pages=(1, 4),
        outcome="hjemvist", kritik=True, errors=["officialprincip", "begrundelse"],
        law_area="tabt_arbejdsfortjeneste",
        citations=["serviceloven § 42, stk. 1", "forvaltningsloven § 22"],
        municipality="Gladsaxe Kommune", first_instance="Gladsaxe Kommune",
        decision_date="2024-03-12", case_number="24-012345", format="modern_letter",
        confidence=0.87, probabilities={"outcome:hjemvist": 0.87, "officialprincip": 0.9,
                                        "begrundelse": 0.71, "kritik": 0.64},
        evidence=[Evidence("hjemvist", "Det betyder, at vi hjemviser sagen.", 1, "afgørelse",
                           0.87),
                  Evidence("begrundelse", "Begrundelsen er ikke dækkende; beregningen "
                           "mangler.", 2, "begrundelse", None)],
        instructions=["Kommunen skal indhente lægelige oplysninger.",
                      "Kommunen skal træffe en ny afgørelse."])
    stadfaestet = Classification(
        source="/indbakke/2024/bundt.pdf", sha256=_sha(2), decision_index=1, pages=(5, 7),
        outcome="stadfæstet", partial=True, law_area="sygedagpenge",
        citations=["sygedagpengeloven § 7"], municipality="Køge Kommune",
        first_instance="Køge Kommune", decision_date="2023-11-30", case_number="23-998877",
        format="letter_to_municipality", confidence=0.55, needs_review=True,
        review_reasons=["low_confidence:outcome", "partial"],
        probabilities={"outcome:stadfæstet": 0.55})
    failed = Classification(source="/indbakke/2024/låst.pdf", sha256=_sha(3),
                            status="failed", error="encrypted: the PDF needs a password")
    return [hjemvist, stadfaestet, failed]


@pytest.fixture()
def db(tmp_path):
    path = tmp_path / "anke.db"
    s = open_store(path)
    hjemvist, stadfaestet, failed = _records()
    # an older classification of file 1, kept as history, must not be exported
    old = Classification.from_json(hjemvist.to_json() | {"outcome": "stadfæstet"})
    s.write_file(_sha(1), hjemvist.source, [old], run_id=None, model_version="rules-0")
    s.write_file(_sha(1), hjemvist.source, [hjemvist], run_id=None, model_version=MV)
    first = Classification.from_json(stadfaestet.to_json() | {"decision_index": 0,
                                                              "pages": [1, 4]})
    s.write_file(_sha(2), stadfaestet.source, [first, stadfaestet], run_id=None,
                 model_version=MV)
    s.write_file(_sha(3), failed.source, [failed], run_id=None, model_version=MV)
    s.close()
    return path


def _expected(db) -> list[dict]:
    return [c.to_json() for c in iter_classifications(db)]


def test_jsonl_is_exactly_the_classify_jsonl_records(db, tmp_path):
    out = tmp_path / "out.jsonl"
    n = export(db, "jsonl", out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert n == len(lines) == 4  # 3 current decisions + 1 failed record; no history
    records = [json.loads(line) for line in lines]
    assert records == _expected(db)
    hjemvist, stadfaestet, failed = _records()
    by_key = {(r["sha256"], r["decision_index"]): r for r in records}
    assert by_key[(_sha(1), 0)] == hjemvist.to_json()
    assert by_key[(_sha(2), 1)] == stadfaestet.to_json()
    assert by_key[(_sha(3), 0)] == failed.to_json()
    # and back into Classification objects
    assert Classification.from_json(by_key[(_sha(1), 0)]) == \
        Classification.from_json(hjemvist.to_json())
    assert "æ" in out.read_text(encoding="utf-8")  # UTF-8, not \u escapes
    assert export(db, "jsonl", tmp_path / "ok.jsonl", include_failed=False) == 3


def test_csv_one_row_per_decision_with_joined_lists(db, tmp_path):
    out = tmp_path / "out.csv"
    assert export(db, "csv", out) == 4
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(CSV_COLUMNS)
    expected = _expected(db)
    assert len(rows) == len(expected)
    for row, rec in zip(rows, expected):
        assert row["sha256"] == rec["sha256"]
        assert int(row["decision_index"]) == rec["decision_index"]
        assert (row["errors"].split(";") if row["errors"] else []) == rec["errors"]
        assert (row["citations"].split(";") if row["citations"] else []) == rec["citations"]
        assert row["outcome"] == (rec["outcome"] or "")
        assert row["kritik"] == str(int(rec["kritik"]))
        assert row["status"] == rec["status"] and row["error"] == (rec["error"] or "")
        pages = rec["pages"] or ["", ""]
        assert [row["page_first"], row["page_last"]] == [str(p) for p in pages]
        assert row["model_version"] == MV
    hj = next(r for r in rows if r["outcome"] == "hjemvist")
    assert hj["errors"] == "officialprincip;begrundelse"
    assert hj["confidence"] == "0.87"


def test_parquet_round_trip(db, tmp_path):
    pytest.importorskip("pyarrow")
    out = tmp_path / "out.parquet"
    assert export(db, "parquet", out) == 4
    assert read_parquet_classifications(out) == _expected(db)


def test_stdout_and_errors(db, tmp_path, monkeypatch, capsys):
    assert export(db, "jsonl", "-") == 4
    assert len(capsys.readouterr().out.splitlines()) == 4
    buf = io.StringIO()
    assert export(db, "CSV", buf) == 4 and buf.getvalue().startswith("source,sha256,")
    with pytest.raises(ExportError, match="unknown export format"):
        export(db, "xlsx", tmp_path / "x")
    with pytest.raises(ExportError, match="no store"):
        export(tmp_path / "missing.db", "jsonl", tmp_path / "x.jsonl")
    assert not (tmp_path / "x.jsonl").exists()
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ExportError, match="pip install"):
        export(db, "parquet", tmp_path / "x.parquet")


def test_end_to_end_bulk_run_then_export(tmp_path):
    """Real classifier on letters (.txt and a rendered PDF bundle): every export format
    gives back what ``classify --jsonl`` printed during the run."""
    pytest.importorskip("pyarrow")
    from test_bulk import corpus_decision, write_letters

    from classifier.bulk import classify_paths
    from classifier.corpus.render import render_bundle

    inbox = tmp_path / "in"
    write_letters(inbox, 5)
    render_bundle([corpus_decision(i) for i in (30, 31, 32)], inbox / "bundt.pdf", seed=1)
    (inbox / "kaput.pdf").write_text("<html>Sessionen er udløbet</html>")
    db, run_jsonl = tmp_path / "anke.db", tmp_path / "run.jsonl"
    summary = classify_paths([inbox], store_path=db, jsonl=run_jsonl, progress=False)
    assert summary.decisions == 8 and len(summary.failed) == 1

    def lines(path):
        return sorted(path.read_text(encoding="utf-8").splitlines())

    assert export(db, "jsonl", tmp_path / "e.jsonl") == 9
    assert lines(tmp_path / "e.jsonl") == lines(run_jsonl)
    printed = sorted((json.loads(x) for x in lines(run_jsonl)),
                     key=lambda r: (r["source"], r["decision_index"]))
    assert export(db, "parquet", tmp_path / "e.parquet") == 9
    assert sorted(read_parquet_classifications(tmp_path / "e.parquet"),
                  key=lambda r: (r["source"], r["decision_index"])) == printed
    assert export(db, "csv", tmp_path / "e.csv") == 9
    with open(tmp_path / "e.csv", encoding="utf-8", newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: (r["source"], int(r["decision_index"])))
    assert [(r["outcome"] or None, r["errors"].split(";") if r["errors"] else [])
            for r in rows] == [(p["outcome"], p["errors"]) for p in printed]
