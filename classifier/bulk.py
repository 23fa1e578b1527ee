"""Bulk classification of many files into the SQLite store.

    classify_paths(["inbox/", "2024/**/*.pdf"], store_path="anke.db", jobs=4) -> RunSummary

Walks directories (recursively) and globs for PDF and .txt files, hashes them, skips files the
store already holds for this model version, classifies the rest (in-process, in a spawn-safe
process pool, or on a Dask cluster) and writes each file's results in one transaction. Only the
main process writes the store, so a crash or ``kill -9`` loses at most the files in flight; a
rerun picks them up and nothing is stored twice.
"""

from __future__ import annotations

import glob
import json
import multiprocessing as mp
import os
import pickle
import sys
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from classifier.hashing import file_sha256
from classifier.schema import ERROR_TYPES, OUTCOMES, Classification
from classifier.store import Store, connect

SUFFIXES = (".pdf", ".txt")
EXIT_OK = 0
EXIT_FAILED = 3
EXIT_INTERRUPTED = 130
_GLOB_CHARS = set("*?[")

ClassifyFn = Callable[..., list[Classification]]


# --------------------------------------------------------------------------- inputs

def find_inputs(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[str]]:
    """Expand directories (recursively) and glob patterns to PDF/.txt files.

    A file named explicitly is taken whatever its suffix (the classifier reports what it
    cannot read). Returns (files sorted and de-duplicated, arguments that matched nothing)."""
    found: dict[Path, None] = {}
    missing: list[str] = []

    def add_dir(d: Path) -> None:
        for root, dirs, files in os.walk(d):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.lower().endswith(SUFFIXES) and not name.startswith("."):
                    found[Path(root, name).resolve()] = None

    for arg in paths:
        text = os.fspath(arg)
        p = Path(text).expanduser()
        if p.is_dir():
            add_dir(p)
        elif p.is_file():
            found[p.resolve()] = None
        elif _GLOB_CHARS & set(text):
            hits = sorted(glob.glob(os.path.expanduser(text), recursive=True))
            for hit in hits:
                h = Path(hit)
                if h.is_dir():
                    add_dir(h)
                elif h.is_file() and h.name.lower().endswith(SUFFIXES):
                    found[h.resolve()] = None
            if not hits:
                missing.append(text)
        else:
            missing.append(text)
    return sorted(found), missing


# --------------------------------------------------------------------------- worker side

def is_fatal(exc: BaseException) -> bool:
    """Errors that are not about one file and must stop the whole batch (a broken or
    tampered model file): ``classifier.model.ModelIntegrityError``."""
    try:
        from classifier.model import ModelIntegrityError
    except Exception:  # noqa: BLE001 - the model module is optional here
        return type(exc).__name__ == "ModelIntegrityError"
    return isinstance(exc, ModelIntegrityError)


def _masked(message: str) -> str:
    """An exception message may quote the letter: mask personal data before storing it."""
    try:
        from classifier.privacy import mask_text
        return mask_text(message)
    except Exception:  # noqa: BLE001 - never fail while reporting a failure
        return message


def _failed(path: str, sha256: str, error: str) -> dict[str, Any]:
    return Classification(source=path, sha256=sha256, status="failed", error=error).to_json()


def classify_one(path: str, sha256: str, *, engine: str = "pdfium", ocr: bool = True,
                 timeout: float | None = 120.0, no_text: bool = False,
                 classify: ClassifyFn | None = None) -> dict[str, Any]:
    """The per-file work, run in a worker (process pool or Dask) or in-process.

    Top-level and picklable; returns plain data: ``{"path", "sha256", "results": [dict],
    "texts": [str | None], "seconds"}`` where ``results`` are ``Classification.to_json()``.
    An exception becomes one failed record, except a fatal one (``is_fatal``: a broken model
    file), which stops the batch."""
    start = time.perf_counter()
    try:
        if classify is None:
            from classifier.pipeline import classify_file as classify
            from classifier.pipeline import prepare

            prepare()
        results = classify(Path(path), engine=engine, ocr=ocr, timeout=timeout)
        records, texts = [], []
        for c in results:
            data = c.to_json() if isinstance(c, Classification) else dict(c)
            # masked body text: a Classification field or a plain attribute set by the pipeline
            text = data.get("text", getattr(c, "text", None))
            if no_text and "text" in data:
                data["text"] = None
            if not data.get("sha256"):
                data["sha256"] = sha256
            records.append(data)
            texts.append(None if no_text or not isinstance(text, str) else text)
    except Exception as exc:  # the contract says classify_file never raises; be safe anyway
        if is_fatal(exc):
            raise
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
        records = [_failed(path, sha256,
                           f"internal: {type(exc).__name__}: {_masked(str(exc))}{where}")]
        texts = [None]
    return {"path": path, "sha256": sha256, "results": records, "texts": texts,
            "seconds": time.perf_counter() - start}


