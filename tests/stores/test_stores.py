"""Publishing to SQLite, a real PostgreSQL and DynamoDB (moto's server), and searching there.

Every test runs on each backend (the ``store`` fixture): the store answers ``search``
(same documents, same scores: the JSON output's full-precision floats) and ``lookup``
(the index's own lines) exactly as the index directory does; a re-publish replaces and
leaves no older version behind; a publish killed between batches leaves the previous
version serving; errors are one line with a non-zero exit and change nothing.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Tuple

import pytest

from invindex.stores import open_reader, open_store

QUERIES = ["alpha", "beta gamma", "+delta -alpha", '"gamma delta"', "zeta OR eta",
           "(alpha beta) AND epsilon", "théta", "nothingmatches", "alpha -beta -gamma",
           "\"epsilon zeta eta\"", "kappa lambda mu nu", '"gamma the delta"', '"iota of"']
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "théta", "iota",
         "kappa", "lambda", "mu", "nu", "ξι", "omicron", "the", "of"]


def corpus(path: Path, docs: int, seed: int) -> Path:
    """Records with awkward doc ids (backslash, quote, non-ASCII) and repeated ids."""
    rng = random.Random(seed)
    lines = []
    for i in range(docs):
        doc = rng.choice([f"d{i}", f"doc\\{i}", f'q"{i}', f"é{i}", f"d{i % 7}"])
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 30)))
        lines.append(f"{doc}\t{text}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def indexes(tmp_path_factory) -> dict:
    """Real indexes (the default runner), built once: ``a``, a different ``b``, and a
    larger ``c`` for the tests that stop a publish part-way (``b`` only has to differ:
    on moto's DynamoDB every item read or written costs milliseconds)."""
    from invindex.cli import main

    root = tmp_path_factory.mktemp("indexes")
    out = {}
    # a: stopwords (positions with gaps) and stored texts; b: no positions at all.
    for name, docs, seed, opts in (("a", 120, 1, ["--store-text", "--stopwords", "english"]),
                                   ("b", 80, 2, ["--no-positions"]),
                                   # c: long enough to publish that a test can stop it
                                   # mid-way however fast conversion gets (1,500 docs)
                                   ("c", 1500, 3, [])):
        path = root / name
        assert main(["-q", "build", str(corpus(root / f"{name}.tsv", docs, seed)), "-o",
                     str(path), "--parts", "2", *opts]) == 0
        out[name] = str(path)
    return out


def search_json(cli, where: str, query: str) -> dict:
    r = cli("search", where, query, "--format", "json", "-k", "1000")
    assert r.code == 0, r.err
    return json.loads(r.out)


def assert_serves(cli, store: str, index: str) -> None:
    positions = open_reader(index).analyzer.positions
    chosen = [q for q in QUERIES if positions or '"' not in q]  # phrases need positions
    queries = Path(index).with_suffix(".queries")
    queries.write_text("".join(f"q{i}\t{q}\n" for i, q in enumerate(chosen)))
    want = cli("search", index, "--queries", str(queries), "--format", "json", "-k", "1000")
    got = cli("search", store, "--queries", str(queries), "--format", "json", "-k", "1000")
    assert got.code == want.code == 0, got.err
    assert got.out == want.out and want.out.count("\n") == len(chosen)
    want = sorted(open_reader(index).iter_lines())
    assert sorted(open_reader(store).iter_lines()) == want
    stats = cli("stats", store, "--format", "json")
    assert stats.code == 0 and stats.out == cli("stats", index, "--format", "json").out
    terms = [ln.partition("\t")[0] for ln in want if ln[0] not in "!#"]
    r_store = cli("lookup", store, *terms)
    r_index = cli("lookup", index, *terms)
    assert r_store.code == r_index.code == 0 and r_store.out == r_index.out


def test_publish_then_search_and_lookup_equal_the_index(cli, store, indexes):
    r = cli("publish", indexes["a"], store)
    assert r.code == 0, r.err
    assert "published" in r.err and "PGPASSWORD" not in r.err
    assert_serves(cli, store, indexes["a"])
    hits = search_json(cli, store, "alpha")["hits"]
    assert hits and any("\\" in h["doc_id"] or '"' in h["doc_id"] for h in
                        search_json(cli, store, "alpha OR beta OR gamma")["hits"])
    src = open_reader(store)
    assert src.manifest == open_reader(indexes["a"]).manifest


def test_republish_replaces_and_leaves_no_old_version(cli, store, indexes):
    assert cli("publish", indexes["a"], store).code == 0
    r = cli("publish", indexes["b"], store)
    assert r.code == 1 and "--replace" in r.err and r.err.count("\n") == 1
    assert_serves(cli, store, indexes["a"])  # refused: nothing changed
    assert cli("publish", indexes["b"], store, "--replace").code == 0
    assert_serves(cli, store, indexes["b"])
    assert versions(store) == 1


def test_several_indexes_in_one_store(cli, store, indexes):
    assert cli("publish", indexes["a"], store, "--name", "first").code == 0
    assert cli("publish", indexes["b"], store, "--name", "second").code == 0
    sep = "&" if "?" in store else "?"
    assert_serves(cli, f"{store}{sep}name=first", indexes["a"])
    assert_serves(cli, f"{store}{sep}name=second", indexes["b"])
    r = cli("search", store, "alpha")  # no index named 'default'
    assert r.code == 1 and "no index named 'default'" in r.err


def test_interrupted_publish_leaves_the_old_version_serving(cli, store, indexes):
    assert cli("publish", indexes["a"], store).code == 0
    proc, seen = publish_to_batch_3(indexes["c"], store)
    proc.send_signal(signal.SIGKILL)  # between batches, long before the last
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "".join(seen)
    assert_serves(cli, store, indexes["a"])
    assert versions(store) == 2  # the killed publish's version is there, unreferenced
    assert cli("publish", indexes["b"], store, "--replace").code == 0
    assert_serves(cli, store, indexes["b"])
    assert versions(store) == 1  # ... and the next publish removed it


def publish_to_batch_3(index: str, store: str) -> Tuple[subprocess.Popen, List[str]]:
    """A `publish --replace` in a child process (two lines a batch), returned once it
    says it loaded its third batch, with the stderr lines seen so far."""
    env = {**os.environ, "INVINDEX_PUBLISH_BATCH_LINES": "2", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "invindex", "-v", "publish", index, store,
                             "--replace"], env=env, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    seen: List[str] = []
    for line in proc.stderr:  # type: ignore[union-attr]
        seen.append(line)
        if "loaded batch 3 " in line:
            break
    return proc, seen


def versions(store: str) -> int:
    """How many versions (served or not) the store holds for the default name."""
    s = open_store(store)
    if store.startswith("dynamodb://"):
        return len({it["term"]["S"].split("/")[1] for it in s.scan_keys("default/")})
    conn = s.connect(write=False)
    try:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM invindex_versions WHERE name = 'default'")
        n = cur.fetchone()[0]
        cur.execute("SELECT id FROM invindex_versions")
        tables = {f"invindex_lines_{r[0]}" for r in cur.fetchall()}
        cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                    if store.startswith("sqlite") else
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        assert {r[0] for r in cur.fetchall() if r[0].startswith("invindex_lines_")} == tables
        return n
    finally:
        conn.close()


def test_a_database_error_during_a_batch_fails_in_one_line(cli, pg_store, postgres_server,
                                                            indexes):
    """Batches are written from a thread of their own (while this one feeds the
    conversion): an error there, here the server ending the publishing connection
    between batches, fails the publish in one line, the previous version serving and the
    unfinished one dropped (over a new connection)."""
    assert cli("publish", indexes["a"], pg_store).code == 0
    proc, seen = publish_to_batch_3(indexes["c"], pg_store)
    with postgres_server.admin() as conn:
        ended = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
            "application_name = 'invindex' AND datname = %s",
            (pg_store.rpartition("/")[2].partition("?")[0],)).fetchall()
    err = "".join(seen) + proc.stderr.read()
    assert proc.wait(timeout=120) == 1, err
    assert ended == [(True,)], err
    errors = [ln for ln in err.splitlines() if ln.startswith("invindex: error:")]
    # libpq words it as the server's notice or as a closed connection, by timing
    assert len(errors) == 1 and errors[0].startswith(f"invindex: error: {pg_store}: "), err
    assert_serves(cli, pg_store, indexes["a"])
    assert versions(pg_store) == 1, err


