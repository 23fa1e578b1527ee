"""The fixed train/dev/test split by id, stratified by outcome (60/20/20).

Within each outcome, ids are ordered by a seeded hash and dealt out in the pattern
test, train, dev, train, train — so each split gets the same outcome mix, and the assignment is
reproducible. The result is checked in as corpus/splits.json and never regenerated silently.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict

from classifier.corpus.load import SPLITS_FILE, load_corpus

PATTERN = ("test", "train", "dev", "train", "train")


def make_splits(seed: str = "anke-2026") -> dict[str, list[str]]:
    """The whole corpus dealt afresh (what the checked-in split started from)."""
    return extend_splits({"train": [], "dev": [], "test": []}, seed)


#: For letters whose misses were read while writing patterns: they may train, never test.
SEEN_PATTERN = ("train", "dev", "train", "train")


def extend_splits(splits: dict[str, list[str]], seed: str = "anke-2026", *,
                  ids: set[str] | None = None, pattern: tuple[str, ...] = PATTERN
                  ) -> dict[str, list[str]]:
    """Deal decisions added to the corpus since ``splits`` was fixed (or only ``ids`` of them),
    the same way (within each outcome, by seeded hash, along ``pattern``); ids already assigned
    never move."""
    assigned = {i for v in splits.values() for i in v}
    by_outcome = defaultdict(list)
    for d in load_corpus():
        if d.id not in assigned and (ids is None or d.id in ids):
            by_outcome[d.outcome].append(d.id)
    out = {k: list(v) for k, v in splits.items()}
    for outcome in sorted(by_outcome):
        ordered = sorted(by_outcome[outcome],
                         key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())
        for k, i in enumerate(ordered):
            out[pattern[k % len(pattern)]].append(i)
    return {k: sorted(v) for k, v in out.items()}


def main() -> None:
    """python -m classifier.corpus.splits [--extend [--seen ID...] [--test ID...]]: write
    corpus/splits.json. ``--extend`` keeps every existing assignment and deals the new decisions:
    ``--seen`` ids (letters whose misses informed the patterns) to train/dev only, ``--test`` ids
    to test only, any other new id along the usual pattern."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m classifier.corpus.splits")
    ap.add_argument("--extend", action="store_true")
    ap.add_argument("--seen", nargs="*", default=[])
    ap.add_argument("--test", nargs="*", default=[])
    args = ap.parse_args()
    if args.extend:
        splits = json.loads(SPLITS_FILE.read_text(encoding="utf-8"))
        if args.seen:
            splits = extend_splits(splits, ids=set(args.seen), pattern=SEEN_PATTERN)
        if args.test:
            splits = extend_splits(splits, ids=set(args.test), pattern=("test",))
        splits = extend_splits(splits)
    else:
        splits = make_splits()
    SPLITS_FILE.write_text(json.dumps(splits, indent=1) + "\n", encoding="utf-8")
    print({k: len(v) for k, v in splits.items()})


if __name__ == "__main__":
    main()