def _crashed(path: str, sha256: str) -> dict[str, Any]:
    return {"path": path, "sha256": sha256, "seconds": None, "texts": None,
            "results": [_failed(path, sha256, "crash: the worker process died while "
                                "classifying this file (out of memory or a crash in a parser)")]}


def _isolated(task: tuple[str, str], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Re-run one file alone in a fresh worker after a worker crash, to tell the culprit
    (which crashes again and is stored as failed) from innocent bystanders."""
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        try:
            return pool.submit(classify_one, *task, **kwargs).result()
        except BrokenProcessPool:
            return _crashed(*task)


# --------------------------------------------------------------------------- summary

@dataclass
class RunSummary:
    """What one run did (the store's own totals: ``classifier.store.summary``)."""

    store_path: str
    model_version: str
    run_id: int | None = None
    files_found: int = 0
    classified: int = 0  # files classified (and stored) in this run
    ok: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> files
    duplicates: int = 0  # same content under another path in this run
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, error)
    missing: list[str] = field(default_factory=list)  # arguments that matched nothing
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, error) at hashing
    decisions: int = 0
    outcomes: Counter = field(default_factory=Counter)
    partial: int = 0
    kritik: int = 0
    errors: Counter = field(default_factory=Counter)
    needs_review: int = 0
    seconds: float = 0.0
    status: str = "running"

    @property
    def exit_code(self) -> int:
        return exit_code(self)

    @property
    def files_per_second(self) -> float:
        return self.classified / self.seconds if self.seconds else 0.0

    def add(self, records: list[dict[str, Any]], path: str) -> None:
        self.classified += 1
        failed = [r for r in records if r.get("status", "ok") != "ok"]
        if failed or not records:
            errors = "; ".join(dict.fromkeys(str(r.get("error")) for r in failed)) \
                if failed else "no_decisions: the classifier returned no decision"
            self.failed.append((path, errors))
        else:
            self.ok += 1
        for r in records:
            if r.get("status", "ok") != "ok":
                continue
            self.decisions += 1
            self.outcomes[r.get("outcome") or "ukendt"] += 1
            self.partial += bool(r.get("partial"))
            self.kritik += bool(r.get("kritik"))
            self.errors.update(r.get("errors") or [])
            self.needs_review += bool(r.get("needs_review"))

    def to_json(self) -> dict[str, Any]:
        return {
            "store": self.store_path, "model_version": self.model_version, "run_id": self.run_id,
            "status": self.status, "files_found": self.files_found,
            "classified": self.classified, "ok": self.ok, "skipped": dict(self.skipped),
            "duplicates": self.duplicates,
            "failed": [{"path": p, "error": e} for p, e in self.failed],
            "missing": self.missing,
            "unreadable": [{"path": p, "error": e} for p, e in self.unreadable],
            "decisions": self.decisions, "outcomes": dict(self.outcomes),
            "partial": self.partial, "kritik": self.kritik, "errors": dict(self.errors),
            "needs_review": self.needs_review, "seconds": round(self.seconds, 3),
            "files_per_second": round(self.files_per_second, 2), "exit_code": self.exit_code,
        }

    def render(self):
        """A rich renderable (tables) for the terminal."""
        from rich.console import Group
        from rich.table import Table

        head = Table.grid(padding=(0, 2))
        head.add_column(style="bold")
        head.add_column()
        skipped = sum(self.skipped.values())
        head.add_row("Store", f"{self.store_path} (run {self.run_id}, model {self.model_version})")
        head.add_row("Files", f"{self.files_found} found, {self.classified} classified, "
                              f"{skipped} skipped, {len(self.failed)} failed"
                     + (f", {self.duplicates} duplicates" if self.duplicates else ""))
        if skipped:
            head.add_row("Skipped", ", ".join(f"{n} {_SKIP_TEXT.get(k, k)}"
                                              for k, n in sorted(self.skipped.items())))
        head.add_row("Time", f"{self.seconds:.1f} s ({self.files_per_second:.1f} files/s)")
        head.add_row("Decisions", f"{self.decisions} (kritik {self.kritik}, partial "
                                  f"{self.partial}, needs review {self.needs_review})")
        parts: list[Any] = [head]
        if self.outcomes:
            t = Table(title="Outcome", title_justify="left")
            t.add_column("outcome")
            t.add_column("decisions", justify="right")
            for o in [*OUTCOMES, *sorted(set(self.outcomes) - set(OUTCOMES))]:
                if self.outcomes.get(o):
                    t.add_row(o, str(self.outcomes[o]))
            parts.append(t)
        if self.errors:
            t = Table(title="Error types", title_justify="left")
            t.add_column("error type")
            t.add_column("decisions", justify="right")
            for e in [*ERROR_TYPES, *sorted(set(self.errors) - set(ERROR_TYPES))]:
                if self.errors.get(e):
                    t.add_row(e, str(self.errors[e]))
            parts.append(t)
        problems = ([(p, e) for p, e in self.failed] + [(m, "no such file or pattern")
                                                         for m in self.missing]
                    + self.unreadable)
        if problems:
            t = Table(title="Failures", title_justify="left", style="red")
            t.add_column("file")
            t.add_column("reason")
            for p, e in problems[:50]:
                t.add_row(p, e)
            if len(problems) > 50:
                t.add_row(f"... {len(problems) - 50} more", "see `failures(store)`")
            parts.append(t)
        return Group(*parts)


