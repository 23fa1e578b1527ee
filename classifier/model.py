"""The trained classifier: scikit-learn pipelines over sentence representations.

- ``sentence``: TF-IDF of lemma/context word 1-2 grams -> one logistic regression per label that scores each sentence for kritik and each error type.
  Positives are the corpus' evidence sentences; negatives are sentences of decisions that do
  not carry the label (sentences of decisions that do carry it, other than the evidence, are
  left out: they may express the label too).
- ``outcome``: a Pipeline (TF-IDF + multinomial logistic regression) over the result part.

Saved with joblib in ``models/`` beside a manifest (sha256 of the file, library versions,
training-data hash, evaluation figures); ``load_model`` refuses a file whose hash differs.
"""

from __future__ import annotations

import json
import platform
import re
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from classifier.analysis import Analysis
from classifier.hashing import file_sha256
from classifier.schema import ERROR_TYPES, OUTCOMES

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
DEFAULT_MODEL = MODELS_DIR / "default.joblib"
SENTENCE_LABELS: tuple[str, ...] = ("kritik",) + ERROR_TYPES


class ModelIntegrityError(Exception):
    pass


@dataclass
class AnkeModel:
    sentence_features: TfidfVectorizer
    sentence_classifiers: dict[str, LogisticRegression]
    outcome: Pipeline
    thresholds: dict[str, dict[str, float]] = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def sentence_probabilities(self, analysis: Analysis) -> dict[str, np.ndarray]:
        """Per label, the probability of each sentence expressing it (the logistic regressions'
        ``predict_proba``, computed for all labels in one matrix product)."""
        if not analysis.reprs:
            return {label: np.zeros(0) for label in SENTENCE_LABELS}
        X = tfidf_transform(self.sentence_features, analysis.reprs)
        labels, W, b = self._stacked()
        P = 1.0 / (1.0 + np.exp(-(X @ W.T + b)))
        return {label: P[:, i] for i, label in enumerate(labels)}

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_stacked_cache", None)  # derived; never saved
        return state

    def _stacked(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """The per-label regressions as one weight matrix (built once per loaded model)."""
        cached = self.__dict__.get("_stacked_cache")
        if cached is None:
            labels = list(self.sentence_classifiers)
            W = np.vstack([self.sentence_classifiers[k].coef_[0] for k in labels])
            b = np.array([self.sentence_classifiers[k].intercept_[0] for k in labels])
            cached = self.__dict__["_stacked_cache"] = (labels, W, b)
        return cached

    def outcome_probabilities(self, analysis: Analysis) -> dict[str, float]:
        """The outcome pipeline's ``predict_proba`` (multinomial: softmax of the linear scores),
        computed directly to skip per-call validation overhead."""
        tfidf, clf = self.outcome.named_steps["tfidf"], self.outcome.named_steps["clf"]
        X = tfidf_transform(tfidf, [analysis.outcome_text()])
        scores = np.asarray(X @ clf.coef_.T)[0] + clf.intercept_
        if len(clf.classes_) == 2:  # binary: one score column
            p1 = 1 / (1 + np.exp(-scores[0]))
            probs = np.array([1 - p1, p1])
        else:
            e = np.exp(scores - scores.max())
            probs = e / e.sum()
        return {str(label): float(p) for label, p in zip(clf.classes_, probs)}


#: built analyzers per fitted vectorizer (kept outside the object so a saved model is unchanged)
_ANALYZERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def tfidf_transform(vectorizer: TfidfVectorizer, texts: list[str]) -> sparse.csr_matrix:
    """``vectorizer.transform(texts)`` for the configuration ``_features`` builds (raw counts ->
    sublinear tf -> idf -> l2 norm), from its public fitted attributes.

    Same numbers as scikit-learn's (a test checks it on the dev split) without its per-call
    input validation, which cost more than the counting for the few sentences of a decision."""
    if vectorizer.norm != "l2" or not vectorizer.use_idf or vectorizer.binary:
        return vectorizer.transform(texts)
    analyzer = _ANALYZERS.get(vectorizer)
    if analyzer is None:
        analyzer = _ANALYZERS[vectorizer] = vectorizer.build_analyzer()
    vocab, idf = vectorizer.vocabulary_, vectorizer.idf_
    indptr, indices, values = [0], [], []
    for text in texts:
        counts: dict[int, int] = {}
        for term in analyzer(text):
            j = vocab.get(term)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        cols = sorted(counts)
        row = np.array([counts[j] for j in cols], dtype=np.float64)
        if vectorizer.sublinear_tf:
            row = np.log(row) + 1.0
        row *= idf[cols]
        norm = np.sqrt(row @ row)
        if norm > 0:
            row /= norm
        indices.extend(cols)
        values.extend(row.tolist())
        indptr.append(len(indices))
    return sparse.csr_matrix((np.array(values, dtype=np.float64), np.array(indices, dtype=np.int32),
                              np.array(indptr, dtype=np.int32)), shape=(len(texts), len(vocab)))


def _features(seed: int) -> TfidfVectorizer:
    # Word 1-2 grams over the lemma/cue representation. Character n-grams were measured too:
    # the same combined F1 on dev at three times the cost per decision; compounds are covered
    # by the "P:" head tokens of the representation instead.
    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                           token_pattern=r"[^ ]+", lowercase=False, dtype=np.float64)


