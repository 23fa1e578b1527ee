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


def analyse(decision: ParsedDecision) -> Analysis:
    docs = decision.spans
    if docs is None or len(docs) != len(decision.sentences):
        docs = list(get_nlp().pipe(s.text for s in decision.sentences))
    contexts = [SentenceContext(s.text, s.quoted) for s in decision.sentences]
    reprs = [sentence_repr(d, s.section, c) for d, s, c in zip(docs, decision.sentences, contexts)]
    rules = apply_rules(decision.sentences, docs, contexts)
    return Analysis(decision, docs, contexts, reprs, rules)
