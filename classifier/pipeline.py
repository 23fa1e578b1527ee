"""Per-file entry point used by the CLI, the bulk runner and the Dask workers.

    classify_file(path) -> list[Classification]       (one per decision in the file)
    classify_pdf(path), classify_text(text)            (library use)

Never raises for bad input: a file that cannot be read yields one Classification with
status="failed" and error="<kind>: <reason>".
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path

from classifier.analysis import analyse
from classifier.decide import decide
from classifier.hashing import file_sha256
from classifier.ingest import (DEFAULT_ENGINE, check_deadline, load_document, text_document,
                               time_limit)
from classifier.model import DEFAULT_MODEL, AnkeModel, ModelIntegrityError, load_model
from classifier.model import model_version as _model_version
from classifier.privacy import mask_text
from classifier.schema import AnkeError, Classification, Document
from classifier.segment import parse_document

log = logging.getLogger("anke")
RULES_VERSION = "r1"


def get_model(model: AnkeModel | str | Path | None = None) -> AnkeModel | None:
    """The model to use: an instance, a path, or the shipped default (None if absent)."""
    if isinstance(model, AnkeModel):
        return model
    path = Path(model) if model else DEFAULT_MODEL
    if not path.exists() and model is None:
        log.warning("no trained model at %s: classifying with rules only", path)
        return None
    return load_model(path)


_PREPARED = False

#: a short letter that touches every lazily built piece (tokenizer, lemma table, matchers, model)
_WARM_UP_TEXT = """Ankestyrelsens afgørelse

Du har klaget over kommunens afgørelse af 3. marts 2023 efter serviceloven § 100.

Resultatet er

Vi er enige med kommunen. Kommunen har ikke partshørt dig, men det ændrer ikke resultatet.
"""


def prepare(model: AnkeModel | str | Path | None = None) -> None:
    """Load everything a worker needs once, then move it out of the garbage collector's way.

    The loaded vocabulary, patterns and model are ~160,000 long-lived objects; without
    ``gc.freeze()`` every full collection walks them again, and pdfminer (the pdfplumber engine)
    allocates enough objects to trigger many collections: it ran ~30 % slower in a process that
    had loaded the classifier. Idempotent per process."""
    global _PREPARED
    if _PREPARED:
        return
    classify_text(_WARM_UP_TEXT, source="<warm-up>", model=get_model(model))
    gc.collect()
    gc.freeze()
    _PREPARED = True


def model_version(model: str | Path | None = None) -> str:
    """Version tag stored with every result: model sha256 prefix plus the rules version."""
    return f"{_model_version(Path(model) if model else DEFAULT_MODEL)}+{RULES_VERSION}"


def classify_document(doc: Document, model: AnkeModel | None, mode: str = "combined"
                      ) -> list[Classification]:
    out = []
    for pd in parse_document(doc):
        check_deadline()  # a bundle of many decisions stays within the per-file time limit
        out.append(decide(analyse(pd), model, mode))
    return out


def classify_text(text: str, *, source: str = "<text>", model=None,
                  mode: str = "combined") -> list[Classification]:
    """Classify extracted text (form feeds separate pages; may hold a bundle)."""
    return classify_document(text_document(text, source), get_model(model), mode)


def classify_pdf(path: str | Path, *, engine: str = DEFAULT_ENGINE, ocr: bool = True,
                 model=None, mode: str = "combined") -> list[Classification]:
    """Classify a PDF; raises AnkeError on unreadable input (see classify_file for batches)."""
    path = Path(path)
    doc = load_document(path, engine=engine, ocr=ocr, sha256=file_sha256(path))
    return classify_document(doc, get_model(model), mode)


def classify_file(path: Path, *, engine: str = DEFAULT_ENGINE, ocr: bool = True,
                  model=None, timeout: float | None = 120.0, mode: str = "combined",
                  max_pages: int | None = None) -> list[Classification]:
    """Parse and classify one PDF or .txt file; bad input gives one failed Classification."""
    path = Path(path)
    try:
        sha = file_sha256(path)
    except OSError as exc:
        return [Classification(source=str(path), sha256="", status="failed",
                               error=f"unreadable: {exc.strerror or exc}")]
    try:
        m = get_model(model)
        with time_limit(timeout):
            kwargs = {"max_pages": max_pages} if max_pages else {}
            doc = load_document(path, engine=engine, ocr=ocr, sha256=sha, **kwargs)
            results = classify_document(doc, m, mode)
        if not results:
            raise AnkeError("no_decision", "no decision found in the file")
        return results
    except AnkeError as exc:
        return [Classification(source=str(path), sha256=sha, status="failed",
                               error=f"{exc.kind}: {mask_text(exc.reason)}")]
    except ModelIntegrityError:
        raise  # a broken model is not a per-file problem: stop the batch
    except (MemoryError, RecursionError, ValueError, KeyError, IndexError, TypeError,
            AttributeError, OSError, AssertionError, ZeroDivisionError, UnicodeError) as exc:
        log.debug("unexpected failure on %s", path, exc_info=True)
        return [Classification(source=str(path), sha256=sha, status="failed",
                               error=f"internal: {type(exc).__name__} while reading the file")]
