"""Bulk runner: input walking, skip-on-rerun, failures, reclassify, process pool, exactly-once
under ``kill -9``, and a Dask cluster giving the same results as a local run."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from classifier import bulk
from classifier.bulk import EXIT_FAILED, EXIT_OK, classify_paths, find_inputs
from classifier.schema import Classification, Evidence
from classifier.store import failures, iter_classifications, summary

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
MV = "test-rules-1"

# --------------------------------------------------------------------------- input letters
# Short but real-looking decision letters as a perfect text extraction would give them.

KOMMUNER = ["Gladsaxe", "Aarhus", "Odense", "Vejle", "Holbæk", "Esbjerg", "Viborg", "Køge"]
NAVNE = ["Mette Hansen", "Jens Nielsen", "Fatima Ali", "Søren Østergaard", "Anne Kjær",
         "Lars Bøgh", "Camilla Friis", "Mikkel Dahl"]
MÅNEDER = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
           "september", "oktober", "november", "december"]

HEAD = """Ankestyrelsen
{dag}. {måned} 2024
J.nr. 24-{jnr:06d}
Sagsbehandler: Birgitte Holm
Ankestyrelsen, Teglholmsgade 3, 2450 København SV
Tlf. 33 41 12 00
Cpr-nr.: {cpr}

{navn}
{gade} {nr}
{postnr} {by}

Afgørelse
"""

BODIES = {
    "stadfæstet": """
Du har klaget over {kommune} Kommunes afgørelse om ophør af sygedagpenge. Kommunen afgjorde
sagen den 4. {måned} 2024.

Resultatet er:
• Du har ikke ret til sygedagpenge efter den 4. {måned} 2024.

Det betyder, at vi stadfæster kommunens afgørelse. Du får ikke medhold i din klage.

Begrundelse for afgørelsen
Vi vurderer, at sagen er tilstrækkeligt oplyst. Vi lægger vægt på lægeattesten af
12. {måned} 2024 og på oplysningerne fra din arbejdsgiver om dine arbejdsopgaver.
Du mener, at kommunen ikke har partshørt dig. Vi kan se, at kommunen sendte dig
oplysningerne i partshøring, før den traf afgørelse.

Regler
Sygedagpengelovens § 7 og § 27, stk. 1.

Venlig hilsen
Birgitte Holm
""",
    "hjemvist": """
Du har klaget over {kommune} Kommunes afgørelse om tabt arbejdsfortjeneste. Kommunen
afgjorde sagen den 2. {måned} 2024.

Resultatet er:
• Kommunen skal behandle sagen igen og træffe en ny afgørelse.

Det betyder, at vi hjemviser sagen til kommunen.

Begrundelse for afgørelsen
Sagen er ikke tilstrækkeligt oplyst. Kommunen har ikke undersøgt, hvor mange timer
om ugen du må gå ned i arbejdstid for at passe dit barn. Begrundelsen er ikke dækkende,
fordi kommunen ikke har forklaret, hvordan den har beregnet dit tab.

Hvad skal kommunen gøre?
• Kommunen skal indhente oplysninger fra sygehuset om barnets behandling.
• Kommunen skal træffe en ny afgørelse med en begrundelse, der lever op til kravene.

Regler
Servicelovens § 42, stk. 1, retssikkerhedslovens § 10 og forvaltningslovens § 22.

Venlig hilsen
Birgitte Holm
""",
    "ændret": """
Du har klaget over {kommune} Kommunes afgørelse om dækning af merudgifter. Kommunen
afgjorde sagen den 9. {måned} 2024.

Resultatet er:
• Du har ret til dækning af merudgifter til medicin og særlig kost.

Det betyder, at vi ændrer kommunens afgørelse. Du får medhold i din klage.

Vi kritiserer, at kommunen ikke har partshørt dig over lægens udtalelse, før den traf
afgørelse. Det fører dog ikke til et andet resultat i sagen.

Begrundelse for afgørelsen
Vi lægger vægt på, at dine merudgifter er en direkte følge af din varige lidelse.

