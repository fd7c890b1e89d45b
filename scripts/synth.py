"""A seeded synthetic corpus: Zipf-distributed vocabulary, doc_id<TAB>text lines.

Used by the benchmark; importable (``make_corpus``) and runnable:
``python scripts/synth.py --size-mb 50 > synth.tsv``. The same seed and size give the
same bytes on every machine, so figures from different runs compare.
"""

from __future__ import annotations

import argparse
import bisect
import random
import sys
from itertools import accumulate
from typing import BinaryIO, List

SYLLABLES = ["ka", "to", "ri", "mu", "se", "na", "lo", "vi", "de", "po", "ga", "shi", "ne",
             "ru", "ta", "mo", "ze", "ki", "ba", "fu", "é", "ö"]


def vocabulary(size: int, rng: random.Random) -> List[str]:
    words, seen = [], set()
    while len(words) < size:
        w = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
        if w not in seen:
            seen.add(w)
            words.append(w.capitalize() if rng.random() < 0.1 else w)
    return words


def make_corpus(out: BinaryIO, size_mb: float, seed: int = 42, vocab: int = 50_000,
                zipf_s: float = 1.0, mean_tokens: int = 36) -> int:
    """Write about ``size_mb`` MB of records; return the number of documents."""
    rng = random.Random(seed)
    words = vocabulary(vocab, rng)
    cum = list(accumulate(1.0 / (r ** zipf_s) for r in range(1, vocab + 1)))
    total = cum[-1]
    target = int(size_mb * 1_000_000)
    written = docs = 0
    punct = [" ", " ", " ", " ", " ", ", ", ". ", "; "]
    while written < target:
        n = max(1, int(rng.expovariate(1.0 / mean_tokens)))
        picks = [words[bisect.bisect_left(cum, rng.random() * total)] for _ in range(n)]
        text = "".join(w + rng.choice(punct) for w in picks).strip()
        line = f"doc{docs:08d}\t{text}\n".encode()
        out.write(line)
        written += len(line)
        docs += 1
    return docs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size-mb", type=float, default=50)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--vocab", type=int, default=50_000)
    a = p.parse_args()
    make_corpus(sys.stdout.buffer, a.size_mb, a.seed, a.vocab)


if __name__ == "__main__":
    main()
