"""The shape of the code: no import cycle, one runner registry, mrjob's private
attributes read in one module, argparse's read nowhere.

The import graph is read from the source (every ``import`` in ``invindex`` and
``jobs``, at module level or inside functions, so a function-level import cannot
hide a cycle); a cycle is a strongly connected component of more than one module.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, List, Set, Tuple

from tests.conftest import REPO

PACKAGES = ("invindex", "jobs")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> Dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}


def _imports(name: str, path: Path, known: Set[str]) -> Set[str]:
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        targets: List[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [f"{mod}.{a.name}" for a in node.names] + [mod]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name and not name.startswith(t + "."):  # a parent package: runs first
                found.add(t)
    return found


def _cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on: Set[str] = set()
    out: List[List[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    mods = _modules()
    known = set(mods)
    graph = {name: _imports(name, path, known) for name, path in mods.items()}
    assert graph["invindex.build"] >= {"invindex.runners", "invindex.index.commit"}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_one():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_only_the_registry_knows_runner_names():
    """No ``runner == "spark"`` / ``runner in (...)`` anywhere: entries say what differs."""
    pattern = re.compile(r"""\brunner\w*\s*(==|!=|\bin\b|\bnot in\b)\s*[("'\[]""")
    offenders = [f"{p.relative_to(REPO)}:{n}" for pkg in PACKAGES
                 for p in (REPO / pkg).rglob("*.py")
                 for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
                 if pattern.search(line)]
    assert offenders == []


MRJOB_PRIVATE = REPO / "invindex" / "runners" / "mrjob_private.py"
SPARK_HARNESS = REPO / "invindex" / "runners" / "spark_harness.py"  # pyspark's one use
_PRIVATE = re.compile(r"_(?!_)\w*")  # _name, not a __dunder__


def _private_names(source: str, library: str = "mrjob") -> List[Tuple[int, str]]:
    """``x._name`` (x not self/cls), ``getattr(x, "_name")`` and its kin, and
    ``from LIBRARY... import _name`` in some source, as (line, name)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        name = None
        if isinstance(node, ast.Attribute) and _PRIVATE.fullmatch(node.attr):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                name = node.attr
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
              and len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
              and isinstance(node.args[1].value, str) and _PRIVATE.fullmatch(node.args[1].value)):
            name = node.args[1].value
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(library):
            name = next((a.name for a in node.names if _PRIVATE.fullmatch(a.name)), None)
        if name:
            found.append((node.lineno, name))
    return found


def _private_uses(path: Path, library: str = "mrjob") -> List[str]:
    """``_private_names`` of one file, as ``file:line name``."""
    return [f"{path.relative_to(REPO)}:{line} {name}"
            for line, name in _private_names(path.read_text("utf-8"), library)]


def test_mrjob_private_attributes_in_one_module():
    """The runners and the job (where mrjob's objects are handled) and any module that
    imports mrjob touch no private attribute of another object: mrjob's go through
    ``invindex/runners/mrjob_private.py``, which says why each is unavoidable. pyspark's
    one (``rdd._jrdd``) is in the Spark harness script, which cannot import invindex."""
    files = {p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")
             if p.parent.name in ("runners", "jobs")
             or re.search(r"^\s*(from|import) mrjob\b", p.read_text("utf-8"), re.M)}
    assert MRJOB_PRIVATE in files and len(files) > 10
    assert [u for p in sorted(files - {MRJOB_PRIVATE, SPARK_HARNESS})
            for u in _private_uses(p)] == []
    assert [u.split()[-1] for u in _private_uses(SPARK_HARNESS)] == ["_jrdd"]
    assert len(_private_uses(MRJOB_PRIVATE)) >= 5  # the check sees them where they are


_PARSER_CODE = re.compile(
    r"^\s*(from|import) argparse\b|\.add_argument(_group)?\(|\.parse_(known_)?args\(", re.M)
_ARGPARSE_PRIVATE = re.compile(r"\bargparse\._(?!_)|^\s*from argparse import [^#\n]*\b_(?!_)", re.M)


def test_no_argparse_private_attributes():
    """argparse's private attributes are touched nowhere (project rule): the CLI's parser
    remembers its options and subcommands as they are added (``invindex.cli._Parser``),
    config defaults read those. Modules that build or read parsers touch no private
    attribute of another object at all; no file names ``argparse._X``."""
    sources = [p for d in (*PACKAGES, "scripts", "tests") for p in sorted((REPO / d).rglob("*.py"))
               if p != Path(__file__).resolve()]
    parser_code = [p for p in sources if p.parts[len(REPO.parts)] != "tests"
                   and _PARSER_CODE.search(p.read_text("utf-8"))]
    assert {REPO / "invindex/config.py", REPO / "invindex/core/analysis.py",
            REPO / "invindex/cli/__init__.py"} <= set(parser_code) and len(parser_code) > 15
    assert [u for p in parser_code for u in _private_uses(p, "argparse")] == []
    assert [str(p.relative_to(REPO)) for p in sources
            if _ARGPARSE_PRIVATE.search(p.read_text("utf-8"))] == []


def test_the_argparse_check_sees_what_it_replaced():
    before = ("by_dest = {a.dest: a for a in parser._actions if a.option_strings}\n"
              "sub = parser._subparsers._group_actions[0].choices['build']\n"
              "flag = isinstance(action, argparse._StoreTrueAction)\n"
              "from argparse import _SubParsersAction\n")
    assert sorted(n for _, n in _private_names(before, "argparse")) == [
        "_StoreTrueAction", "_SubParsersAction", "_actions", "_group_actions", "_subparsers"]
    assert len(_ARGPARSE_PRIVATE.findall(before)) == 2


def test_cli_choices_and_help_come_from_the_registry(cli):
    from invindex.runners import RUNNERS

    for name, entry in RUNNERS.items():
        assert entry.name == name and entry.help
        code = entry.code()  # one module per runner, imported on use
        assert code.__name__ == f"invindex.runners.{name}" and callable(code.run)
    r = cli("build", "--help")
    for name in RUNNERS:
        assert f"\n  {name} " in r.out
    r = cli("build", "x", "-o", "y", "-r", "nope")
    assert r.code == 2 and "invalid choice" in r.err


def test_bad_runner_from_env_is_one_line(cli, monkeypatch, tmp_path):
    """The issue's case: ``INVINDEX_RUNNER=bogus`` exited 1 with a ValueError."""
    from invindex.runners import RUNNERS

    monkeypatch.setenv("INVINDEX_RUNNER", "bogus")
    r = cli("build", "x", "-o", str(tmp_path / "i"))
    assert r.code == 2
    [line] = r.err.strip().splitlines()
    assert line.startswith("invindex: error: INVINDEX_RUNNER: invalid choice 'bogus'")
    assert all(name in line for name in RUNNERS)


def test_unknown_runner_table_in_config(cli, monkeypatch, tmp_path):
    cfg = tmp_path / "invindex.toml"
    cfg.write_text('[build.emrr]\nregion = "x"\n')
    monkeypatch.setenv("INVINDEX_CONFIG", str(cfg))
    r = cli("build", "x", "-o", str(tmp_path / "i"))
    assert r.code == 2 and "unknown table [build.emrr]" in r.err
    cfg.write_text('[build]\nmemory = "lots"\n')
    r = cli("build", "x", "-o", str(tmp_path / "i"))
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and "memory" in r.err