_SKIP_TEXT = {
    "skip": "already stored",
    "skip_failed": "failed earlier (use --retry-failed)",
    "skip_other_version": "stored by another model version (use --reclassify)",
}


def exit_code(summary: RunSummary) -> int:
    """0 when every input of this run was classified successfully, 3 when some failed
    (including arguments that matched no file and files that could not be read), 130 when
    the run was interrupted (Ctrl-C). Files skipped because they failed in an earlier run
    do not count (they are listed in the summary's ``skipped``)."""
    if summary.status == "interrupted":
        return EXIT_INTERRUPTED
    return EXIT_FAILED if (summary.failed or summary.missing or summary.unreadable) else EXIT_OK


def print_summary(summary: RunSummary, console=None) -> None:
    from rich.console import Console
    (console or Console(stderr=True)).print(summary.render())


# --------------------------------------------------------------------------- executors

def _run_local(tasks, kwargs, on_result) -> None:
    for path, sha in tasks:
        on_result(classify_one(path, sha, **kwargs))


def classify_chunk(tasks: list[tuple[str, str]], kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    """Several files in one worker call (fewer round trips between processes)."""
    return [classify_one(*task, **kwargs) for task in tasks]


#: Files per worker call: large enough to amortise inter-process overhead, small enough that
#: a crash re-runs few files and the progress bar moves smoothly.
CHUNK = 8


def _run_pool(tasks, kwargs, on_result, jobs: int) -> None:
    ctx = mp.get_context("spawn")
    tasks = list(tasks)
    chunk = max(1, min(CHUNK, len(tasks) // (jobs * 4) or 1))
    pending = deque(tasks[i:i + chunk] for i in range(0, len(tasks), chunk))
    window = jobs * 2
    pool = ProcessPoolExecutor(jobs, mp_context=ctx)
    inflight: dict[Any, list[tuple[str, str]]] = {}
    try:
        while pending or inflight:
            while pending and len(inflight) < window:
                group = pending.popleft()
                inflight[pool.submit(classify_chunk, group, kwargs)] = group
            done, _ = wait(inflight, return_when=FIRST_COMPLETED)
            suspects: list[tuple[str, str]] = []
            for fut in done:
                group = inflight.pop(fut)
                try:
                    results = fut.result()
                except BrokenProcessPool:
                    suspects.extend(group)
                    continue
                except Exception as exc:  # e.g. an unpicklable result
                    if is_fatal(exc):
                        raise
                    results = [{"path": t[0], "sha256": t[1], "seconds": None, "texts": None,
                                "results": [_failed(*t, f"internal: {type(exc).__name__}: {exc}")]}
                               for t in group]
                for result in results:
                    on_result(result)
            if suspects:
                # A worker died (segfault, OOM kill): every file in flight is a suspect.
                # Re-run each alone; only the culprit fails, the batch goes on.
                for group in inflight.values():
                    suspects.extend(group)
                inflight.clear()
                pool.shutdown(wait=True, cancel_futures=True)
                for task in suspects:
                    on_result(_isolated(task, kwargs))
                pool = ProcessPoolExecutor(jobs, mp_context=ctx)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_dask(tasks, kwargs, on_result, cluster) -> None:
    from distributed import Client, as_completed

    if not tasks:
        return
    own = not hasattr(cluster, "submit")
    client = Client(cluster) if own else cluster
    try:
        futures = client.map(classify_one, [t[0] for t in tasks], [t[1] for t in tasks],
                             pure=False, **kwargs)
        by_key = {f.key: t for f, t in zip(futures, tasks)}
        for fut in as_completed(futures):
            task = by_key[fut.key]
            try:
                result = fut.result()
            except Exception as exc:  # KilledWorker, unpicklable ..., CancelledError
                if is_fatal(exc):
                    raise
                result = {"path": task[0], "sha256": task[1], "seconds": None, "texts": None,
                          "results": [_failed(*task, f"worker: {type(exc).__name__}: {exc}")]}
            fut.release()
            on_result(result)
    finally:
        if own:
            client.close()


# --------------------------------------------------------------------------- the runner

def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn,
                               SpinnerColumn, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task):
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.1f} files/s" if speed else "– files/s", style="cyan")

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    MofNCompleteColumn(), RateColumn(), TextColumn("ETA"),
                    TimeRemainingColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), disable=not enabled, transient=False)


