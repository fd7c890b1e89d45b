"""The query language: a subset of Lucene's classic QueryParser (DESIGN.md, "Search").

``words``, ``+word`` (required), ``-word`` (excluded), ``"a phrase"`` (with ``+``/``-``
too), ``AND``, ``OR``, ``NOT`` (also ``&&``, ``||``) and parentheses. The parser only
builds the tree; words are analyzed later with the index's analyzer (``plan``).

The parser keeps each clause's sign and the conjunction before it; ``plan`` applies
Lucene's ``QueryParserBase.addClause`` rules (default operator OR) once words are
analyzed, since a word the analyzer removes entirely is no neighbour.

A word is a run of characters other than whitespace, ``(``, ``)`` and ``"``; a leading
``+``/``-`` is its sign (inside a word they are ordinary characters, as in Lucene:
``e-mail`` is one word that analyzes to two tokens).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import List, Tuple

from ..errors import UsageError


class QuerySyntaxError(UsageError):
    """A query that does not parse: one line, exit status 2."""


class Occur(enum.Enum):
    MUST = "+"
    SHOULD = ""
    MUST_NOT = "-"


@dataclass(frozen=True)
class Word:
    text: str


@dataclass(frozen=True)
class Phrase:
    text: str


@dataclass(frozen=True)
class Group:
    clauses: Tuple[Clause, ...]


Node = Word | Phrase | Group


@dataclass(frozen=True)
class Clause:
    occur: Occur  # from the sign alone: + MUST, - or NOT MUST_NOT, else SHOULD
    node: Node
    conj: str | None = None  # "AND" or "OR" written before it


# -- lexer -----------------------------------------------------------------------------
_SPECIAL = ' \t\r\n\f\v()"'


def _tokens(q: str) -> List[Tuple[str, str, int]]:
    """``(kind, text, offset)``: kinds ( ) + - AND OR NOT WORD PHRASE."""
    out: List[Tuple[str, str, int]] = []
    i, n = 0, len(q)
    while i < n:
        c = q[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append((c, c, i))
            i += 1
        elif c == '"':
            j = q.find('"', i + 1)
            if j < 0:
                raise QuerySyntaxError(f"unterminated phrase at column {i + 1}: {q[i:][:40]!r}")
            out.append(("PHRASE", q[i + 1:j], i))
            i = j + 1
        elif c in "+-":
            out.append((c, c, i))
            i += 1
        else:
            j = i
            while j < n and q[j] not in _SPECIAL and not q[j].isspace():
                j += 1
            word = q[i:j]
            kind = {"AND": "AND", "&&": "AND", "OR": "OR", "||": "OR", "NOT": "NOT"}.get(
                word, "WORD")
            out.append((kind, word, i))
            i = j
    return out


# -- parser ----------------------------------------------------------------------------
MAX_DEPTH = 64  # nested parentheses: deeper is a syntax error, not a RecursionError


class _Parser:
    def __init__(self, q: str) -> None:
        self.q = q
        self.toks = _tokens(q)
        self.i = 0
        self.depth = 0

    def peek(self) -> str | None:
        return self.toks[self.i][0] if self.i < len(self.toks) else None

    def error(self, what: str) -> QuerySyntaxError:
        q = self.q if len(self.q) <= 80 else self.q[:77] + "..."
        if self.i < len(self.toks):
            kind, text, at = self.toks[self.i]
            return QuerySyntaxError(f"{what} at column {at + 1} ({text[:40]!r}) in {q!r}")
        return QuerySyntaxError(f"{what} at the end of {q!r}")

    def query(self, nested: bool) -> Tuple[Clause, ...]:
        clauses: List[Clause] = []
        first = True
        while True:
            kind = self.peek()
            if kind is None or kind == ")":
                break
            conj = None
            if kind in ("AND", "OR"):
                if first:
                    raise self.error(f"{kind} needs a clause before it")
                conj = kind
                self.i += 1
            occur = Occur.SHOULD
            kind = self.peek()
            if kind in ("+", "-", "NOT"):
                occur = Occur.MUST if kind == "+" else Occur.MUST_NOT
                self.i += 1
            clauses.append(Clause(occur, self.clause(), conj))
            first = False
        if nested and self.peek() != ")":
            raise self.error("missing ')'")
        if not nested and self.peek() == ")":
            raise self.error("unbalanced ')'")
        return tuple(clauses)

    def clause(self) -> Node:
        kind = self.peek()
        if kind is None:
            raise self.error("expected a word, a phrase or '('")
        _, text, _ = self.toks[self.i]
        if kind == "WORD":
            self.i += 1
            return Word(text)
        if kind == "PHRASE":
            self.i += 1
            return Phrase(text)
        if kind == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.error(f"more than {MAX_DEPTH} nested parentheses")
            self.i += 1
            inner = self.query(nested=True)
            self.depth -= 1
            if not inner:
                raise self.error("empty group")
            self.i += 1  # the ')'
            return Group(inner)
        raise self.error("expected a word, a phrase or '('")


def parse(q: str) -> Tuple[Clause, ...]:
    """The top-level clauses of query ``q``; raises QuerySyntaxError."""
    clauses = _Parser(q).query(nested=False)
    if not clauses:
        raise QuerySyntaxError("empty query")
    return clauses
