"""``anke evaluate``: score the classifier on a corpus split, as text or as rendered PDFs."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from classifier.corpus.load import load_corpus
from classifier.model import DEFAULT_MODEL, load_model
from classifier.schema import ERROR_TYPES, OUTCOMES
from classifier.train import analyse_pdfs, analyse_text, evaluate_items

MODES = ("combined", "rules", "model", "keyword_baseline")


def evaluate_split(split: str = "test", *, pdf: bool = False, engine: str = "pdfium",
                   scanned: bool = False, model_path: Path = DEFAULT_MODEL) -> dict:
    decisions = load_corpus(split)
    model = load_model(model_path) if Path(model_path).exists() else None
    items = analyse_pdfs(decisions, engine=engine, scanned=scanned) if pdf else \
        [(analyse_text(d), d) for d in decisions]
    report = evaluate_items(items, model)
    report["input"] = {"split": split, "decisions": len(decisions),
                       "as": ("scanned PDF" if scanned else f"PDF ({engine})") if pdf else "text"}
    return report


def print_report(report: dict, console: Console) -> None:
    inp = report["input"]
    console.print(f"[bold]{inp['split']} split[/], {inp['decisions']} decisions, read as {inp['as']}")
    modes = [m for m in MODES if m in report]
    head = Table("measure", *modes, title="Headline (ablation)")
    rows = [
        ("outcome accuracy", lambda r: r["outcome_accuracy"]),
        ("partial accuracy", lambda r: r["partial_accuracy"]),
        ("kritik F1", lambda r: r["kritik"]["f1"]),
        ("errors micro-P", lambda r: r["errors_micro"]["precision"]),
        ("errors micro-R", lambda r: r["errors_micro"]["recall"]),
        ("errors micro-F1", lambda r: r["errors_micro"]["f1"]),
        ("trap decisions: error precision", lambda r: r.get("trap_error_precision", "-")),
    ]
    for name, get in rows:
        head.add_row(name, *[f"{get(report[m]):.3f}" if isinstance(get(report[m]), float)
                             else str(get(report[m])) for m in modes])
    console.print(head)
    per = Table("label", "support", *[f"{m} P/R/F1" for m in modes], title="Per label")
    for label in ("kritik",) + ERROR_TYPES:
        cells = []
        for m in modes:
            r = report[m]["kritik"] if label == "kritik" else report[m]["errors"][label]
            cells.append(f"{r['precision']:.2f}/{r['recall']:.2f}/{r['f1']:.2f}")
        sup = (report["combined"]["kritik"] if label == "kritik"
               else report["combined"]["errors"][label])["support"]
        per.add_row(label, str(sup), *cells)
    console.print(per)
    conf = report["combined"]["outcome_confusion"]
    table = Table("gold \\ predicted", *conf["labels"], title="Outcome confusion (combined)")
    for label, row in zip(conf["labels"], conf["matrix"]):
        table.add_row(label, *map(str, row))
    console.print(table)


__all__ = ["evaluate_split", "print_report", "OUTCOMES"]