def test_missing_store_or_name_is_one_line(cli, store, indexes):
    for args in (("search", store, "alpha"), ("lookup", store, "alpha")):
        r = cli(*args)
        assert r.code == 1 and r.err.count("\n") == 1 and "Traceback" not in r.err, r.err
    if store.startswith("sqlite://"):
        assert not Path(store[len("sqlite://"):]).exists()  # a reader creates nothing


def test_store_from_a_newer_invindex_is_refused(cli, store, indexes):
    assert cli("publish", indexes["a"], store).code == 0
    s = open_store(store)
    if store.startswith("dynamodb://"):
        s.client.put_item(TableName=s.table, Item={"term": {"S": "@store"}, "chunk": {"N": "0"},
                                                   "f": {"N": "99"}})
    else:
        conn = s.connect(write=True)
        conn.cursor().execute("UPDATE invindex_store SET value = '99' WHERE key = 'format'")
        conn.commit()
        conn.close()
    for args in (("search", store, "alpha"), ("publish", indexes["b"], store, "--replace")):
        r = cli(*args)
        assert r.code == 1 and "newer invindex" in r.err and r.err.count("\n") == 1, r.err


def test_publish_refuses_a_format_1_index(cli, tmp_path, sqlite_store, indexes):
    import shutil

    from invindex.core import indexfmt

    old = tmp_path / "old"
    shutil.copytree(indexes["a"], old)
    m = json.loads((old / indexfmt.MANIFEST).read_text())
    m["format_version"] = 1
    (old / indexfmt.MANIFEST).write_text(json.dumps(m))
    r = cli("publish", str(old), sqlite_store)
    assert r.code == 1 and "rebuild" in r.err
    assert not Path(sqlite_store[len("sqlite://"):]).exists()


