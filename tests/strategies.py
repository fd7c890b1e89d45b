"""Hypothesis strategies for corpora that stress the contracts."""

from __future__ import annotations

from hypothesis import strategies as st

# Words chosen to hit the edges: case folding that changes length or splits a token
# (İ), final sigma, digits, underscores (token breaks), non-BMP, punctuation.
WORDS = ["the", "The", "a", "cat", "CAT", "cats", "running", "Straße", "İstanbul", "ΣΊΣΥΦΟΣ",
         "naïve", "café", "東京", "x_y", "42", "4½", "🙂", "--", "hello,", "e\u0301", "ǅ"]
SEPARATORS = [" ", "  ", ", ", "\t", ". ", "-", "\u00a0", "\r"]

# Ids with C0 control characters (all but TAB and LF, which cannot be in an id) are
# bad records; DEL and C1 controls are good ids.
C0_IN_IDS = "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n")
doc_ids = st.one_of(
    st.sampled_from(["d1", "d2", "d10", "doc:é", "Z", "a b", "ид", "🙂", "d\x7f", "d\x85",
                     "d1!", "d,[", "d!,["]),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FFF,
                          blacklist_categories=("Cs",)), min_size=1, max_size=6),
    st.tuples(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7F), max_size=3),
              st.sampled_from(C0_IN_IDS),
              st.text(st.characters(min_codepoint=0, max_codepoint=0x7F,
                                    blacklist_characters="\t\n"), max_size=3),
              ).map("".join),
)
texts = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)),
                 max_size=25).map(lambda ws: "".join(w + s for w, s in ws))
good_lines = st.tuples(doc_ids, texts).map(
    lambda dt: (dt[0] + "\t" + dt[1]).encode("utf-8"))
bad_lines = st.sampled_from([b"no tab", b"", b"\tempty id", b"d\x01\tctl", b"d\t\xff\xfe",
                             b"   "])
corpora = st.lists(st.one_of(good_lines, good_lines, good_lines, bad_lines), max_size=30).map(
    lambda lines: b"".join(line.rstrip(b"\n") + b"\n" for line in lines))
