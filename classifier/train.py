"""Training, threshold tuning and evaluation on the corpus splits.

    anke train      -> models/default.joblib + models/default.json
    anke evaluate   -> per-label P/R/F1, outcome confusion, ablation (combined / rules / model /
                       keyword baseline), trap precision

Train on ``train``, tune thresholds on ``dev``; ``test`` is only read by ``evaluate``.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from classifier.analysis import Analysis, analyse
from classifier.corpus.load import CorpusDecision, load_corpus
from classifier.decide import MODES, PRECISE_RULE, decide, label_scores, score
from classifier.ingest import text_document
from classifier.model import DEFAULT_MODEL, SENTENCE_LABELS, AnkeModel, fit, save_model
from classifier.schema import ERROR_TYPES, OUTCOMES, Classification
from classifier.segment import parse_document


def analyse_text(decision: CorpusDecision) -> Analysis:
    from classifier.corpus.render import plain_text

    doc = text_document(plain_text(decision), decision.id)
    return analyse(parse_document(doc)[0])


def corpus_hash(decisions: list[CorpusDecision]) -> str:
    h = hashlib.sha256()
    for d in decisions:
        h.update(json.dumps([d.id, d.outcome, d.kritik, d.errors, d.text], ensure_ascii=False)
                 .encode())
    return h.hexdigest()


def tune_thresholds(model: AnkeModel, dev: list[tuple[Analysis, CorpusDecision]]) -> dict:
    scores = [label_scores(a, model) for a, _ in dev]
    thresholds: dict[str, dict[str, float]] = {}
    for label in SENTENCE_LABELS:
        y = np.array([(label in g.errors) if label != "kritik" else g.kritik for _, g in dev])
        thresholds[label] = {}
        for mode in MODES:
            s = np.array([score(sc[label], mode, True) for sc in scores])
            if mode == "rules":
                grid = np.array([0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
            elif mode == "combined":
                # never above what a precise rule (strength >= PRECISE_RULE) gives on its own: a hand-written
                # pattern must be able to carry a label without the model (letters unlike the
                # corpus are where the model is weakest)
                grid = np.round(np.arange(0.15, PRECISE_RULE + 1e-9, 0.025), 3)
            else:
                grid = np.round(np.arange(0.15, 0.96, 0.025), 3)
            best_t, best_f = 0.5, -1.0
            for t in grid:
                pred = s >= t
                tp = int((pred & y).sum())
                f1 = 2 * tp / max(1, pred.sum() + y.sum())
                # prefer the higher threshold on ties (precision on unseen letters)
                if f1 >= best_f:
                    best_t, best_f = float(t), f1
            thresholds[label][mode] = best_t
    return thresholds


def train(seed: int = 0, out: Path = DEFAULT_MODEL, evaluate_dev: bool = True) -> dict:
    random.seed(seed)
    np.random.seed(seed)
    t0 = time.time()
    train_set = load_corpus("train")
    dev_set = load_corpus("dev")
    train_items = [(analyse_text(d), d) for d in train_set]
    dev_items = [(analyse_text(d), d) for d in dev_set]
    model = fit(train_items, seed=seed)
    model.thresholds = tune_thresholds(model, dev_items)
    dev_report = evaluate_items(dev_items, model) if evaluate_dev else {}
    model.info = {"seed": seed, "train": len(train_set), "dev": len(dev_set)}
    training = {"seed": seed, "train_decisions": len(train_set), "dev_decisions": len(dev_set),
                "corpus_sha256": corpus_hash(train_set + dev_set),
                "seconds": round(time.time() - t0, 1)}
    manifest = save_model(model, out, training=training,
                          evaluation={"dev": _headline(dev_report)} if dev_report else {})
    return {"manifest": manifest, "dev": dev_report}


# ------------------------------------------------------------------------------ evaluation

_BASELINE_OUTCOME = [("stadfæst", "stadfæstet"), ("ændr", "ændret"), ("ophæv", "ændret"),
                     ("hjemvis", "hjemvist"), ("afvis", "afvist")]
_BASELINE_ERRORS = {
    "officialprincip": r"oplyst|officialprincip", "begrundelse": r"begrundelse",
    "retsgrundlag": r"hjemmel|retsgrundlag", "partshøring": r"partshør",
    "sagsbehandlingstid": r"sagsbehandlingstid|frist", "notatpligt": r"notat",
    "vejledning": r"vejled", "konkret_vurdering": r"konkret|individuel", "kritik": r"kritik",
}


def keyword_baseline(analysis: Analysis) -> Classification:
    text = " ".join(s.text for s in analysis.decision.sentences if s.section != "header").lower()
    first = None
    for stem, label in _BASELINE_OUTCOME:
        i = text.find(stem)
        if i >= 0 and (first is None or i < first[0]):
            first = (i, label)
    found = {k: bool(re.search(p, text)) for k, p in _BASELINE_ERRORS.items()}
    return Classification(source="", sha256="", outcome=first[1] if first else "stadfæstet",
                          kritik=found["kritik"], errors=[e for e in ERROR_TYPES if found[e]])


def _prf(y_true, y_pred) -> dict:
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average="binary", zero_division=0)
    return {"precision": round(float(p), 3), "recall": round(float(r), 3), "f1": round(float(f), 3),
            "support": int(np.sum(y_true))}


def score_predictions(golds: list[CorpusDecision], preds: list[Classification]) -> dict:
    report: dict = {"n": len(golds)}
    yt = [g.outcome for g in golds]
    yp = [p.outcome or "none" for p in preds]
    report["outcome_accuracy"] = round(float(np.mean([a == b for a, b in zip(yt, yp)])), 3)
    labels = list(OUTCOMES)
    report["outcome_confusion"] = {"labels": labels,
                                   "matrix": confusion_matrix(yt, yp, labels=labels).tolist()}
    report["partial_accuracy"] = round(float(np.mean([g.partial == p.partial
                                                      for g, p in zip(golds, preds)])), 3)
    report["kritik"] = _prf(np.array([g.kritik for g in golds]), np.array([p.kritik for p in preds]))
    per = {}
    T = np.array([[e in g.errors for e in ERROR_TYPES] for g in golds], dtype=bool).reshape(-1, len(ERROR_TYPES))
    P = np.array([[e in p.errors for e in ERROR_TYPES] for p in preds], dtype=bool).reshape(-1, len(ERROR_TYPES))
    for k, e in enumerate(ERROR_TYPES):
        per[e] = _prf(T[:, k], P[:, k])
    report["errors"] = per
    tp = int((T & P).sum())
    micro_p = tp / max(1, P.sum())
    micro_r = tp / max(1, T.sum())
    report["errors_micro"] = {"precision": round(micro_p, 3), "recall": round(micro_r, 3),
                              "f1": round(2 * micro_p * micro_r / max(1e-9, micro_p + micro_r), 3)}
    traps = [k for k, g in enumerate(golds) if g.traps]
    if traps:
        tp_t = int((T[traps] & P[traps]).sum())
        report["trap_error_precision"] = round(tp_t / max(1, P[traps].sum()), 3)
        report["trap_decisions"] = len(traps)
        report["trap_false_errors"] = int((P[traps] & ~T[traps]).sum())
    return report


def evaluate_items(items: list[tuple[Analysis, CorpusDecision]], model: AnkeModel | None,
                   ablation: bool = True) -> dict:
    golds = [g for _, g in items]
    out = {"combined": score_predictions(golds, [decide(a, model, "combined") for a, _ in items])}
    if ablation:
        out["rules"] = score_predictions(golds, [decide(a, model, "rules") for a, _ in items])
        if model is not None:
            out["model"] = score_predictions(golds, [decide(a, model, "model") for a, _ in items])
        out["keyword_baseline"] = score_predictions(golds, [keyword_baseline(a) for a, _ in items])
    return out


def _headline(report: dict) -> dict:
    c = report.get("combined", {})
    return {"outcome_accuracy": c.get("outcome_accuracy"), "kritik_f1": c.get("kritik", {}).get("f1"),
            "errors_micro_f1": c.get("errors_micro", {}).get("f1"),
            "trap_error_precision": c.get("trap_error_precision")}


def _render_and_load(args) -> object:
    """Render (cached) one decision's PDF, optionally scan it, and read it (worker side)."""
    d, engine, scanned = args
    from classifier.corpus.render import render_pdf, scan_pdf
    from classifier.ingest import load_document

    cache = Path(__file__).resolve().parents[1] / ".cache" / "eval_pdf"
    cache.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(d.text.encode()).hexdigest()[:10]
    pdf = cache / f"{d.id}-{key}.pdf"
    if not pdf.exists():
        render_pdf(d, pdf)
    path = pdf
    if scanned:
        path = cache / f"{d.id}-{key}.scan.pdf"
        if not path.exists():
            scan_pdf(pdf, path)
    return load_document(path, engine=engine, ocr=True)


def analyse_pdfs(decisions: list[CorpusDecision], engine: str = "pdfium",
                 scanned: bool = False, jobs: int = 2) -> list[tuple[Analysis, CorpusDecision]]:
    """Render (cached under .cache/eval_pdf), read and analyse the decisions' PDFs; reading
    runs in ``jobs`` processes (OCR is the slow part)."""
    from concurrent.futures import ProcessPoolExecutor

    from classifier.segment import parse_decision, split_decisions

    tasks = [(d, engine, scanned) for d in decisions]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as ex:
            docs = list(ex.map(_render_and_load, tasks, chunksize=4))
    else:
        docs = [_render_and_load(t) for t in tasks]
    items = []
    for d, doc in zip(decisions, docs):
        ranges = split_decisions(doc)
        items.append((analyse(parse_decision(doc, ranges[0][0], ranges[0][1], 0)), d))
    return items