Regler
Servicelovens § 100 og forvaltningslovens § 19.

Venlig hilsen
Birgitte Holm
""",
    "afvist": """
Du har klaget over {kommune} Kommunes afgørelse om hjælp til enkeltudgifter. Kommunen
afgjorde sagen den 1. {måned} 2024.

Resultatet er:
• Vi afviser at behandle din klage.

Det betyder, at vi ikke ser på, om kommunens afgørelse er rigtig. Klagen er indgivet for
sent, fordi klagefristen er 4 uger, og kommunen modtog din klage efter fristen.

Regler
Retssikkerhedslovens § 67.

Venlig hilsen
Birgitte Holm
""",
}


def letter(i: int, outcome: str | None = None) -> str:
    outcome = outcome or list(BODIES)[i % len(BODIES)]
    fields = dict(dag=1 + i % 27, måned=MÅNEDER[i % 12], jnr=10000 + 37 * i,
                  cpr=f"{1 + i % 28:02d}{1 + i % 12:02d}8{i % 10}-{1000 + i:04d}",
                  navn=NAVNE[i % len(NAVNE)], gade="Søndergade", nr=1 + i, postnr=2860 + i,
                  by="Søborg", kommune=KOMMUNER[i % len(KOMMUNER)])
    return HEAD.format(**fields) + BODIES[outcome].format(**fields)


_HEADINGS = ("Resultatet er:", "Begrundelse for afgørelsen", "Hvad skal kommunen gøre?",
             "Regler")


def corpus_decision(i: int, outcome: str | None = None):
    """The same letter as a CorpusDecision (markup text + fields) for the PDF renderer."""
    from classifier.corpus.load import CorpusDecision

    outcome = outcome or list(BODIES)[i % len(BODIES)]
    fields = dict(måned=MÅNEDER[i % 12], kommune=KOMMUNER[i % len(KOMMUNER)])
    out = ["# Afgørelse", ""]
    for para in BODIES[outcome].format(**fields).strip().split("\n\n"):
        lines = para.split("\n")
        if lines[0] in _HEADINGS:
            out += [f"# {lines[0].rstrip(':')}", ""]
            lines = lines[1:]
        if lines and all(line.startswith("• ") for line in lines):
            out += [f"- {line[2:]}" for line in lines] + [""]
        elif lines:
            out += [" ".join(lines), ""]
    kommune = f"{KOMMUNER[i % len(KOMMUNER)]} Kommune"
    return CorpusDecision(
        id=f"t{i:03d}", source="written", format="modern_letter", outcome=outcome,
        partial=False, kritik=outcome == "ændret", errors=[], law_area="sygedagpenge",
        citations=[], municipality=kommune, first_instance=kommune,
        first_instance_date=f"2024-{1 + i % 12:02d}-04",
        decision_date=f"2024-{1 + i % 12:02d}-{1 + i % 27:02d}", case_number=f"24-{10000 + 37 * i:06d}",
        instructions=[], traps=[], evidence={}, text="\n".join(out),
        citizen_name=NAVNE[i % len(NAVNE)], citizen_address=f"Søndergade {1 + i}, 2860 Søborg",
        cpr=f"{1 + i % 28:02d}{1 + i % 12:02d}8{i % 10}-{1000 + i:04d}",
        case_officer="Birgitte Holm")


def write_letters(folder: Path, n: int, *, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(start, start + n):
        p = folder / f"afgørelse_{i:03d}.txt"
        p.write_text(letter(i), encoding="utf-8")
        out.append(p)
    return out


# --------------------------------------------------------------------------- a stand-in
# A small rule-based stand-in with classify_file's contract, used where a failure has to be
# injected (an exception, a dying worker, Ctrl-C).

_OUTCOME = [("ændret", r"\bvi ændrer\b"), ("hjemvist", r"\bvi hjemviser\b"),
            ("stadfæstet", r"\bvi stadfæster\b"), ("afvist", r"\bvi afviser\b")]
_ERRORS = [("officialprincip", r"sagen er ikke tilstrækkeligt oplyst"),
           ("begrundelse", r"begrundelsen er ikke dækkende"),
           ("partshøring", r"ikke har partshørt dig")]


def _sentences(text: str) -> list[str]:
    flat = re.sub(r"\s+", " ", text)
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", flat) if s.strip()]


def fake_classify(path: Path, *, engine: str = "pdfium", ocr: bool = True,
                  timeout: float | None = None) -> list[Classification]:
    delay = float(os.environ.get("ANKE_TEST_DELAY", "0") or 0)
    if delay:
        time.sleep(delay)
    path = Path(path)
    data = path.read_bytes()
    import hashlib
    sha = hashlib.sha256(data).hexdigest()
    if b"CRASH-THE-WORKER" in data:
        os._exit(77)  # a segfault/OOM stand-in
    if b"BROKEN-MODEL" in data:
        from classifier.model import ModelIntegrityError
        raise ModelIntegrityError("model file sha256 does not match its manifest")
    if b"PRESS-CTRL-C" in data:
        raise KeyboardInterrupt
    if b"RAISE-IN-CLASSIFY" in data:
        raise RuntimeError("unexpected parser state")
    if path.suffix.lower() == ".pdf" and not data.startswith(b"%PDF"):
        return [Classification(source=str(path), sha256=sha, status="failed",
                               error="not_a_pdf: the file does not start with %PDF")]
    text = data.decode("utf-8", "replace")
    if not text.strip():
        return [Classification(source=str(path), sha256=sha, status="failed",
                               error="empty: the file contains no text")]
    # a bundle: each letter starts with its own letterhead on a new page (form feed)
    letters = [t for t in text.split("\f") if t.strip()]
    out = []
    for index, body in enumerate(letters):
        masked = re.sub(r"\d{6}-\d{4}", "[CPR]", body)
        sents = _sentences(masked)
        outcome, evidence, errors, probs = None, [], [], {}
        for label, pat in _OUTCOME:
            hit = next((s for s in sents if re.search(pat, s, re.I)), None)
            if hit:
                outcome = label
                evidence.append(Evidence(label, hit, index + 1, "afgørelse", 0.93))
                probs[f"outcome:{label}"] = 0.93
                break
        kritik_hit = next((s for s in sents if s.lower().startswith("vi kritiserer")), None)
        if kritik_hit:
            evidence.append(Evidence("kritik", kritik_hit, index + 1, "kritik", 0.88))
            probs["kritik"] = 0.88
        for label, pat in _ERRORS:
            hit = next((s for s in sents if re.search(pat, s, re.I)
                        and not s.lower().startswith("du mener")), None)
            if hit:
                errors.append(label)
                evidence.append(Evidence(label, hit, index + 1, "begrundelse", 0.75))
                probs[label] = 0.75
        jnr = re.search(r"J\.nr\. (\d\d-\d+)", body)
        kommune = re.search(r"klaget over (\w+) Kommunes", body)
        instructions = re.findall(r"• (Kommunen skal [^\n]+(?:\n(?!•|\n)[^\n]+)*)",
                                  body.split("Hvad skal kommunen gøre?")[-1]) \
            if "Hvad skal kommunen gøre?" in body else []
        c = Classification(
            source=str(path), sha256=sha, decision_index=index, pages=(index + 1, index + 1),
            outcome=outcome, kritik=bool(kritik_hit), errors=errors,
            citations=sorted(set(re.findall(r"§ \d+", body))),
            municipality=f"{kommune.group(1)} Kommune" if kommune else None,
            first_instance=f"{kommune.group(1)} Kommune" if kommune else None,
            case_number=jnr.group(1) if jnr else None, format="modern_letter",
            confidence=0.93 if outcome else 0.2, needs_review=outcome is None,
            review_reasons=[] if outcome else ["no_outcome"], probabilities=probs,
            evidence=evidence,
            instructions=[re.sub(r"\s+", " ", s) for s in instructions])
        c.text = masked  # masked body text travels as an attribute
        out.append(c)
    return out


def slow_classify(path: Path, **kw) -> list[Classification]:
    """The real classifier with a delay per file (so a test can kill a run half-way)."""
    from classifier.pipeline import classify_file

    time.sleep(float(os.environ.get("ANKE_TEST_DELAY", "0") or 0))
    return classify_file(path, **kw)


def stored_json(db: Path) -> list[dict]:
    return [c.to_json() for c in iter_classifications(db)]


def write_pdfs(folder: Path, ids) -> list[Path]:
    from classifier.corpus.render import render_pdf

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in ids:
        p = folder / f"24-{10000 + 37 * i:06d}.pdf"
        render_pdf(corpus_decision(i), p, seed=i)
        out.append(p)
    return out


def store_bytes_without_personal_data(db: Path) -> None:
    """No CPR number, citizen name or street address anywhere in the store."""
    conn = sqlite3.connect(db)
    dump = "\n".join(conn.iterdump())
    conn.close()
    assert not re.search(r"\b\d{6}-\d{4}\b", dump)
    for name in NAVNE:
        assert name not in dump
    assert "Søndergade" not in dump


# --------------------------------------------------------------------------- tests
# End-to-end tests use the real classifier (classifier.pipeline.classify_file) on letters
# written here (.txt) and rendered by classifier.corpus.render (PDF); the stand-in above is
# used only where a failure has to be injected (exceptions, crashes, Ctrl-C).

def test_find_inputs_walks_dirs_and_globs(tmp_path):
    write_letters(tmp_path / "a" / "b", 2)
    (tmp_path / "a" / "notes.md").write_text("x")
    (tmp_path / "a" / "scan.PDF").write_bytes(b"%PDF-1.4")
    (tmp_path / "a" / ".git").mkdir()
    (tmp_path / "a" / ".git" / "x.txt").write_text("x")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x.txt").write_text("x")
    (tmp_path / "c" / "y.doc").write_text("x")
    files, missing = find_inputs([tmp_path / "a", str(tmp_path / "c" / "*.txt"),
                                  str(tmp_path / "a" / "b" / "afgørelse_000.txt"),
                                  str(tmp_path / "nope"), str(tmp_path / "z*.pdf")])
    names = [f.relative_to(tmp_path).as_posix() for f in files]
    assert names == ["a/b/afgørelse_000.txt", "a/b/afgørelse_001.txt", "a/scan.PDF", "c/x.txt"]
    assert missing == [str(tmp_path / "nope"), str(tmp_path / "z*.pdf")]


def test_bulk_run_stores_everything_and_rerun_skips(tmp_path):
    from classifier.pipeline import model_version

    inbox = tmp_path / "indbakke"
    write_letters(inbox / "tekst", 4)
    write_pdfs(inbox / "pdf", range(4, 8))
    db = tmp_path / "anke.db"
    out = tmp_path / "run.jsonl"
    s1 = classify_paths([inbox], store_path=db, jsonl=out, progress=False)
    assert s1.model_version == model_version()
    assert (s1.files_found, s1.classified, s1.ok, s1.decisions) == (8, 8, 8, 8)
    assert s1.exit_code == EXIT_OK == bulk.exit_code(s1)
    assert s1.outcomes == {"stadfæstet": 2, "hjemvist": 2, "ændret": 2, "afvist": 2}
    info = summary(db)
    assert info["outcomes"] == dict(s1.outcomes) and info["errors"] == dict(s1.errors)
    assert info["kritik"] == s1.kritik and info["needs_review"] == s1.needs_review
    assert {"officialprincip", "begrundelse"} <= set(s1.errors)  # the two remitted letters
    # the JSONL written during the run is exactly what the store gives back
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(map(json.dumps, lines)) == sorted(map(json.dumps, stored_json(db)))
    store_bytes_without_personal_data(db)

    s2 = classify_paths([inbox], store_path=db, progress=False)
    assert (s2.classified, s2.skipped["skip"], s2.exit_code) == (0, 8, EXIT_OK)
    write_letters(inbox / "tekst", 2, start=8)  # new mail arrives
    s3 = classify_paths([inbox], store_path=db, progress=False)
    assert (s3.classified, s3.skipped["skip"]) == (2, 8)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT sha256) FROM files").fetchone() \
            == (10, 10)
        runs = conn.execute("SELECT status, n_files, n_classified, n_skipped FROM runs "
                            "ORDER BY id").fetchall()
    assert runs == [("finished", 8, 8, 0), ("finished", 8, 0, 8), ("finished", 10, 2, 8)]
    assert summary(db)["files"]["ok"] == 10


def test_failures_are_stored_and_the_batch_goes_on(tmp_path):
    from classifier.corpus.render import broken_files

    inbox = tmp_path / "in"
    [good, *_] = write_pdfs(inbox, range(3))
    broken = broken_files(inbox / "aktindsigt", good,
                          kinds=("truncated", "encrypted", "zero_bytes", "not_a_pdf"))
    db = tmp_path / "anke.db"
    s = classify_paths([inbox, tmp_path / "mangler"], store_path=db, progress=False)
    assert s.classified == 7 and s.ok == 3 and len(s.failed) == 4
    assert s.missing == [str(tmp_path / "mangler")]
    assert s.exit_code == EXIT_FAILED
    reasons = {Path(f.path).name: f.error for f in failures(db)}
    assert set(reasons) == {"truncated.pdf", "encrypted.pdf", "zero_bytes.pdf", "not_a_pdf.pdf"}
    assert reasons["encrypted.pdf"].startswith("encrypted:")
    assert all(re.match(r"[a-z_]+: \S", e) for e in reasons.values()), reasons

    again = classify_paths([inbox], store_path=db, progress=False)
    assert again.classified == 0 and again.skipped == {"skip": 3, "skip_failed": 4}
    assert again.exit_code == EXIT_OK  # nothing failed in this run

    broken["truncated"].write_bytes(good.read_bytes() + b"\n% fixed copy\n")  # a new file
    retry = classify_paths([inbox], store_path=db, retry_failed=True, progress=False)
    assert retry.classified == 4 and retry.ok == 1 and len(retry.failed) == 3
    assert retry.exit_code == EXIT_FAILED
    with sqlite3.connect(db) as conn:
        # retried failures keep their earlier rows as history
        assert conn.execute("SELECT COUNT(*) FROM files WHERE current = 0").fetchone() == (3,)
    # the old truncated file (gone from disk) is still a failure on record
    assert len(failures(db)) == 4


def test_an_exception_in_the_classifier_is_a_stored_failure(tmp_path):
    inbox = tmp_path / "in"
    write_letters(inbox, 2)
    (inbox / "fejl.txt").write_text("RAISE-IN-CLASSIFY")
    db = tmp_path / "anke.db"
    s = classify_paths([inbox], store_path=db, classify=fake_classify, model_version=MV,
                       progress=False)
    assert (s.classified, s.ok, s.exit_code) == (3, 2, EXIT_FAILED)
    [f] = failures(db)
    assert f.path.endswith("fejl.txt")
    assert f.error.startswith("internal: RuntimeError: unexpected parser state at test_bulk.py:")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_broken_model_stops_the_batch(tmp_path, jobs):
    from classifier.model import ModelIntegrityError

    inbox = tmp_path / "in"
    write_letters(inbox, 2)
    (inbox / "zz_model.txt").write_text("BROKEN-MODEL")
    db = tmp_path / "anke.db"
    with pytest.raises(ModelIntegrityError):
        classify_paths([inbox], store_path=db, jobs=jobs, classify=fake_classify,
                       model_version=MV, progress=False)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM runs").fetchall() == [("failed",)]
        assert conn.execute("SELECT COUNT(*) FROM files WHERE path LIKE '%zz_model.txt'"
                            ).fetchone() == (0,)


def test_reclassify_under_new_model_version_keeps_history(tmp_path):
    inbox = tmp_path / "in"
    write_letters(inbox, 4)
    db = tmp_path / "anke.db"
    classify_paths([inbox], store_path=db, model_version="v1", progress=False)
    plain = classify_paths([inbox], store_path=db, model_version="v2", progress=False)
    assert plain.classified == 0 and plain.skipped == {"skip_other_version": 4}
    re_run = classify_paths([inbox], store_path=db, model_version="v2", reclassify=True,
                            progress=False)
    assert re_run.classified == 4
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT model_version, current, COUNT(*) FROM decisions "
                            "GROUP BY 1, 2 ORDER BY 1").fetchall() == [("v1", 0, 4),
                                                                       ("v2", 1, 4)]
    assert summary(db)["model_versions"] == {"v2": 4}
    assert len(list(iter_classifications(db))) == 4
    assert len(list(iter_classifications(db, current=False))) == 8


def test_no_text_and_duplicates_and_bundles(tmp_path):
    from classifier.corpus.render import render_bundle

    inbox = tmp_path / "in"
    write_letters(inbox, 2)
    (inbox / "kopi.txt").write_bytes((inbox / "afgørelse_000.txt").read_bytes())
    (inbox / "bundt.txt").write_text("\f".join(letter(i) for i in (10, 11, 12)),
                                     encoding="utf-8")
    render_bundle([corpus_decision(i) for i in (20, 21, 22, 23)], inbox / "aktindsigt.pdf",
                  seed=3)
    db = tmp_path / "anke.db"
    s = classify_paths([inbox], store_path=db, no_text=True, progress=False)
    assert s.files_found == 5 and s.classified == 4 and s.duplicates == 1
    assert s.decisions == 2 + 3 + 4 and s.exit_code == EXIT_OK
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM decisions WHERE text IS NOT NULL"
                            ).fetchone() == (0,)
        assert conn.execute("SELECT decision_index, page_first, page_last FROM decisions "
                            "WHERE sha256 = (SELECT sha256 FROM files WHERE path LIKE "
                            "'%aktindsigt.pdf') ORDER BY 1").fetchall() == \
            [(0, 1, 1), (1, 2, 2), (2, 3, 3), (3, 4, 4)]
        assert conn.execute("SELECT pages FROM files WHERE path LIKE '%aktindsigt.pdf'"
                            ).fetchone() == (4,)


def test_process_pool_survives_a_crashing_worker(tmp_path):
    inbox = tmp_path / "in"
    write_letters(inbox, 5)
    (inbox / "zz_crash.txt").write_text("CRASH-THE-WORKER")
    db = tmp_path / "anke.db"
    s = classify_paths([inbox], store_path=db, jobs=2, classify=fake_classify,
                       model_version=MV, progress=False)
    assert s.classified == 6 and s.ok == 5 and s.exit_code == EXIT_FAILED
    [(path, error)] = s.failed
    assert path.endswith("zz_crash.txt") and error.startswith("crash:")
    assert [Path(f.path).name for f in failures(db)] == ["zz_crash.txt"]


def test_ctrl_c_keeps_what_is_stored_and_reports_interrupted(tmp_path):
    inbox = tmp_path / "in"
    write_letters(inbox, 4)
    (inbox / "afgørelse_002.txt").write_text("PRESS-CTRL-C")
    db = tmp_path / "anke.db"
    s = classify_paths([inbox], store_path=db, classify=fake_classify, model_version=MV,
                       progress=False)
    assert s.status == "interrupted" and s.exit_code == bulk.EXIT_INTERRUPTED
    assert s.classified == 2
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status, n_classified FROM runs").fetchall() == \
            [("interrupted", 2)]
        assert conn.execute("SELECT COUNT(*) FROM files").fetchone() == (2,)


def test_unpicklable_classify_is_refused_for_a_pool(tmp_path):
    write_letters(tmp_path / "in", 2)
    with pytest.raises(TypeError, match="picklable"):
        classify_paths([tmp_path / "in"], store_path=tmp_path / "a.db", jobs=2,
                       classify=lambda p, **kw: fake_classify(p, **kw), model_version=MV,
                       progress=False)


DRIVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from test_bulk import slow_classify
    from classifier.bulk import classify_paths
    s = classify_paths([{inbox!r}], store_path={db!r}, jobs={jobs}, classify=slow_classify,
                       progress=False)
    print(s.classified, s.skipped.get("skip", 0), s.exit_code)
""")


