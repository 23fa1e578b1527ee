"""One pass over a parsed decision that every later step reads: spaCy docs, sentence cues,
model representations and rule hits."""

from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Doc

from classifier.features import sentence_repr
from classifier.nlp import get_nlp
from classifier.rules import RuleResult, SentenceContext, apply_rules
from classifier.schema import ParsedDecision


@dataclass
class Analysis:
    decision: ParsedDecision
    docs: list[Doc]
    contexts: list[SentenceContext]
    reprs: list[str]
    rules: RuleResult

    def outcome_text(self) -> str:
        """Representation of the result part: the afgørelse section (or the opening)."""
        sents = self.decision.sentences
        picked = [r for s, r in zip(sents, self.reprs) if s.section in ("afgørelse", "resume")]
        if not picked:
            picked = [r for s, r in zip(sents, self.reprs) if s.section != "header"][:15]
        rule_tokens = [f"RULE_{h.rule.label}" for h in self.rules.valid("outcome")
                       if h.section in ("afgørelse", "resume")]
        return " ".join(picked[:25] + rule_tokens)


#: Sections that can carry no label (rules text, law excerpts such as a "Love og regler"
#: appendix, complaints guidance): their sentences are neither matched nor scored.
SKIPPED_SECTIONS = frozenset({"regler", "love", "klagevejledning"})
_NO_CUES = SentenceContext("")


def analyse(decision: ParsedDecision) -> Analysis:
    docs = decision.spans
    if docs is None or len(docs) != len(decision.sentences):
        docs = list(get_nlp().pipe(s.text for s in decision.sentences))
    live = [s.section not in SKIPPED_SECTIONS for s in decision.sentences]
    contexts = [SentenceContext(s.text, s.quoted) if ok else _NO_CUES
                for s, ok in zip(decision.sentences, live)]
    reprs = [sentence_repr(d, s.section, c) if ok else ""
             for d, s, c, ok in zip(docs, decision.sentences, contexts, live)]
    keep = [k for k, ok in enumerate(live) if ok]
    rules = apply_rules([decision.sentences[k] for k in keep], [docs[k] for k in keep],
                        [contexts[k] for k in keep])
    return Analysis(decision, docs, contexts, reprs, rules)
