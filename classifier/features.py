"""Sentence representations shared by the trained model and the decision step.

A sentence becomes a string of lemma tokens with context markers, so a linear model can tell
"ikke tilstrækkeligt oplyst" from "tilstrækkeligt oplyst", and the citizen's claim from
Ankestyrelsen's finding:

    SEC_begrundelse kommune have ikke ikke_undersøge ikke_sag ...   (negation scope: clause)
    P:partshø                                                         (head of a long compound)
    CLAIM / DUTY / REJECT / AGREE                                       (sentence cues)
"""

from __future__ import annotations

from spacy.tokens import Doc

from classifier.rules import CLAUSE_BREAKS, NEGATORS, SentenceContext


def sentence_repr(doc: Doc, section: str | None, ctx: SentenceContext | None = None) -> str:
    ctx = ctx or SentenceContext(doc.text)
    out = [f"SEC_{section or 'andet'}"]
    if ctx.claim_end >= 0 and not ctx.agree:
        out.append("CUE_CLAIM")
    if ctx.agree:
        out.append("CUE_AGREE")
    if ctx.reject_end >= 0:
        out.append("CUE_REJECT")
    if ctx.raised_end >= 0:
        out.append("CUE_RAISED")
    if ctx.duty:
        out.append("CUE_DUTY")
    negated = False
    for token in doc:
        low = token.lower_
        if low in CLAUSE_BREAKS:
            negated = False
            continue
        if token.is_punct or token.is_space:
            continue
        if low in NEGATORS:
            negated = True
            out.append("ikke")
            continue
        if token.like_num:
            out.append("NUM")
            continue
        lemma = token.norm_
        out.append(("ikke_" + lemma) if negated else lemma)
        if len(lemma) >= 10:
            # Danish compounds: the head of "partshøringspligten" is shared with "partshøring"
            stem = "P:" + lemma[:7]
            out.append(("ikke_" + stem) if negated else stem)
    return " ".join(out)
