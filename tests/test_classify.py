"""Labelling end to end: output format, model integrity, reproducible training, quality."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from classifier.corpus.load import load_corpus
from classifier.corpus.render import plain_text, render_pdf
from classifier.model import DEFAULT_MODEL, ModelIntegrityError, fit, load_model, tfidf_transform
from classifier.pipeline import classify_pdf, classify_text
from classifier.schema import ERROR_TYPES, OUTCOMES
from classifier.train import analyse_text, evaluate_items

REQUIRED = {"source", "sha256", "decision_index", "pages", "status", "error", "outcome", "partial",
            "kritik", "errors", "law_area", "citations", "municipality", "decision_date",
            "case_number", "confidence", "needs_review", "evidence", "instructions"}


@pytest.fixture(scope="module")
def test_split():
    return load_corpus("test")


def test_classify_text_output_has_the_documented_fields(test_split):
    d = next(x for x in test_split if x.outcome == "hjemvist" and x.errors)
    [c] = classify_text(plain_text(d), source="letter.txt")
    data = c.to_json()
    assert REQUIRED <= set(data)
    assert data["status"] == "ok" and data["outcome"] in OUTCOMES
    assert set(data["errors"]) <= set(ERROR_TYPES)
    assert data["case_number"] == d.case_number and data["decision_date"] == d.decision_date
    assert data["instructions"], "a remitted case lists what the kommune must do"
    labels = {e["label"] for e in data["evidence"]}
    assert "outcome" in labels and set(data["errors"]) <= labels
    for ev in data["evidence"]:
        assert ev["text"] and ev["page"] >= 1 and ev["section"]
    json.dumps(data, ensure_ascii=False)


def test_pdf_and_text_agree(test_split, tmp_path):
    for d in test_split[:6]:
        pdf = tmp_path / f"{d.id}.pdf"
        render_pdf(d, pdf)
        [a] = classify_pdf(pdf)
        [b] = classify_text(plain_text(d))
        assert (a.outcome, a.kritik, a.errors) == (b.outcome, b.kritik, b.errors), d.id
        assert a.pages == (1, _page_count(pdf))


def _page_count(pdf):
    import pypdfium2

    return len(pypdfium2.PdfDocument(str(pdf)))


def test_cli_classify_jsonl_over_txt_and_pdf(test_split, tmp_path):
    d = test_split[0]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(plain_text(d), encoding="utf-8")
    (tmp_path / "in" / "sub").mkdir()
    render_pdf(test_split[1], tmp_path / "in" / "sub" / "b.pdf")
    out = subprocess.run([sys.executable, "-m", "classifier.cli", "classify", "--no-store",
                          "--jsonl", "-", str(tmp_path / "in")], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.strip()]
    assert len(lines) == 2
    assert {Path(x["source"]).name for x in lines} == {"a.txt", "b.pdf"}
    assert all(REQUIRED <= set(x) for x in lines)


def test_model_refuses_a_file_that_does_not_match_its_manifest(tmp_path):
    model = tmp_path / "m.joblib"
    shutil.copy(DEFAULT_MODEL, model)
    shutil.copy(DEFAULT_MODEL.with_suffix(".json"), model.with_suffix(".json"))
    load_model(model)  # intact: loads
    with open(model, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelIntegrityError, match="does not match its manifest"):
        load_model(model)


def test_shipped_model_size_and_manifest():
    manifest = json.loads(DEFAULT_MODEL.with_suffix(".json").read_text())
    assert DEFAULT_MODEL.stat().st_size < 20 * 1024 * 1024
    assert manifest["bytes"] == DEFAULT_MODEL.stat().st_size
    assert {"scikit-learn", "spacy"} <= set(manifest["libraries"])
    assert len(manifest["training"]["corpus_sha256"]) == 64


def test_fast_tfidf_equals_scikit_learn_transform():
    """The inference shortcut must give scikit-learn's numbers for both shipped vectorizers."""
    model = load_model(DEFAULT_MODEL)
    analyses = [analyse_text(d) for d in load_corpus("dev")[:40]]
    cases = [(model.sentence_features, [r for a in analyses for r in a.reprs]),
             (model.outcome.named_steps["tfidf"], [a.outcome_text() for a in analyses])]
    for vectorizer, texts in cases:
        expected, got = vectorizer.transform(texts), tfidf_transform(vectorizer, texts)
        assert got.shape == expected.shape and got.nnz == expected.nnz > 1000
        assert abs(expected - got).max() < 1e-12


def test_training_is_reproducible():
    items = [(analyse_text(d), d) for d in load_corpus("train")[:60]]
    a, b = fit(items, seed=3), fit(items, seed=3)
    probe = [x for x, _ in items[:10]]
    for x in probe:
        pa, pb = a.sentence_probabilities(x), b.sentence_probabilities(x)
        assert all(np.array_equal(pa[k], pb[k]) for k in pa)
        assert a.outcome_probabilities(x) == b.outcome_probabilities(x)


@pytest.mark.slow
def test_shipped_model_quality_on_the_test_split(test_split):
    """Guards the figures quoted in the README against regressions (text input)."""
    report = evaluate_items([(analyse_text(d), d) for d in test_split], load_model(), ablation=True)
    c = report["combined"]
    assert c["outcome_accuracy"] >= 0.95
    assert c["kritik"]["f1"] >= 0.9
    assert c["errors_micro"]["f1"] >= 0.85
    assert c["errors_micro"]["f1"] > report["rules"]["errors_micro"]["f1"]
    assert c["errors_micro"]["f1"] > report["keyword_baseline"]["errors_micro"]["f1"]
