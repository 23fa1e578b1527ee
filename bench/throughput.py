"""Throughput benchmark (a script, not a test): prints figures, asserts nothing.

Builds N rendered corpus decisions (distinct files: each rendering varies the layout seed) and
measures, in one run on this machine:

- raw pypdfium2 text extraction (all pages' text) — docs/s
- raw pdfplumber ``extract_text`` — docs/s (on a sample: it is slow)
- anke end to end (parse, classify, store) per engine with --jobs 1 and --jobs 2 — docs/s
- the ratios anke / raw per engine, and --jobs 2 / --jobs 1
- peak RSS of an end-to-end run over N files and over 5×N files

    .venv/bin/python bench/throughput.py [--n 2000] [--plumber-sample 200] [--rss-factor 5]
                                         [--no-appendix]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CACHE = REPO / ".cache" / "bench"


def build(n: int, appendix: bool = True) -> tuple[Path, list[Path]]:
    """N distinct rendered decisions (cached between runs), by default with the "Love og regler"
    appendix real letters carry (3.0 pages a decision on average; without it 2.1)."""
    from classifier.corpus.load import load_corpus
    from classifier.corpus.render import render_pdf

    out = CACHE / (f"pdf-{n}-bilag" if appendix else f"pdf-{n}")
    out.mkdir(parents=True, exist_ok=True)
    corpus = load_corpus()
    paths = []
    for k in range(n):
        path = out / f"d{k:06d}.pdf"
        if not path.exists():
            render_pdf(corpus[k % len(corpus)], path, seed=k // len(corpus), appendix=appendix)
        paths.append(path)
    return out, paths


def pages_of(paths: list[Path]) -> float:
    import pypdfium2 as pdfium

    counts = []
    for p in paths[:300]:
        pdf = pdfium.PdfDocument(str(p))
        counts.append(len(pdf))
        pdf.close()
    return statistics.mean(counts)


def raw_pdfium(paths: list[Path]) -> float:
    import pypdfium2 as pdfium

    t0 = time.perf_counter()
    for p in paths:
        pdf = pdfium.PdfDocument(str(p))
        for page in pdf:
            tp = page.get_textpage()
            tp.get_text_range()
            tp.close()
            page.close()
        pdf.close()
    return len(paths) / (time.perf_counter() - t0)


def raw_pdfplumber(paths: list[Path]) -> float:
    import pdfplumber

    t0 = time.perf_counter()
    for p in paths:
        with pdfplumber.open(str(p)) as pdf:
            for page in pdf.pages:
                page.extract_text()
    return len(paths) / (time.perf_counter() - t0)


DRIVER = """
import sys, time, json, resource
from classifier.bulk import classify_paths
t0 = time.perf_counter()
s = classify_paths([sys.argv[1]], store_path=sys.argv[2], jobs=int(sys.argv[3]), engine=sys.argv[4],
                   progress=False)
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": time.perf_counter() - t0, "files": s.files_found,
                  "exit": s.exit_code, "rss_kb": max(own, workers)}))
"""


def end_to_end(folder: Path, engine: str, jobs: int) -> dict:
    """One `classify_paths` run into a fresh store, in a child process (peak RSS measured)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "bench.db"
        out = subprocess.run([sys.executable, "-c", DRIVER, str(folder), str(store), str(jobs),
                              engine], capture_output=True, text=True, cwd=REPO, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
    result["docs_per_s"] = result["files"] / result["seconds"]
    result["peak_rss_mb"] = result["rss_kb"] / 1024  # the driver or its largest worker
    return result


def sample_folder(paths: list[Path], n: int) -> Path:
    folder = CACHE / f"sample-{n}-{paths[0].parent.name}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for p in paths[:n]:
        os.link(p, folder / p.name)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--plumber-sample", type=int, default=200,
                    help="files for the (slow) pdfplumber measurements")
    ap.add_argument("--rss-factor", type=int, default=5)
    ap.add_argument("--skip-rss", action="store_true")
    ap.add_argument("--no-appendix", action="store_true",
                    help="letters without the Love og regler appendix (2.1 pages instead of 3.0)")
    args = ap.parse_args()

    folder, paths = build(args.n, appendix=not args.no_appendix)
    print(f"{args.n} rendered decisions, {pages_of(paths):.1f} pages each on average, "
          f"{os.cpu_count()} cores\n")
    plumber_folder = sample_folder(paths, min(args.plumber_sample, args.n))
    plumber_paths = sorted(plumber_folder.glob("*.pdf"))

    rows = []
    r_pdfium = raw_pdfium(paths)
    rows.append(("raw pypdfium2 text extraction", f"{r_pdfium:8.1f} docs/s", f"N={args.n}"))
    r_plumber = raw_pdfplumber(plumber_paths)
    rows.append(("raw pdfplumber extract_text", f"{r_plumber:8.1f} docs/s", f"N={len(plumber_paths)}"))
    e2e = {}
    for engine, target in (("pdfium", folder), ("pdfplumber", plumber_folder)):
        for jobs in (1, 2):
            res = end_to_end(target, engine, jobs)
            e2e[(engine, jobs)] = res
            rows.append((f"anke end-to-end, {engine}, --jobs {jobs}",
                         f"{res['docs_per_s']:8.1f} docs/s",
                         f"N={res['files']}, peak RSS {res['peak_rss_mb']:.0f} MB"))
    for label, value, note in rows:
        print(f"{label:<42}{value:>16}   {note}")
    p1, p2 = e2e[("pdfium", 1)]["docs_per_s"], e2e[("pdfium", 2)]["docs_per_s"]
    q1, q2 = e2e[("pdfplumber", 1)]["docs_per_s"], e2e[("pdfplumber", 2)]["docs_per_s"]
    print()
    print(f"pdfium engine end-to-end / raw pdfplumber extract_text:   {p1 / r_plumber:6.2f}x faster")
    print(f"raw pypdfium2 / pdfium engine end-to-end:                 {r_pdfium / p1:6.2f}x (slowdown)")
    print(f"pdfplumber engine end-to-end time / raw extract_text time: {r_plumber / q1:6.2f}x")
    print(f"--jobs 2 / --jobs 1 (pdfium):                             {p2 / p1:6.2f}x")
    print(f"--jobs 2 / --jobs 1 (pdfplumber):                         {q2 / q1:6.2f}x")
    if not args.skip_rss:
        big_n = args.n * args.rss_factor
        big_folder, _ = build(big_n, appendix=not args.no_appendix)
        big = end_to_end(big_folder, "pdfium", 1)
        small = e2e[("pdfium", 1)]["peak_rss_mb"]
        print(f"peak RSS, pdfium --jobs 1: N={args.n}: {small:.0f} MB, "
              f"{args.rss_factor}xN={big_n}: {big['peak_rss_mb']:.0f} MB "
              f"({(big['peak_rss_mb'] / small - 1) * 100:+.1f} %), "
              f"{big['docs_per_s']:.1f} docs/s")


if __name__ == "__main__":
    main()
