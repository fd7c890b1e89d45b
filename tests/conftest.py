"""Shared fixtures: paths, a CLI runner that captures output, index helpers, and the
emulators (moto's server, gcp-storage-emulator, Azurite), each started once per session
for every test folder, with the marks that make a unit-only selection possible."""

from __future__ import annotations

import atexit
import gzip
import importlib.util
import io
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "docs.tsv"
SCRIPTS = REPO / "scripts"


def _few_moto_amis() -> None:
    """Point moto at a short AMI list (``MOTO_AMIS_PATH``, its documented switch, read when
    its EC2 models are first imported, so this runs before any test module imports moto).
    By default each region gets ~1,300 AMIs, each with its EBS snapshot, and serializing
    them made every DescribeSnapshots take 2-4 s (the leak tests list snapshots three
    times a test). The list kept: moto's base AMIs (EMR's instances use one) and the
    ``latest`` AMIs of us-east-1 that the SSM parameters the provisioning code resolves
    name. A user's own ``MOTO_AMIS_PATH`` wins."""
    spec = importlib.util.find_spec("moto")
    if "MOTO_AMIS_PATH" in os.environ or spec is None or not spec.submodule_search_locations:
        return
    resources = Path(spec.submodule_search_locations[0]) / "ec2" / "resources"
    try:
        amis = [a for name in ("amis.json.gz", "latest_amis/us-east-1.json.gz")
                for a in json.loads(gzip.decompress((resources / name).read_bytes()))]
    except (OSError, ValueError):  # another moto layout: keep its defaults
        return
    fd, path = tempfile.mkstemp(prefix="invindex-moto-amis-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(amis, f)
    atexit.register(os.unlink, path)
    os.environ["MOTO_AMIS_PATH"] = path


_few_moto_amis()


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli():
    """Run ``invindex ...`` in-process; returns exit code, stdout and stderr."""
    from invindex import progress
    from invindex.cli import main

    def run(*args: str) -> CliResult:
        # A text stream with a .buffer, since `prepare` writes bytes to stdout.
        stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        err = io.StringIO()
        with redirect_stdout(stdout), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as e:  # argparse exits
                code = int(e.code or 0)
        stdout.flush()
        progress.set_enabled(None)
        return CliResult(code, stdout.buffer.getvalue().decode("utf-8"), err.getvalue())

    return run


def read_index_lines(index_dir: Path) -> List[str]:
    """All index lines of all parts, byte-sorted (the set every runner must agree on)."""
    lines: List[str] = []
    for part in sorted(index_dir.glob("part-*")):
        # split on \n only: str.splitlines() would also break at U+0085, U+2028, ...
        lines.extend(part.read_bytes().decode("utf-8").split("\n")[:-1])
    return sorted(lines, key=lambda s: s.encode("utf-8"))


@pytest.fixture(scope="session")
def python39() -> str:
    """A Python 3.9 interpreter (the python3 of EMR nodes), if this machine has one."""
    import shutil

    for cand in ("python3.9", str(Path.home() / ".pyenv/versions/3.9.18/bin/python3.9")):
        path = shutil.which(cand) or (cand if Path(cand).exists() else None)
        if path:
            import subprocess

            ok = subprocess.run([path, "-c", "import sys; assert sys.version_info[:2]==(3,9)"],
                                capture_output=True)
            if ok.returncode == 0:
                return path
    pytest.skip("no Python 3.9 on this machine")


def needs(*modules: str) -> pytest.MarkDecorator:
    """Skip unless these modules are installed, without importing them while collecting:
    some SDKs take seconds of CPU to import, and every xdist worker collects every file."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")


def pytest_configure(config):
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))


# -- emulators: each started once per session, shared by every test folder ------------
# Tests that use them get the ``emulator`` mark, tests that need Spark the ``spark``
# mark (``pytest_collection_modifyitems`` below), so ``pytest -m "not emulator and not
# spark"`` is the fast unit-only selection.
EMULATOR_FIXTURES = {"moto_server", "gcs_server", "azurite_server",
                     # tests/stores: a real PostgreSQL, moto as a process, or either
                     "postgres_server", "dynamodb_server", "store",
                     "cloud"}  # tests/storage: each backend in turn (requested by name)
SPARK_FIXTURES = {"spark_home"}
AZURITE = REPO / "tests" / "emulators" / "node_modules" / ".bin" / "azurite-blob"
# EMR 7.1.0 runs Hadoop 3.3.6; moto answers "0.18" (and drops the name), which would make
# mrjob translate jobconf names to Hadoop 1's.
_HADOOP_OF_RELEASE = {"emr-7.1.0": "3.3.6"}


def unavailable(reason: str) -> None:
    """An emulator that cannot start fails the run under CI and skips its tests
    otherwise, with the reason."""
    if os.environ.get("CI"):
        pytest.fail(f"emulator unavailable under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the emulator gets SIGTERM if pytest dies without tearing down."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def stop(proc: subprocess.Popen, grace: float = 1) -> None:
    """Terminate; kill after ``grace`` s (Azurite waits for idle keep-alive clients)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _start_server(argv: List[str], port: int, log: Path, timeout: float) -> subprocess.Popen:
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    if not wait_port(port, proc, timeout=timeout):
        stop(proc)
        unavailable(f"{Path(argv[0]).name} {' '.join(argv[1:3])} did not start (see {log})")
    return proc


def _moto_emr_fix(mp: pytest.MonkeyPatch) -> None:
    """moto 5.2 reads "name"/"version" from a request that says "Name"/"Version", and
    mrjob then fails on the missing Name (KeyError: 'Name')."""
    import moto.emr.models as emr_models

    original = emr_models.Cluster.add_applications

    def add_applications(self, applications):
        fixed = []
        for a in applications:
            name, version = a.get("Name") or a.get("name"), a.get("Version") or a.get("version")
            if name == "Hadoop" and version in (None, "", "0.18"):
                version = _HADOOP_OF_RELEASE.get(self.release_label or "", version)
            fixed.append({"name": name, "version": version, "args": a.get("Args", []),
                          "additional_info": a.get("AdditionalInfo", {})})
        original(self, fixed)

    mp.setattr(emr_models.Cluster, "add_applications", add_applications)


def _botocore_files_parsed_once(mp: pytest.MonkeyPatch) -> None:
    """Every boto3 session parses botocore's JSON models anew (endpoints, the service,
    its rules): 0.2 s of CPU a client, and the code under test opens a session per store
    or bucket it opens, dozens a test here. The files never change: parse each once per
    test process (0.06 s a client). Within one session botocore already hands the same
    parsed dict to every client."""
    import botocore.loaders

    parsed: dict = {}
    load_file = botocore.loaders.JSONFileLoader.load_file

    def load_file_once(self, file_path):
        if file_path not in parsed:
            parsed[file_path] = load_file(self, file_path)
        return parsed[file_path]

    mp.setattr(botocore.loaders.JSONFileLoader, "load_file", load_file_once)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's server (S3, EMR, EC2, IAM, ...) on a loopback port, in this process (so
    tests can reach its EMR backend to finish or fail a step); one for the session."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        unavailable(f"moto[server] not installed ({e})")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    mp = pytest.MonkeyPatch()
    _moto_emr_fix(mp)
    _botocore_files_parsed_once(mp)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    try:
        server.start()
    except Exception as e:  # pragma: no cover - depends on the machine
        mp.undo()
        unavailable(f"moto server did not start: {e}")
    try:
        if not wait_port(port, timeout=20):
            unavailable("moto server did not listen")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        mp.undo()


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory) -> Iterator[str]:
    """gcp-storage-emulator, in memory; one for the session."""
    try:
        import gcp_storage_emulator  # noqa: F401
    except ImportError as e:
        unavailable(f"gcp-storage-emulator not installed ({e})")
    port = free_port()
    log = tmp_path_factory.mktemp("gcs") / "emulator.log"
    proc = _start_server([sys.executable, "-m", "gcp_storage_emulator", "start", "--host",
                          "127.0.0.1", "--port", str(port), "--in-memory", "--quiet"],
                         port, log, 30)
    yield f"http://127.0.0.1:{port}"
    stop(proc)


