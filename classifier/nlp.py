"""The shared spaCy pipeline: blank Danish + sentencizer + lower-case lookup lemmas.

No model download: the lemma table comes from spacy-lookups-data. spaCy's lookup lemmatizer is
case-sensitive ("Kommunen" stays as is), so a small component lemmatizes the lower-case form.
"""

from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc



@lru_cache(maxsize=1)
def lemma_table() -> dict:
    import gzip
    import json
    from pathlib import Path

    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "da_lemma_lookup.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        table = json.load(fh)
    import tomllib

    extra = Path(__file__).parent / "data" / "lemmas_extra.toml"
    table.update(tomllib.loads(extra.read_text(encoding="utf-8"))["lemmas"])
    return table


@Language.component("anke_lemmas")
def _lower_lemmas(doc: Doc) -> Doc:
    table = lemma_table()
    for token in doc:
        low = token.lower_
        if low[:1].isdigit() and low.endswith("."):
            token.lemma_ = low[:-1]  # "§ 22." at the end of a sentence
        else:
            token.lemma_ = table.get(low, low)
    return doc


_ABBREVIATIONS = {"jf.", "stk.", "nr.", "pkt.", "ca.", "kr.", "f.eks.", "bl.a.", "m.v.", "mv.",
                  "j.nr.", "evt.", "dvs.", "jvf.", "iht.", "pga.", "inkl.", "ekskl.", "tlf.", "s.",
                  "kap.", "hhv.", "vedr.", "ift.", "mht.", "m.fl.", "ang.", "bl.", "f."}


@Language.component("anke_sentences")
def _sentences(doc: Doc) -> Doc:
    """Sentence starts after . ! ? (not after abbreviations such as "stk."), also when the
    full stop is glued to a number ("stk. 1. Det ...")."""
    for i, token in enumerate(doc):
        token.is_sent_start = i == 0
    for i, token in enumerate(doc[:-1]):
        nxt = doc[i + 1]
        text = token.text
        final = text in {".", "!", "?"} or (
            text.endswith(".") and text[:-1].isdigit() and nxt.text[:1].isupper())
        if text in {".", "!", "?"} and i and doc[i - 1].lower_ + "." in _ABBREVIATIONS:
            final = False
        if final and (nxt.text[:1].isupper() or nxt.text[:1] in "§\"«(" or nxt.is_digit):
            nxt.is_sent_start = True
    return doc


@lru_cache(maxsize=1)
def get_nlp() -> Language:
    nlp = spacy.blank("da")
    nlp.add_pipe("anke_sentences")
    nlp.add_pipe("anke_lemmas")
    nlp.max_length = 3_000_000
    return nlp


def lemmatize(text: str) -> list[str]:
    return [t.lemma_ for t in get_nlp()(text)]
