"""``--runner dataproc``. No Dataproc emulator exists: the SubmitJobRequest is checked
against google-cloud-dataproc's own types, and a fake JobControllerClient stands in for
the service. The fake runs the submitted Hadoop-streaming arguments with
``_hadoop_emulator`` against gcp-storage-emulator (where the runner uploaded the shipped
files), writes the parts and a driver output with Hadoop's counter block, and answers
DONE; so the upload, argument building, polling, counter parsing and the manifest /
_SUCCESS finishing run for real. Whether Google accepts the request is not tested."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace

import pytest
from _hadoop_emulator import run as run_streaming

from invindex.runners import dataproc
from tests.conftest import needs
from tests.reference import reference_lines

pytestmark = needs("google.cloud.dataproc_v1")

FLAGS = ["-r", "dataproc", "--cluster-id", "etl", "--region", "us-central1",
         "--project", "proj", "-O", "check_cluster_every=0.01"]
KFP = "org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner"


def test_submit_request_is_a_valid_dataproc_request():
    from google.cloud import dataproc_v1

    from invindex.core.analysis import Analyzer
    from invindex.runners.hadoop_command import shipped_files, streaming_args

    s = dataproc.settings({"cluster_id": "etl", "region": "us-central1",
                           "project_id": "proj"}, "gs://b/idx")
    assert s["cloud_tmp_dir"] == "gs://b/tmp/invindex/"
    files = shipped_files("gs://b/tmp/invindex/run", Analyzer())
    args = streaming_args(["gs://b/corpus/"], "gs://b/idx", files, Analyzer(), reducers=4)
    req = dataproc.submit_request(s, args, "invindex-x")
    proto = dataproc_v1.SubmitJobRequest(**req)  # unknown fields would raise here
    job = proto.job
    assert job.placement.cluster_name == "etl" and proto.region == "us-central1"
    assert job.hadoop_job.main_jar_file_uri == "file:///usr/lib/hadoop/hadoop-streaming.jar"
    a = list(job.hadoop_job.args)
    assert a[a.index("-partitioner") + 1] == KFP
    d = [a[i + 1] for i, x in enumerate(a) if x == "-D"]
    assert {"stream.num.map.output.key.fields=2",
            "mapreduce.partition.keypartitioner.options=-k1,1",
            "mapreduce.fileoutputcommitter.marksuccessfuljobs=false",
            "mapreduce.job.reduces=4"} <= set(d)
    assert a[a.index("-files") + 1] == ",".join(files)
    assert a[a.index("-mapper") + 1] == "python3 mapper.py"
    assert job.labels["managed-by"] == "invindex"


@pytest.mark.parametrize("flags, message", [
    (["-r", "dataproc", "--region", "r"], "submits to an existing cluster: --cluster-id"),
    (["-r", "dataproc", "--cluster-id", "c"], "needs --region"),
    (["-r", "dataproc", "--cluster-id", "c", "--region", "r", "-O", "num_workers=3"],
     "unknown option(s) for the dataproc runner: num_workers"),
])
def test_settings_errors_are_one_line(cli, tmp_path, flags, message):
    r = cli("build", "gs://b/in.tsv", "-o", "gs://b/idx", *flags)
    assert r.code == 2 and message in r.err and len(r.err.strip().splitlines()) == 1


class FakeJobs:
    """The JobControllerClient calls the runner makes, answered locally."""

    def __init__(self, python, interrupt=False):
        self.python, self.interrupt = python, interrupt
        self.requests, self.cancelled = [], []

    def submit_job(self, request):
        self.requests.append(request)
        return SimpleNamespace(status=SimpleNamespace(state="PENDING", details=""))

    def get_job(self, project_id, region, job_id):
        if self.interrupt:
            raise KeyboardInterrupt
        from invindex.storage import get_store, parse_uri

        args = self.requests[-1]["job"]["hadoop_job"]["args"]

        def fetch(uri):
            loc = parse_uri(uri)
            return get_store(loc).read_bytes(loc.key)

        def list_inputs(uri):
            loc = parse_uri(uri)
            return [f"gs://{loc.bucket}/{i.key}" for i in get_store(loc).list(loc.key)
                    if not any(p.startswith(("_", ".")) for p in
                               i.key[len(loc.key):].split("/"))]

        parts, counters = run_streaming(args, fetch, list_inputs, self.python)
        out = parse_uri(args[args.index("-output") + 1])
        store = get_store(out)
        for i, data in enumerate(parts):
            store.put_bytes(f"{out.key.rstrip('/')}/part-{i:05d}", data)
        block = "".join(f"\t\t{k}={v}\n" for k, v in sorted(counters.items()))
        driver = f"gs://{out.bucket}/dataproc/{job_id}/driveroutput"
        store.put_bytes(f"dataproc/{job_id}/driveroutput.000000000",
                        f"INFO mapreduce.Job: Counters: 54\n\tFile System Counters\n"
                        f"\t\tFILE: Number of bytes read=1\n\tinvindex\n{block}".encode())
        return SimpleNamespace(status=SimpleNamespace(state="DONE", details=""),
                               driver_output_resource_uri=driver)

    def cancel_job(self, project_id, region, job_id):
        self.cancelled.append(job_id)


def _bucket_with_corpus(corpus):
    from invindex.storage import get_store

    bucket = f"t{uuid.uuid4().hex[:12]}"
    store = get_store(f"gs://{bucket}")
    store.make_bucket()
    for f in corpus.rglob("*"):
        if f.is_file():
            store.put_file(str(f), f"corpus/{f.relative_to(corpus).as_posix()}")
    return bucket, store


@pytest.mark.emulator
def test_dataproc_end_to_end_with_a_fake_service(gcs, cli, corpus, corpus_bytes, fast_counts,
                                                 monkeypatch, node_python):
    bucket, store = _bucket_with_corpus(corpus)
    fake = FakeJobs(node_python)
    monkeypatch.setattr(dataproc, "job_client", lambda region: fake)
    r = cli("build", f"gs://{bucket}/corpus/", "-o", f"gs://{bucket}/idx", "--parts", "2",
            *FLAGS)
    assert r.code == 0, r.err
    [req] = fake.requests
    assert req["project_id"] == "proj" and req["job"]["placement"]["cluster_name"] == "etl"
    keys = sorted(i.key for i in store.list("idx/"))
    assert keys == ["idx/_SUCCESS", "idx/_manifest.json", "idx/part-00000", "idx/part-00001"]
    m = json.loads(store.read_bytes("idx/_manifest.json"))
    assert m["counts"] == fast_counts and m["runner"] == "dataproc"
    lines = sorted((ln for k in keys if "part-" in k
                    for ln in store.read_bytes(k).decode().split("\n")[:-1]),
                   key=lambda s: s.encode())
    assert lines == reference_lines(corpus_bytes)
    assert not list(store.list("tmp/"))  # the shipped files are cleaned up
    look = cli("lookup", f"gs://{bucket}/idx", "light")
    assert look.code == 0 and look.out.startswith('light\t{"df":14,')


@pytest.mark.emulator
def test_dataproc_interrupt_cancels_the_job(gcs, cli, corpus, monkeypatch):
    bucket, store = _bucket_with_corpus(corpus)
    fake = FakeJobs(None, interrupt=True)
    monkeypatch.setattr(dataproc, "job_client", lambda region: fake)
    r = cli("build", f"gs://{bucket}/corpus/", "-o", f"gs://{bucket}/idx", *FLAGS)
    assert r.code == 130
    assert fake.cancelled == [fake.requests[0]["job"]["reference"]["job_id"]]
    assert not list(store.list("idx/")) and not list(store.list("tmp/"))
