"""anke — the command line. A thin shell: every command calls a library function."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Classify Ankestyrelsen decisions: outcome, kritik and case-handling errors.")
corpus_app = typer.Typer(no_args_is_help=True, help="The labelled corpus: stats, render, generate.")
app.add_typer(corpus_app, name="corpus")
console = Console()
err = Console(stderr=True)


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log details to stderr.")):
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(message)s", stream=sys.stderr)


# ------------------------------------------------------------------------------- classify

@app.command()
def classify(
    paths: List[str] = typer.Argument(..., help="PDF/.txt files, directories (recursive) or globs."),
    store: str = typer.Option("anke.db", "--store", help="SQLite store (created if missing)."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Worker processes."),
    jsonl: Optional[str] = typer.Option(None, "--jsonl", help="Also write JSON lines here ('-' = stdout)."),
    engine: str = typer.Option("pdfium", "--engine", help="PDF engine: pdfium (fast) or pdfplumber."),
    no_ocr: bool = typer.Option(False, "--no-ocr", help="Do not OCR scanned pages (they fail instead)."),
    reclassify: bool = typer.Option(False, "--reclassify", help="Re-run files stored under another model version."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Retry files that failed before."),
    no_text: bool = typer.Option(False, "--no-text", help="Store no body text (evidence sentences only, masked)."),
    cluster: Optional[str] = typer.Option(None, "--cluster", help="Dask scheduler, e.g. tcp://host:8786."),
    no_store: bool = typer.Option(False, "--no-store", help="Only print JSON lines; write no store."),
    timeout: float = typer.Option(120.0, "--timeout", help="Per-file time limit in seconds."),
):
    """Classify decisions into the store; exit 0 when every file succeeded, 3 when some failed."""
    from classifier.bulk import classify_paths, print_summary

    if no_store:
        from classifier.pipeline import classify_file
        from classifier.bulk import find_inputs

        files, missing = find_inputs(paths)
        failed = bool(missing)
        for m in missing:
            err.print(f"[red]no such input:[/] {m}")
        for f in files:
            for c in classify_file(f, engine=engine, ocr=not no_ocr, timeout=timeout):
                failed |= c.status != "ok"
                print(json.dumps(c.to_json(), ensure_ascii=False))
        raise typer.Exit(3 if failed else 0)
    summary = classify_paths(paths, store_path=store, jobs=jobs, jsonl=jsonl, engine=engine,
                             ocr=not no_ocr, reclassify=reclassify, retry_failed=retry_failed,
                             no_text=no_text, cluster=cluster, timeout=timeout,
                             progress=sys.stderr.isatty())
    print_summary(summary, console=Console(stderr=True) if jsonl == "-" else console)
    raise typer.Exit(summary.exit_code)


@app.command()
def failures(store: str = typer.Option("anke.db", "--store")):
    """List files that failed, with the reason."""
    from classifier.store import connect
    from classifier.store import failures as list_failures

    rows = list_failures(connect(store))
    table = Table("file", "sha256", "error", title=f"{len(rows)} failed file(s)")
    for f in rows:
        table.add_row(str(f.path), (f.sha256 or "")[:12], str(f.error))
    console.print(table)


@app.command()
def export(
    out: str = typer.Argument(..., help="Output file ('-' = stdout)."),
    fmt: str = typer.Option("jsonl", "--format", "-f", help="csv | jsonl | parquet"),
    store: str = typer.Option("anke.db", "--store"),
):
    """Export the stored decisions for BI tools (JSONL = the classify --jsonl format)."""
    from classifier.export import export as do_export

    n = do_export(store, fmt, out)
    err.print(f"exported {n} decision(s) as {fmt}")


# -------------------------------------------------------------------------------- inspect

@app.command()
def inspect(
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    engine: str = typer.Option("pdfium", "--engine"),
    no_ocr: bool = typer.Option(False, "--no-ocr"),
    png: Optional[Path] = typer.Option(None, "--png", help="Draw detected regions on page images here."),
    labels: bool = typer.Option(True, "--labels/--no-labels", help="Also show rule hits and the decision."),
):
    """Print the parsed structure of one file (pages, margin, sections, metadata, sentences)."""
    from classifier.inspect import inspect_file

    inspect_file(file, engine=engine, ocr=not no_ocr, png_dir=png, show_labels=labels,
                 console=console)


# ---------------------------------------------------------------------------- train/evaluate

@app.command()
def train(seed: int = typer.Option(0, "--seed"),
          out: Path = typer.Option(Path("models/default.joblib"), "--out")):
    """Train the model on the train split, tune thresholds on dev; writes the model + manifest."""
    from classifier.train import train as do_train

    result = do_train(seed=seed, out=out)
    m = result["manifest"]
    console.print(f"wrote {out} ({m['bytes'] / 1e6:.1f} MB, sha256 {m['sha256'][:12]}…) in "
                  f"{m['training']['seconds']} s")
    console.print_json(json.dumps(m["evaluation"], ensure_ascii=False))


@app.command()
def evaluate(
    split: str = typer.Option("test", "--split", help="train | dev | test"),
    pdf: bool = typer.Option(False, "--pdf", help="Evaluate on rendered PDFs instead of text."),
    engine: str = typer.Option("pdfium", "--engine"),
    scanned: bool = typer.Option(False, "--scanned", help="With --pdf: scanned copies (OCR)."),
    as_json: bool = typer.Option(False, "--json"),
    model: Path = typer.Option(Path("models/default.joblib"), "--model"),
):
    """Per-label precision/recall/F1, outcome confusion and the ablation table."""
    from classifier.evaluate import evaluate_split, print_report

    report = evaluate_split(split, pdf=pdf, engine=engine, scanned=scanned, model_path=model)
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print_report(report, Console(width=max(console.width, 150)))


# -------------------------------------------------------------------------- trends/report

@app.command()
def trends(
    by: str = typer.Option("year,outcome", "--by", help="Fields: year, half, quarter, month, "
                           "municipality, department, law_area, outcome, error"),
    store: str = typer.Option("anke.db", "--store"),
    since: Optional[str] = typer.Option(None, "--since"),
    until: Optional[str] = typer.Option(None, "--until"),
    municipality: Optional[str] = typer.Option(None, "--municipality"),
    department: Optional[str] = typer.Option(None, "--department"),
    law_area: Optional[str] = typer.Option(None, "--law-area"),
    csv: bool = typer.Option(False, "--csv"),
    as_json: bool = typer.Option(False, "--json"),
    chart: Optional[Path] = typer.Option(None, "--chart", help="Write a PNG chart."),
):
    """Error trends and omgørelsesprocent over the store."""
    from classifier import trends as tr

    fields = [f.strip() for f in by.split(",") if f.strip()]
    filters = dict(since=since, until=until, municipality=municipality, department=department,
                   law_area=law_area)
    try:
        rows = tr.trends(store, fields, **filters)
        if as_json:
            print(tr.trends_json(rows))
        elif csv:
            print(tr.trends_csv(rows), end="")
        else:
            console.print(tr.trends_cli_table(rows, compact=console.width < 150))
        if chart:
            tr.chart(store, chart, by=fields, **filters)
            err.print(f"chart written to {chart}")
    except (ValueError, FileNotFoundError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2)


@app.command()
def report(
    out: Path = typer.Argument(...),
    year: int = typer.Option(..., "--year"),
    store: str = typer.Option("anke.db", "--store"),
    department: Optional[str] = typer.Option(None, "--department"),
    national_rate: Optional[float] = typer.Option(None, "--national-rate"),
    fmt: str = typer.Option("md", "--format", help="md | html | docx"),
):
    """Write a Danish report chapter on the year's decisions."""
    from classifier.report import write_report

    try:
        write_report(store, year, out, fmt=fmt, department=department, national_rate=national_rate)
    except (ValueError, FileNotFoundError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2)
    err.print(f"report written to {out}")


