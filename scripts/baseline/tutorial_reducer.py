#!/usr/bin/env python3
"""BASELINE ONLY: the tutorial reducer (a doc list per word, no tf, no positions)."""

import sys

current, docs = None, []
for line in sys.stdin:
    word, _, doc_id = line.rstrip("\n").partition("\t")
    if word != current:
        if current is not None:
            print(f"{current}\t{','.join(docs)}")
        current, docs = word, []
    if not docs or docs[-1] != doc_id:
        docs.append(doc_id)
if current is not None:
    print(f"{current}\t{','.join(docs)}")
