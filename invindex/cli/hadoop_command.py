"""``invindex hadoop-command INPUT... -o OUTPUT``: the job as one ``hadoop jar`` command."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from ..core.analysis import add_analyzer_arguments, analyzer_from_args
from ..errors import UsageError


def register(sub) -> None:
    p = sub.add_parser(
        "hadoop-command", help="print the `hadoop jar hadoop-streaming.jar ...` command",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write mapper.py, reducer.py and invindex.zip (the core and "
                    "snowballstemmer, for the nodes' python3 >= 3.9)\ninto --files-dir and "
                    "print the Hadoop "
                    "streaming command that builds the index's parts\nwith them: key "
                    "term<TAB>doc_id, partitioned on the term, byte-ordered.",
        epilog="Run it where the `hadoop` client is configured (e.g. the cluster's "
               "master node), with --files-dir\nvisible to it. The job writes the "
               "part-NNNNN files; `invindex build --runner hadoop` runs the\nsame job "
               "through mrjob and then writes _manifest.json and _SUCCESS as well.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="hdfs://, s3://, gs:// or paths")
    p.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="output directory (must not exist)")
    p.add_argument("--files-dir", default="invindex-streaming", metavar="DIR",
                   help="where to write the shipped files (default ./invindex-streaming)")
    p.add_argument("--jar", default=None, metavar="PATH",
                   help="the streaming jar (default $HADOOP_HOME/share/hadoop/tools/lib/"
                        "hadoop-streaming-*.jar)")
    p.add_argument("--python", default="python3", metavar="CMD",
                   help="python on the nodes (default python3; 3.9+)")
    p.add_argument("--parts", type=int, default=None, metavar="N",
                   help="reduce tasks, i.e. index parts (default: the cluster's)")
    p.add_argument("--strict", action="store_true", help="fail on the first bad record")
    add_analyzer_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..runners import hadoop_command as hc
    from ..runners.package import write_streaming_files

    try:
        analyzer = analyzer_from_args(args)
    except (ValueError, OSError) as e:
        raise UsageError(str(e)) from None
    files_dir = Path(args.files_dir)
    write_streaming_files(files_dir)
    if analyzer.stopwords_name not in (None, "english"):
        shutil.copyfile(analyzer.stopwords_name, files_dir / Path(analyzer.stopwords_name).name)
    argv = hc.command(args.inputs, args.output, str(files_dir.resolve()), analyzer,
                      strict=args.strict, python=args.python, reducers=args.parts,
                      jar=args.jar or hc.DEFAULT_JAR)
    print(hc.render(argv))
    if not args.quiet:
        print(f"invindex: wrote the shipped files to {files_dir}/", file=sys.stderr)
    return 0