def classify_paths(paths: Iterable[str | os.PathLike] | str | os.PathLike, *,
                   store_path: str | os.PathLike = "anke.db", jobs: int = 1,
                   jsonl: str | os.PathLike | IO[str] | None = None,
                   engine: str = "pdfium", ocr: bool = True, reclassify: bool = False,
                   retry_failed: bool = False, no_text: bool = False,
                   cluster: Any = None, classify: ClassifyFn | None = None,
                   model_version: str | None = None, timeout: float | None = 120.0,
                   progress: bool = True) -> RunSummary:
    """Classify every PDF/.txt under ``paths`` into the store at ``store_path``.

    - files already stored for this model version are skipped; stored under another model
      version they are skipped too unless ``reclassify`` (then re-run; old rows kept as
      history); failed files are retried only with ``retry_failed``.
    - ``jobs > 1``: a spawn process pool; ``cluster="tcp://host:8786"`` (or a
      ``distributed.Client``): a Dask cluster whose workers see the same paths. Either way the
      main process alone writes the store, one transaction per file.
    - ``jsonl``: also write each record (``Classification.to_json()``) as a line to this path,
      open text stream, or ``"-"`` for stdout.
    - ``classify``: the per-file function (default ``classifier.pipeline.classify_file``),
      called as ``classify(path, engine=, ocr=, timeout=)``; must be picklable (top-level)
      for jobs > 1. ``model_version``: default ``classifier.pipeline.model_version()``.
    - ``no_text``: never store body text (the ``text`` column stays NULL).
    """
    started = time.perf_counter()
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if model_version is None:
        from classifier.pipeline import model_version as current_version
        model_version = current_version()
    jobs = max(1, int(jobs or 1))
    if jobs > 1 and cluster is None and classify is not None:
        try:
            pickle.dumps(classify)
        except Exception as exc:
            raise TypeError(f"classify must be a top-level (picklable) function for jobs > 1: "
                            f"{exc}") from exc

    files, missing = find_inputs(paths)
    summary = RunSummary(store_path=str(store_path), model_version=model_version,
                         files_found=len(files), missing=missing)
    progress_bar = _progress(progress)
    store = Store(connect(store_path), store_path)
    try:
        out, close_out = _open_jsonl(jsonl)
    except BaseException:
        store.close()
        raise
    run_id = store.start_run(model_version, engine=engine, ocr=ocr, args={
        "paths": [os.fspath(p) for p in paths], "jobs": jobs, "reclassify": reclassify,
        "retry_failed": retry_failed, "no_text": no_text,
        "cluster": cluster if isinstance(cluster, str) else (None if cluster is None
                                                             else type(cluster).__name__),
        "timeout": timeout, "classify": None if classify is None else
        f"{getattr(classify, '__module__', '?')}.{getattr(classify, '__qualname__', '?')}"})
    summary.run_id = run_id
    status = "failed"
    try:
        with progress_bar:
            # 1. hash and plan
            hashing = progress_bar.add_task("hashing", total=len(files))
            tasks: list[tuple[str, str]] = []
            seen: set[str] = set()
            for f in files:
                progress_bar.advance(hashing)
                try:
                    sha = file_sha256(f)
                except OSError as exc:
                    summary.unreadable.append((str(f), f"unreadable: {exc.strerror or exc}"))
                    continue
                if sha in seen:
                    summary.duplicates += 1
                    continue
                seen.add(sha)
                action = store.plan(sha, model_version, reclassify=reclassify,
                                    retry_failed=retry_failed)
                if action.startswith("skip"):
                    summary.skipped[action] += 1
                else:
                    tasks.append((str(f), sha))
            progress_bar.remove_task(hashing)

            # 2. classify and store
            task_id = progress_bar.add_task("classifying", total=len(tasks))

            def on_result(result: dict[str, Any]) -> None:
                records = result["results"]
                try:
                    store.write_file(result["sha256"], result["path"], records, run_id=run_id,
                                     model_version=model_version, no_text=no_text,
                                     seconds=result.get("seconds"),
                                     texts=result.get("texts"))
                except Exception as exc:  # noqa: BLE001 - keep the batch going
                    records = [_failed(result["path"], result["sha256"],
                                       f"store: {type(exc).__name__}: {exc}")]
                    store.write_file(result["sha256"], result["path"], records, run_id=run_id,
                                     model_version=model_version, no_text=no_text)
                if out is not None:
                    for r in records:
                        out.write(json.dumps(r, ensure_ascii=False) + "\n")
                    out.flush()
                summary.add(records, result["path"])
                progress_bar.advance(task_id)

            kwargs = {"engine": engine, "ocr": ocr, "timeout": timeout, "no_text": no_text,
                      "classify": classify}
            if cluster is not None:
                _run_dask(tasks, kwargs, on_result, cluster)
            elif jobs > 1 and len(tasks) > 1:
                _run_pool(tasks, kwargs, on_result, min(jobs, len(tasks)))
            else:
                _run_local(tasks, kwargs, on_result)
        status = "finished"
    except KeyboardInterrupt:
        # files stored so far stay stored; a rerun continues where this one stopped
        status = "interrupted"
    finally:
        summary.seconds = time.perf_counter() - started
        summary.status = status
        try:
            store.finish_run(run_id, status=status, n_files=len(files),
                             n_classified=summary.classified,
                             n_skipped=sum(summary.skipped.values()),
                             n_failed=len(summary.failed))
        finally:
            store.close()
            if close_out:
                out.close()
    return summary


def _open_jsonl(jsonl) -> tuple[IO[str] | None, bool]:
    if jsonl is None:
        return None, False
    if jsonl == "-":
        return sys.stdout, False
    if hasattr(jsonl, "write"):
        return jsonl, False
    path = Path(jsonl)
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "w", encoding="utf-8"), True