# --------------------------------------------------------------------------------- corpus

@corpus_app.command("stats")
def corpus_stats_cmd(as_json: bool = typer.Option(False, "--json")):
    """Coverage of the labelled corpus."""
    from classifier.corpus.stats import corpus_stats

    stats = corpus_stats()
    if as_json:
        print(json.dumps(stats, ensure_ascii=False))
        return
    table = Table("measure", "value", title="anke corpus")
    for key, value in stats.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        table.add_row(key, str(value))
    console.print(table)


@corpus_app.command("render")
def corpus_render_cmd(
    out_dir: Path = typer.Argument(...),
    split: Optional[str] = typer.Option(None, "--split"),
    scanned: bool = typer.Option(False, "--scanned"),
    bundles: bool = typer.Option(False, "--bundles"),
    text: bool = typer.Option(False, "--text", help="Also write the plain-text version."),
):
    """Render corpus decisions as PDFs (born-digital, scanned, bundles)."""
    from classifier.corpus.render import render_corpus

    manifest = render_corpus(out_dir, split=split, scanned=scanned, bundles=bundles, text=text)
    err.print(f"rendered into {out_dir} (manifest {manifest})")


@corpus_app.command("generate")
def corpus_generate_cmd(n: int = typer.Option(300, "--n"), seed: int = typer.Option(7, "--seed")):
    """(Re)generate the composed part of the corpus, seeded."""
    from classifier.corpus.generate import generate

    paths = generate(n=n, seed=seed)
    err.print(f"wrote {len(paths)} generated decisions")


@corpus_app.command("examples")
def corpus_examples_cmd():
    """Rebuild corpus/examples (the files make run classifies)."""
    from classifier.corpus.render import build_examples

    build_examples()


if __name__ == "__main__":
    app()
