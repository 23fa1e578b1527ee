"""Parsing accuracy on the corpus test split rendered as PDFs (a script, not a test).

Prints, for born-digital PDFs with each engine and for scanned copies (OCR): the share of
decisions whose case number, decision date and kommune are exactly right, law area right, the
Resultat (afgørelse) and Begrundelse sections found; and for bundles, the share split exactly.

    .venv/bin/python bench/parse_accuracy.py [--split test] [--no-scanned] [--jobs 2]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CACHE = REPO / ".cache" / "eval_pdf"


def _pdf_for(d, scanned: bool) -> Path:
    from classifier.corpus.render import render_pdf, scan_pdf

    CACHE.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(d.text.encode()).hexdigest()[:10]
    pdf = CACHE / f"{d.id}-{key}.pdf"
    if not pdf.exists():
        render_pdf(d, pdf)
    if not scanned:
        return pdf
    scan = CACHE / f"{d.id}-{key}.scan.pdf"
    if not scan.exists():
        scan_pdf(pdf, scan)
    return scan


def _check_one(args) -> dict:
    decision_id, engine, scanned = args
    from classifier.corpus.load import load_corpus
    from classifier.ingest import load_document
    from classifier.segment import parse_document

    d = next(x for x in load_corpus() if x.id == decision_id)
    path = _pdf_for(d, scanned)
    try:
        pd = parse_document(load_document(path, engine=engine, ocr=True))[0]
    except Exception as exc:  # noqa: BLE001 - a script: count it as a miss
        return {"id": d.id, "error": repr(exc)}
    md = pd.metadata
    names = {s.name for s in pd.sections}
    return {
        "id": d.id,
        "case_number": md.case_number == d.case_number,
        "decision_date": md.decision_date == d.decision_date,
        "municipality": md.municipality == d.municipality,
        "law_area": md.law_area == d.law_area,
        "sections": "afgørelse" in names and "begrundelse" in names,
        "misses": [k for k, ok in (("case_number", md.case_number == d.case_number),
                                   ("decision_date", md.decision_date == d.decision_date),
                                   ("municipality", md.municipality == d.municipality),
                                   ("law_area", md.law_area == d.law_area),
                                   ("sections", "afgørelse" in names and "begrundelse" in names))
                   if not ok],
    }


def _bundles(decisions, engine: str, scanned: bool) -> tuple[int, int, list]:
    import random

    from classifier.corpus.render import render_bundle, scan_pdf
    from classifier.ingest import load_document
    from classifier.segment import split_decisions

    rng = random.Random(5)
    pool = list(decisions)
    rng.shuffle(pool)
    groups, i = [], 0
    while i < len(pool):
        n = rng.randint(3, 10)
        groups.append(pool[i:i + n])
        i += n
    exact = total = 0
    misses = []
    out = CACHE / "bundles"
    out.mkdir(parents=True, exist_ok=True)
    for k, group in enumerate(groups):
        path = out / f"bundle_{k:02d}.pdf"
        ranges = render_bundle(group, path, seed=k)
        if scanned:
            # keyed by the bundle's content: the test split (and so each bundle) can change
            key = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
            scan = out / f"bundle_{k:02d}-{key}.scan.pdf"
            if not scan.exists():
                scan_pdf(path, scan, seed=k)
            path = scan
        got = [(a + 1, b + 1) for a, b in split_decisions(load_document(path, engine=engine))]
        want = [(a, b) for _, a, b in ranges]
        total += len(want)
        exact += sum(1 for r in want if r in got)
        if got != want:
            misses.append((path.name, want, got))
    return exact, total, misses


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="test")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-scanned", action="store_true")
    args = ap.parse_args()

    from classifier.corpus.load import load_corpus

    decisions = load_corpus(args.split)
    runs = [("pdfium", False), ("pdfplumber", False)]
    if not args.no_scanned:
        runs.append(("pdfium", True))
    print(f"{args.split} split: {len(decisions)} decisions\n")
    header = f"{'input':<24}{'case no.':>10}{'date':>8}{'kommune':>9}{'law area':>10}{'sections':>10}{'bundles':>9}{'s/doc':>8}"
    print(header)
    print("-" * len(header))
    for engine, scanned in runs:
        t0 = time.perf_counter()
        with ProcessPoolExecutor(args.jobs) as ex:
            rows = list(ex.map(_check_one, [(d.id, engine, scanned) for d in decisions]))
        secs = (time.perf_counter() - t0) / len(decisions)
        exact, total, bmiss = _bundles(decisions, engine, scanned)

        def share(key):
            return sum(bool(r.get(key)) for r in rows) / len(rows)

        label = f"{'scanned (OCR)' if scanned else 'born-digital'} {engine}"
        print(f"{label:<24}{share('case_number'):>10.3f}{share('decision_date'):>8.3f}"
              f"{share('municipality'):>9.3f}{share('law_area'):>10.3f}{share('sections'):>10.3f}"
              f"{exact / total:>9.3f}{secs:>8.2f}")
        for r in rows:
            if r.get("error") or r.get("misses"):
                print(f"    miss {r['id']}: {r.get('error') or ', '.join(r['misses'])}")
        for name, want, got in bmiss:
            print(f"    bundle {name}: want {want} got {got}")


if __name__ == "__main__":
    main()
