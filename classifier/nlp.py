"""The shared spaCy pipeline: blank Danish + sentence splitter + lower-case lookup lemmas.

No model download: the lemma table comes from spacy-lookups-data (plus
classifier/data/lemmas_extra.toml). spaCy's lookup lemmatizer is case-sensitive ("Kommunen"
stays as is) and runs per token; here the lemma of the lower-case form is computed once per
word form and kept as the lexeme's NORM.
"""

from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.attrs import ORTH
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


def lemma_of(lower: str) -> str:
    """The lemma of a lower-case word form (the lookup table; "22." -> "22")."""
    if lower[:1].isdigit() and lower.endswith("."):
        return lower[:-1]  # "§ 22." at the end of a sentence
    return lemma_table().get(lower, lower)


def _norm_getter(string: str) -> str:
    return lemma_of(string.lower())


_ABBREVIATIONS = {"jf.", "stk.", "nr.", "pkt.", "ca.", "kr.", "f.eks.", "bl.a.", "m.v.", "mv.",
                  "j.nr.", "evt.", "dvs.", "jvf.", "iht.", "pga.", "inkl.", "ekskl.", "tlf.", "s.",
                  "kap.", "hhv.", "vedr.", "ift.", "mht.", "m.fl.", "ang.", "bl.", "f."}


_CLOSING = {'"', "”", "“", "»", "«", "'"}  # »...« and «...» both close


@Language.component("anke_sentences")
def _sentences(doc: Doc) -> Doc:
    """Sentence starts after . ! ? (not after abbreviations such as "stk."), also when the
    full stop is glued to a number ("stk. 1. Det ...")."""
    if not len(doc):
        return doc
    strings = doc.vocab.strings
    words = [strings[o] for o in doc.to_array(ORTH).tolist()]
    doc[0].is_sent_start = True
    if len(doc) > 1:
        # spaCy counts sentence annotation from the second token on: mark it either way
        doc[1].is_sent_start = False
    for i in range(len(words) - 1):
        text, nxt = words[i], words[i + 1]
        if text in {".", "!", "?"}:
            if i and words[i - 1].lower() + "." in _ABBREVIATIONS:
                continue
        elif not (text.endswith(".") and text[:-1].isdigit() and nxt[:1].isupper()):
            continue
        if nxt in _CLOSING and (doc[i + 1].whitespace_ or i + 2 == len(words)):
            # '... forkert." Vi er ...': the closing mark ends this sentence
            if i + 2 < len(words) and (words[i + 2][:1].isupper() or words[i + 2][:1] in "§\"«("):
                doc[i + 1].is_sent_start = False
                doc[i + 2].is_sent_start = True
            continue
        if nxt[:1].isupper() or nxt[:1] in "§\"«(" or nxt.isdigit():
            doc[i + 1].is_sent_start = True
    return doc


@lru_cache(maxsize=1)
def get_nlp() -> Language:
    """Blank Danish pipeline. The lemma of each word form is stored as the lexeme's NORM when
    the vocabulary first meets the form, so lemmatizing costs nothing per token afterwards;
    patterns and features read ``token.norm_``."""
    from spacy.attrs import NORM

    nlp = spacy.blank("da")
    nlp.vocab.lex_attr_getters[NORM] = _norm_getter
    nlp.add_pipe("anke_sentences")
    nlp.max_length = 3_000_000
    return nlp


def sentences(doc: Doc):
    """The sentence spans of a doc (a one-token doc is one sentence)."""
    if len(doc) == 1:
        return [doc[:]]
    return list(doc.sents)