def _norm_tokens(text: str) -> set[str]:
    return {t for t in re.findall(r"[a-zæøå0-9]+", text.lower()) if len(t) > 2}


def evidence_index(analysis: Analysis, sentence: str) -> int | None:
    """Index of the parsed sentence that best holds a corpus evidence sentence."""
    target = _norm_tokens(sentence)
    if not target:
        return None
    best, best_score = None, 0.0
    for i, s in enumerate(analysis.decision.sentences):
        toks = _norm_tokens(s.text)
        if not toks:
            continue
        score = len(target & toks) / len(target)
        if score > best_score:
            best, best_score = i, score
    return best if best_score >= 0.6 else None


def sentence_training_data(items: list[tuple[Analysis, object]]):
    """(reprs, {label: (indices, y)}) from analysed corpus decisions with their labels."""
    reprs: list[str] = []
    per_label: dict[str, tuple[list[int], list[int]]] = {l: ([], []) for l in SENTENCE_LABELS}
    for analysis, gold in items:
        offset = len(reprs)
        reprs.extend(analysis.reprs)
        present = set(gold.errors) | ({"kritik"} if gold.kritik else set())
        for label in SENTENCE_LABELS:
            idx, y = per_label[label]
            if label in present:
                ev = gold.evidence.get(label)
                k = evidence_index(analysis, ev) if ev else None
                if k is not None:
                    idx.append(offset + k)
                    y.append(1)
            else:
                for k, s in enumerate(analysis.decision.sentences):
                    if s.section != "header":
                        idx.append(offset + k)
                        y.append(0)
    return reprs, per_label


def fit(items: list[tuple[Analysis, object]], seed: int = 0) -> AnkeModel:
    """Train on analysed corpus decisions paired with their gold CorpusDecision."""
    reprs, per_label = sentence_training_data(items)
    features = _features(seed)
    X = features.fit_transform(reprs)
    classifiers = {}
    for label in SENTENCE_LABELS:
        idx, y = per_label[label]
        clf = LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000,
                                 solver="liblinear", random_state=seed)
        clf.fit(X[idx], np.array(y))
        classifiers[label] = clf
    outcome = Pipeline([
        ("tfidf", TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True,
                                  token_pattern=r"[^ ]+", lowercase=False)),
        ("clf", LogisticRegression(C=8.0, class_weight="balanced", max_iter=3000,
                                   random_state=seed)),
    ])
    outcome.fit([a.outcome_text() for a, _ in items], [g.outcome for _, g in items])
    assert set(outcome.classes_) <= set(OUTCOMES)
    return AnkeModel(features, classifiers, outcome)


# ------------------------------------------------------------------------------ persistence

def library_versions() -> dict[str, str]:
    import sklearn
    import spacy

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "spacy": spacy.__version__, "numpy": np.__version__, "joblib": joblib.__version__}


def save_model(model: AnkeModel, path: Path = DEFAULT_MODEL, *, training: dict | None = None,
               evaluation: dict | None = None) -> dict:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path, compress=3)
    manifest = {
        "file": path.name,
        "sha256": file_sha256(path),
        "bytes": path.stat().st_size,
        "libraries": library_versions(),
        "training": training or {},
        "thresholds": model.thresholds,
        "evaluation": evaluation or {},
    }
    path.with_suffix(".json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                         encoding="utf-8")
    return manifest


def manifest_for(path: Path = DEFAULT_MODEL) -> dict:
    return json.loads(Path(path).with_suffix(".json").read_text(encoding="utf-8"))


_CACHE: dict[str, AnkeModel] = {}


def load_model(path: Path = DEFAULT_MODEL) -> AnkeModel:
    """Load a model, verifying the sha256 recorded in its manifest."""
    path = Path(path)
    if not path.exists():
        raise ModelIntegrityError(f"model file {path} not found; run `anke train`")
    manifest_path = path.with_suffix(".json")
    stat = path.stat()
    key = f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:" + (
        str(manifest_path.stat().st_mtime_ns) if manifest_path.exists() else "")
    if key in _CACHE:
        return _CACHE[key]
    if not manifest_path.exists():
        raise ModelIntegrityError(f"model {path} has no manifest {manifest_path.name}; refusing to load")
    expected = json.loads(manifest_path.read_text(encoding="utf-8")).get("sha256")
    actual = file_sha256(path)
    if expected != actual:
        raise ModelIntegrityError(
            f"model {path} does not match its manifest (sha256 {actual[:12]}… != {str(expected)[:12]}…); "
            "refusing to load a changed or corrupted model — retrain with `anke train`")
    model = joblib.load(path)
    _CACHE[key] = model
    return model


def model_version(path: Path = DEFAULT_MODEL) -> str:
    try:
        return "model-" + manifest_for(path)["sha256"][:12]
    except (OSError, KeyError, json.JSONDecodeError):
        return "rules-only"
