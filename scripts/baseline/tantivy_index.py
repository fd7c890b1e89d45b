#!/usr/bin/env python3
"""BASELINE ONLY: build a positional tantivy index of doc_id<TAB>text files (a peer to
compare against in scripts/benchmark.py; tantivy is a Rust search library, installed
with `pip install tantivy`).   tantivy_index.py OUT_DIR THREADS FILE...
"""

import sys

import tantivy


def main() -> None:
    out, threads, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("doc_id", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("body", stored=False, tokenizer_name="default",
                      index_option="position")
    index = tantivy.Index(sb.build(), path=out)
    writer = index.writer(heap_size=256_000_000, num_threads=threads)
    for name in files:
        with open(name, encoding="utf-8", errors="replace") as f:
            for line in f:
                doc_id, _, text = line.rstrip("\n").partition("\t")
                writer.add_document(tantivy.Document(doc_id=doc_id, body=text))
    writer.commit()
    writer.wait_merging_threads()


if __name__ == "__main__":
    main()