def test_exactly_once_under_kill_9(tmp_path):
    """SIGKILL a real run (driver + pool workers) once some files are stored, rerun, and
    check every file is stored exactly once and the store equals an uninterrupted run."""
    inbox = tmp_path / "in"
    write_letters(inbox / "tekst", 24)
    write_pdfs(inbox / "pdf", range(24, 30))
    db = tmp_path / "anke.db"
    code = DRIVER.format(tests=str(TESTS), inbox=str(inbox), db=str(db), jobs=2)
    env = dict(os.environ, ANKE_TEST_DELAY="0.1", PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env,
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    stored = 0
    deadline = time.monotonic() + 40
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                try:
                    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                        stored = conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
                except sqlite3.OperationalError:
                    stored = 0  # schema not created yet
            if stored >= 5:
                break
            time.sleep(0.02)
    finally:
        # SIGKILL the driver and its pool workers (the process group it leads)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    with sqlite3.connect(db) as conn:
        at_kill = conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
        assert conn.execute("SELECT status FROM runs").fetchall() == [("running",)]
    assert 5 <= at_kill < 30

    env["ANKE_TEST_DELAY"] = "0"
    code = DRIVER.format(tests=str(TESTS), inbox=str(inbox), db=str(db), jobs=1)
    rerun = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, timeout=60,
                           capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    classified, skipped, exit_status = map(int, rerun.stdout.split())
    assert (classified, skipped, exit_status) == (30 - at_kill, at_kill, EXIT_OK)
    with sqlite3.connect(db) as conn:
        # every file exactly once (no history rows either), each with its one decision
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT sha256) FROM files").fetchone() \
            == (30, 30)
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT sha256) FROM decisions "
                            "WHERE current = 1").fetchone() == (30, 30)
        assert conn.execute("SELECT COUNT(*) FROM decisions").fetchone() == (30,)
        assert conn.execute("SELECT COUNT(*) FROM files WHERE status != 'ok'").fetchone() \
            == (0,)
        assert conn.execute("SELECT status FROM runs ORDER BY id").fetchall() == \
            [("running",), ("finished",)]  # the killed run never finished
    # nothing lost, nothing changed: the store equals one uninterrupted run
    clean = tmp_path / "clean.db"
    classify_paths([inbox], store_path=clean, progress=False)
    assert stored_json(db) == stored_json(clean)


def test_dask_cluster_gives_the_same_results_as_a_local_run(tmp_path):
    distributed = pytest.importorskip("distributed")
    inbox = tmp_path / "in"
    write_letters(inbox, 8)
    write_pdfs(inbox, range(8, 12))
    (inbox / "tom.txt").write_text("")
    local = classify_paths([inbox], store_path=tmp_path / "local.db", progress=False)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None, silence_logs=40) as cluster:
        remote = classify_paths([inbox], store_path=tmp_path / "dask.db",
                                cluster=cluster.scheduler_address, progress=False)
        with sqlite3.connect(tmp_path / "dask.db") as conn:
            args = json.loads(conn.execute("SELECT args FROM runs").fetchone()[0])
        assert args["cluster"] == cluster.scheduler_address
    assert (remote.classified, remote.ok, len(remote.failed)) == (13, 12, 1)
    assert remote.to_json()["outcomes"] == local.to_json()["outcomes"]
    assert remote.exit_code == local.exit_code == EXIT_FAILED
    assert stored_json(tmp_path / "dask.db") == stored_json(tmp_path / "local.db")
