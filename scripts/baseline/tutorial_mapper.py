#!/usr/bin/env python3
"""BASELINE ONLY: the tutorial mapper (whitespace split, no normalisation)."""

import sys

for line in sys.stdin:
    doc_id, _, text = line.rstrip("\n").partition("\t")
    for word in text.split():
        print(f"{word}\t{doc_id}")
