"""Classify a whole collection: `python -m artnet.cli.classify PATH... --model SPEC [--csv OUT]`.

Files and folders (recursively) are classified by any model that app.py can serve, found by the same
code. The collection streams: paintings are decoded in threads a few batches ahead and classified in
batches, and each batch's rows reach the CSV before the next batch starts, so an interrupted run leaves a
valid CSV of what it finished and `--resume` goes on from there. A file that cannot be classified gets
its one-line reason in the `error` column and never stops the run. `--shard I/N` takes a stable share of
the files (by a hash of each path), so that N processes, on one machine or many, cover every file once.
Where the model looks for paintings in photos, it classifies the painting it finds in each file (the CSV's
`cropped` and `corners` say where); `--whole` classifies the whole images.

Exit codes: 0 when every file was classified, 1 when some were not, 2 for a usage error (a missing path,
no model, a bad option), said in one line.
"""

import argparse
import os
import sys

from artnet.cli.options import add_model_option, load_classifier
from artnet.errors import OneLineErrorParser, UserError
from artnet.serve.batch import (
    ERROR,
    PATH,
    CsvRows,
    TableRows,
    UsageError,
    classify_files,
    columns,
    find_files,
    finished_rows,
    in_shard,
)

DEFAULT_BATCH = 32


def parse_arguments(argv=None):
    parser = OneLineErrorParser(
        prog="python -m artnet.cli.classify", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="paintings, and folders searched recursively")
    add_model_option(parser)
    parser.add_argument("--csv", metavar="OUT", help="write one row per file here (default: a short table on stdout)")
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH, help="paintings per network pass (default: %(default)s)"
    )
    parser.add_argument("--resume", action="store_true", help="skip the files that --csv OUT already has rows for")
    parser.add_argument(
        "--whole",
        action="store_true",
        help="classify each whole image, even where the model would find a painting in a photo and classify that",
    )
    parser.add_argument(
        "--shard",
        type=shard,
        default=(0, 1),
        metavar="I/N",
        help="classify only the I-th of N shares of the files, I from 0 to N-1 (default: all of them)",
    )
    return parser.parse_args(argv)


def shard(value):
    try:
        index, count = (int(part) for part in value.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard takes I/N, such as 0/4, not {value!r}") from None
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"--shard {value}: I must be from 0 to N-1")
    return index, count


def main(argv=None):
    arguments = parse_arguments(argv)
    try:
        if arguments.batch_size < 1:
            raise UsageError("--batch-size must be at least 1.")
        if arguments.resume and not arguments.csv:
            raise UsageError("--resume needs --csv OUT: it goes on from the rows of that file.")
        if arguments.csv and os.path.exists(arguments.csv) and not arguments.resume:
            raise UsageError(f"{arguments.csv} exists: add --resume to go on from its rows, or give another --csv.")
        files = [path for path in find_files(arguments.paths) if in_shard(path, *arguments.shard)]
        # The model only once the command line is known to be right: its errors come at once.
        classifier, _ = load_classifier(arguments.model)
        whole_images = arguments.whole or not classifier.way_in.find_painting
        kept = finished_rows(arguments.csv, columns(classifier.labels), whole_images) if arguments.resume else []
        done = {row[PATH] for row in kept}
        todo = [path for path in files if path not in done]
        output = CsvRows(arguments.csv, columns(classifier.labels), kept) if arguments.csv else TableRows()
    except UserError as error:
        print(f"python -m artnet.cli.classify: {error}", file=sys.stderr)
        return 2
    try:
        failures = classify_files(classifier, todo, output, arguments.batch_size, whole=arguments.whole)
    except KeyboardInterrupt:
        print("\nInterrupted. Continue with the same command and --resume.", file=sys.stderr)
        return 130
    finally:
        output.close()
    failures += sum(1 for row in kept if row[ERROR])
    total = len(kept) + len(todo)
    print(
        f"Classified {total - failures} of {total} files"
        + (f"; {failures} could not be (see the error column)." if failures else "."),
        file=sys.stderr,
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