def test_postgres_password_never_in_the_uri(cli, postgres_server, indexes):
    uri = postgres_server.uri().replace("invindex@", "invindex:secret@")
    r = cli("publish", indexes["a"], uri)
    assert r.code == 2 and "PGPASSWORD" in r.err and "secret" not in r.err


def test_postgres_bad_password_and_unreachable_server(cli, pg_store, indexes, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "wrong")
    r = cli("publish", indexes["a"], pg_store)
    assert r.code == 1 and r.err.count("\n") == 1 and "wrong" not in r.err, r.err
    assert "password authentication failed" in r.err
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = f"postgresql://invindex@127.0.0.1:{port}/x?sslmode=disable"
    r = cli("search", closed, "alpha")
    assert r.code == 1 and r.err.count("\n") == 1 and "Traceback" not in r.err, r.err


def test_postgres_missing_database(cli, postgres_server, indexes, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", postgres_server.password)
    r = cli("publish", indexes["a"], postgres_server.uri("nosuchdb"))
    assert r.code == 1 and 'database "nosuchdb" does not exist' in r.err, r.err


def test_dynamodb_table_is_created_on_demand_encrypted_with_pitr(cli, dynamo_store, indexes):
    assert cli("publish", indexes["a"], dynamo_store).code == 0
    s = open_store(dynamo_store)
    table = s.client.describe_table(TableName=s.table)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["Status"] == "ENABLED"
    backups = s.client.describe_continuous_backups(TableName=s.table)
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {
        "term": "HASH", "chunk": "RANGE"}


def test_dynamodb_long_posting_list_is_split_into_items(cli, dynamo_store, indexes,
                                                         monkeypatch):
    """Lines longer than an item are cut into chunks (sort keys 0..n-1) and joined back:
    with the chunk size cut to 20 bytes, every line of a small index is split."""
    import invindex.stores.dynamodb as ddb

    monkeypatch.setattr(ddb, "CHUNK", 20)
    assert cli("publish", indexes["a"], dynamo_store).code == 0
    s = open_store(dynamo_store)
    items = list(s.scan_keys("default/"))
    alpha = [it for it in items if it["term"]["S"].endswith("/alpha")]
    assert len(alpha) > 3 and sorted(int(it["chunk"]["N"]) for it in alpha) == list(
        range(len(alpha)))
    doc_table = [it for it in items if it["term"]["S"].endswith("/!")]
    assert len(doc_table) > len({int(it["chunk"]["N"]) // ddb.SPAN for it in doc_table})
    assert_serves(cli, dynamo_store, indexes["a"])
    assert ddb.CHUNK < 400_000 - 2048 - 100  # the real size leaves room for key and names


def test_dynamodb_missing_table_is_one_line(cli, dynamo_store):
    r = cli("search", dynamo_store, "alpha")
    assert r.code == 1 and "no DynamoDB table" in r.err and r.err.count("\n") == 1


def test_store_commands_without_numpy_say_what_to_install(cli, sqlite_store, indexes):
    """numpy is the search extra's: reading a store without it is one line naming the
    extra (not a ModuleNotFoundError). A child interpreter in which ``import numpy``
    fails as it does when numpy is not installed."""
    assert cli("publish", indexes["a"], sqlite_store).code == 0
    no_numpy = ("import sys; sys.modules['numpy'] = None; from invindex.cli import main; "
                "sys.exit(main(sys.argv[1:]))")
    for args in (("lookup", sqlite_store, "alpha"), ("stats", sqlite_store),
                 ("search", sqlite_store, "alpha"), ("publish", indexes["b"], sqlite_store,
                                                     "--replace")):
        r = subprocess.run([sys.executable, "-c", no_numpy, *args], capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.count("\n") == 1 and "pip install 'invindex[search]'" in r.stderr, (
            args, r.stderr)
        assert "Traceback" not in r.stderr and "ModuleNotFoundError" not in r.stderr
    assert_serves(cli, sqlite_store, indexes["a"])  # nothing changed


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_store(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue({"sqlite": "sqlite_store",
                                    "postgresql": "pg_store"}[request.param])


def start_parallel_publish(index: str, store: str, until: str) -> tuple:
    """A ``--replace`` publish with two conversion workers and many small chunks and
    batches, in a session of its own, its stderr read up to the line with ``until``;
    returns the process, the worker pids and the stderr seen so far."""
    env = {**os.environ, "INVINDEX_PUBLISH_JOBS": "2", "INVINDEX_PUBLISH_CHUNK_BYTES": "500",
           "INVINDEX_PUBLISH_BATCH_LINES": "2", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "invindex", "-v", "publish", index, store,
                             "--replace"], env=env, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True, start_new_session=True)
    seen: List[str] = []
    workers: List[int] = []
    for line in proc.stderr:
        seen.append(line)
        if "worker processes (pids " in line:
            workers = [int(p) for p in line.rpartition("(pids ")[2].rstrip(")\n").split()]
        if until in line:
            break
    assert len(workers) == 2, "".join(seen)
    return proc, workers, seen


def gone(pid: int) -> bool:
    """Exited (or a zombie), waiting a little for a process that was just stopped."""
    for _ in range(100):
        try:
            if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.1)
    return False


def test_a_conversion_worker_that_dies_fails_the_publish_in_one_line(cli, sql_store, indexes):
    """The fork pool waited forever for a killed worker's chunk (and for the queue lock it
    held); now the publish fails in one line and the previous version keeps serving.
    Killed as soon as it is started (the publish converts here meanwhile, and looks at
    the workers after each chunk: many chunks and batches remain then)."""
    assert cli("publish", indexes["a"], sql_store).code == 0
    proc, workers, seen = start_parallel_publish(indexes["c"], sql_store, "worker processes")
    os.kill(workers[0], signal.SIGKILL)
    err = "".join(seen) + proc.stderr.read()
    assert proc.wait(timeout=120) == 1, err
    errors = [ln for ln in err.splitlines() if ln.startswith("invindex: error:")]
    assert len(errors) == 1 and f"worker (pid {workers[0]}) was killed by SIGKILL" in errors[0]
    assert all(gone(p) for p in workers), err
    assert_serves(cli, sql_store, indexes["a"])
    assert versions(sql_store) == 1, err  # the unfinished version was dropped


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_group_stops_a_parallel_publish_cleanly(cli, sql_store, indexes, sig):
    """SIGTERM or Ctrl-C to the whole process group (a service manager, `timeout`, a
    terminal): the fork pool's workers died holding its queue lock and its own cleanup
    then waited forever; now: exit 128+N, one line, no worker left, old version serving."""
    assert cli("publish", indexes["a"], sql_store).code == 0
    proc, workers, seen = start_parallel_publish(indexes["c"], sql_store, "loaded batch 3 ")
    os.killpg(proc.pid, sig)
    err = "".join(seen) + proc.stderr.read()
    assert proc.wait(timeout=120) == 128 + sig, err
    assert err.rstrip().endswith("invindex: interrupted") and "Traceback" not in err, err
    assert all(gone(p) for p in workers), err
    assert_serves(cli, sql_store, indexes["a"])
    assert versions(sql_store) == 1, err