@pytest.fixture(scope="session")
def azurite_server(tmp_path_factory) -> Iterator[int]:
    """Azurite's blob service (run directly, so the PID we stop is the server's);
    yields its port."""
    if not AZURITE.exists():
        unavailable(f"Azurite not installed: run `npm install` in {AZURITE.parents[2]} "
                    "(scripts/test.sh does)")
    if shutil.which("node") is None:
        unavailable("Azurite needs Node.js (node not on PATH)")
    port = free_port()
    location = tmp_path_factory.mktemp("azurite")
    proc = _start_server([str(AZURITE), "--skipApiVersionCheck", "--blobHost", "127.0.0.1",
                          "--blobPort", str(port), "--location", str(location / "data"),
                          "--silent"], port, location / "azurite.log", 60)
    yield port
    stop(proc)


# -- pytest-xdist ------------------------------------------------------------------------
# scripts/test.sh runs the suite on 3 workers (``-n 3 --dist loadfile
# --no-loadscope-reorder``). Each worker is a session of its own: the session fixtures above
# start once in each worker that needs them, on free ports, under the worker's own
# basetemp. A file is one unit of work: its module fixtures are built once, and what a
# file's tests share (test-artifacts/web; the network-namespace Spark hosts, four JVMs per
# test and Spark's heartbeat timeouts: one such cluster at a time) stays in one process.
# Files with the longest tests (JVMs, DynamoDB on moto, PostgreSQL, then any test marked
# slow) go first, the rest in file order, so the run does not end waiting for one of them.
# ``-n 0`` runs everything in this process, in file order.
FIRST = ("netns_hosts", "spark_home", "store", "dynamo_store", "postgres_server")


def _rank(item: pytest.Item) -> int:
    """0.. for a test using FIRST's fixtures, then slow-marked tests, then the rest."""
    names = set(getattr(item, "fixturenames", ()))
    rank = next((i for i, n in enumerate(FIRST) if n in names), len(FIRST) + 1)
    return len(FIRST) if rank > len(FIRST) and item.get_closest_marker("slow") else rank


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & EMULATOR_FIXTURES:
            item.add_marker(pytest.mark.emulator)
        if names & SPARK_FIXTURES:
            item.add_marker(pytest.mark.spark)
    if hasattr(config, "workerinput"):  # an xdist worker: the order work is handed out
        rank: dict = {}
        for item in items:
            path = item.nodeid.split("::", 1)[0]
            rank[path] = min(rank.get(path, len(FIRST) + 1), _rank(item))
        items.sort(key=lambda item: rank[item.nodeid.split("::", 1)[0]])  # stable
