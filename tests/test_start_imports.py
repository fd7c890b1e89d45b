"""What a process imports before it does anything: the start cost (issue 18).

Every ``invindex`` command builds the whole parser, and every Hadoop task starts a
streaming script, so what they import at start is paid on every run. These tests hold
the modules a command leaves out out (no timings: ``scripts/start_cost.py`` measures).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import List, Set, Tuple

import pytest

from .conftest import SAMPLE

REPO = Path(__file__).resolve().parents[1]

# What no command needs to parse its arguments; each is imported when used.
HEAVY = {"tqdm", "boto3", "botocore", "numpy", "pyarrow", "mrjob", "pyspark", "django",
         "google", "azure", "multiprocessing", "tomllib", "concurrent.futures",
         "invindex.build", "invindex.storage.transfer", "invindex.index.commit",
         "invindex.search.searcher", "invindex.stores.base", "invindex.cli.stage_actions"}
RUNNER_MODULES = {f"invindex.runners.{n}" for n in (
    "fast", "pipe", "inline", "local", "spark", "emr", "hadoop", "dataproc", "mrjob_runner")}

_DRIVER = """
import io, json, sys
from contextlib import redirect_stdout
from invindex.cli import main
out = io.StringIO()
with redirect_stdout(out):
    try:
        code = main(sys.argv[1:])
    except SystemExit as e:
        code = e.code
print(json.dumps([code, out.getvalue(), sorted(sys.modules)]))
"""


def _run_cli(*args: str, cwd: Path) -> Tuple[int, str, Set[str]]:
    """``invindex ARGS`` in a fresh interpreter: exit status, stdout, the modules it
    imported (packages and their submodules)."""
    r = subprocess.run([sys.executable, "-c", _DRIVER, *args], cwd=cwd, capture_output=True,
                       text=True, check=True)
    code, out, modules = json.loads(r.stdout.splitlines()[-1])
    return code, out, set(modules)


def _loaded(modules: Set[str], names: Set[str]) -> List[str]:
    return sorted(n for n in names if n in modules)


def test_help_lists_every_command_and_imports_no_engine(tmp_path):
    from invindex.cli import COMMANDS

    code, out, modules = _run_cli("--help", cwd=tmp_path)
    assert code == 0
    listed = re.findall(r"^    (\S+)", out, re.M)
    assert [name.replace("_", "-") for name in COMMANDS] == listed
    assert _loaded(modules, HEAVY | RUNNER_MODULES) == []


def test_build_help_lists_every_runner_and_imports_none(tmp_path):
    from invindex.runners import RUNNERS

    code, out, modules = _run_cli("build", "--help", cwd=tmp_path)
    assert code == 0
    assert all(f"\n  {name} " in out for name in RUNNERS)
    assert _loaded(modules, HEAVY | RUNNER_MODULES) == []


def test_a_fast_build_imports_only_its_runner(tmp_path):
    code, _, modules = _run_cli("-q", "build", str(SAMPLE), "-o", str(tmp_path / "i"),
                                cwd=tmp_path)
    assert code == 0 and "invindex.runners.fast" in modules
    assert _loaded(modules, RUNNER_MODULES - {"invindex.runners.fast"}) == []
    assert _loaded(modules, {"tqdm", "mrjob", "boto3", "pyspark", "tomllib", "invindex.remote",
                             "invindex.storage.transfer"}) == []


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("start") / "index"
    subprocess.run([sys.executable, "-m", "invindex", "-q", "build", str(SAMPLE), "-o", str(out)],
                   check=True, cwd=out.parent)
    return out


def test_lookup_imports_no_build_and_no_runner(index, tmp_path):
    code, out, modules = _run_cli("lookup", str(index), "the", cwd=tmp_path)
    assert code == 0 and out.startswith("the\t")
    assert _loaded(modules, (HEAVY | RUNNER_MODULES) - {"invindex.index.commit"}) == []


def test_search_imports_no_build_and_no_runner(index, tmp_path):
    code, out, modules = _run_cli("search", str(index), "the", "--format", "tsv",
                                  cwd=tmp_path)
    assert code == 0 and out.startswith("1\t")
    assert _loaded(modules, RUNNER_MODULES | {"invindex.build", "tqdm", "mrjob", "boto3",
                                              "invindex.storage.transfer"}) == []


# The streaming scripts: a Python per Hadoop task, on Python 3.9 (EMR's python3) with
# only the standard library. Each imports its own role's modules, and none of the
# modules the core uses only for annotations or seldom-taken paths.
NOT_AT_TASK_START = {"typing", "dataclasses", "inspect", "gzip", "bz2", "base64",
                     "threading", "tomllib", "invindex.core.stemmer", "snowballstemmer"}
ROLE_ONLY = {
    "mapper": {"invindex.core.analysis", "invindex.core.mapping", "invindex.core.records",
               "invindex.core.compression", "argparse"},
    "reducer": {"invindex.core.postings", "invindex.core.reduce_blocks",
                "invindex.core.reduce_lines", "json"},
}
_ROLE_DRIVER = """
import json, sys
before = set(sys.modules)
sys.path.insert(0, sys.argv[2])
__import__("invindex.core.stream_" + sys.argv[1])
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _role_imports(python: str, role: str) -> Set[str]:
    """What importing a streaming role adds to a fresh, isolated (``-I``: no
    site-packages) interpreter's modules."""
    r = subprocess.run([python, "-I", "-c", _ROLE_DRIVER, role, str(REPO)],
                       capture_output=True, text=True, check=True)
    return set(json.loads(r.stdout))


def _check_roles(python: str) -> None:
    for role, other in (("mapper", "reducer"), ("reducer", "mapper")):
        added = _role_imports(python, role)
        assert f"invindex.core.stream_{role}" in added
        assert ROLE_ONLY[role] - {"argparse", "json"} <= added
        assert _loaded(added, NOT_AT_TASK_START | ROLE_ONLY[other]) == []
        assert {m.split(".")[0] for m in added} - set(sys.stdlib_module_names) == {"invindex"}


def test_each_streaming_role_imports_only_its_own_modules():
    _check_roles(sys.executable)


def test_each_streaming_role_imports_only_its_own_modules_on_python39(python39):
    _check_roles(python39)
