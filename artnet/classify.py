"""Classify a whole collection: `python -m artnet.classify PATH... --model SPEC [--csv OUT]`.

Files and folders (recursively) are classified by any model that app.py can serve, found by the same
code. The collection streams: paintings are decoded in threads a few batches ahead and classified in
batches, and each batch's rows reach the CSV before the next batch starts, so an interrupted run leaves a
valid CSV of what it finished and `--resume` goes on from there. A file that cannot be classified gets
its one-line reason in the `error` column and never stops the run. `--shard I/N` takes a stable share of
the files (by a hash of each path), so that N processes, on one machine or many, cover every file once.

Exit codes: 0 when every file was classified, 1 when some were not, 2 for a usage error (a missing path,
no model, a bad option), said in one line.
"""

import argparse
import csv
import hashlib
import os
import sys

from artnet.errors import OneLineErrorParser, UserError
from artnet.files import atomic_path
from artnet.images import IMAGE_EXTENSIONS
from artnet.model_folder import DEFAULT_MODEL_FOLDER, MODEL_VARIABLE
DEFAULT_BATCH = 32
PATH, MOVEMENT, PROBABILITY, ERROR = "path", "movement", "probability", "error"


class UsageError(UserError):
    """A command line that cannot run. The message says what to do."""


def parse_arguments(argv=None):
    parser = OneLineErrorParser(prog="python -m artnet.classify", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="paintings, and folders searched recursively")
    parser.add_argument("--model", default=os.environ.get(MODEL_VARIABLE) or None, metavar="SPEC",
                        help=f"a model folder or user/repo[@revision] (default: ${MODEL_VARIABLE}, else {DEFAULT_MODEL_FOLDER})")
    parser.add_argument("--csv", metavar="OUT", help="write one row per file here (default: a short table on stdout)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, help="paintings per network pass (default: %(default)s)")
    parser.add_argument("--resume", action="store_true", help="skip the files that --csv OUT already has rows for")
    parser.add_argument("--shard", type=shard, default=(0, 1), metavar="I/N",
                        help="classify only the I-th of N shares of the files, I from 0 to N-1 (default: all of them)")
    return parser.parse_args(argv)


def shard(value):
    try:
        index, count = (int(part) for part in value.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard takes I/N, such as 0/4, not {value!r}") from None
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"--shard {value}: I must be from 0 to N-1")
    return index, count


def find_files(paths):
    """Every file named, and every image file in the folders named, recursively, in a stable order."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            for folder, subfolders, names in os.walk(path):
                subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
                files.extend(os.path.join(folder, name) for name in sorted(names)
                             if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith("."))
        elif os.path.exists(path):
            files.append(path)
        else:
            raise UsageError(f"There is no file or folder at {path!r}.")
    return files


def in_shard(path, index, count):
    """Whether `path` belongs to shard `index` of `count`: a hash of the path, the same on every machine."""
    return int(hashlib.sha1(os.path.normpath(path).encode("utf-8")).hexdigest(), 16) % count == index


def finished_rows(csv_path, columns):
    """The complete rows of an earlier run's CSV, for --resume; a row cut short by a kill is dropped."""
    if not os.path.isfile(csv_path):
        return []
    with open(csv_path, newline="", encoding="utf-8") as file:
        text = file.read()
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines = lines[:-1]
    reader = csv.DictReader(lines)
    if reader.fieldnames is not None and reader.fieldnames != columns:
        raise UsageError(f"{csv_path} has other columns than this model gives; resume with the model that wrote it.")
    return [row for row in reader if None not in row and None not in row.values()]


class CsvRows:
    """The CSV: earlier rows kept on --resume, each new batch's rows written and flushed together."""

    def __init__(self, path, columns, kept):
        # The kept rows are written aside first: a kill while they are rewritten loses none of them.
        with atomic_path(path, suffix=".csv") as temporary:
            with open(temporary, "w", newline="", encoding="utf-8") as file:
                writer = csv.DictWriter(file, fieldnames=columns)
                writer.writeheader()
                writer.writerows(kept)
        self.file = open(path, "a", newline="", encoding="utf-8")
        self.writer = csv.DictWriter(self.file, fieldnames=columns)

    def write(self, rows):
        self.writer.writerows(rows)
        self.file.flush()

    def close(self):
        self.file.close()


class TableRows:
    """A short table on stdout: the file, its movement and probability, or why it has none."""

    def write(self, rows):
        for row in rows:
            answer = f"{row[MOVEMENT]} {float(row[PROBABILITY]):.0%}" if not row[ERROR] else f"error: {row[ERROR]}"
            print(f"{row[PATH]}\t{answer}", flush=True)

    def close(self):
        pass


def classify_files(classifier, files, output, batch_size, progress=True):
    """Classify `files` into `output` (CsvRows or TableRows); how many could not be classified."""
    from tqdm import tqdm

    from artnet.threads import in_order

    def prepare(path):
        try:
            return path, classifier.model_input(path), ""
        except UserError as error:
            return path, None, str(error)
        except OSError as error:
            return path, None, f"The file could not be read ({error.strerror or error})."

    failures = 0
    batch = []
    bar = tqdm(total=len(files), unit="painting", desc="Classifying", disable=not progress,
               mininterval=0.5 if sys.stderr.isatty() else 30)
    for item in in_order(prepare, files, window=4 * batch_size):
        batch.append(item)
        if len(batch) == batch_size:
            failures += _write_batch(classifier, batch, output)
            bar.update(len(batch))
            batch = []
    if batch:
        failures += _write_batch(classifier, batch, output)
        bar.update(len(batch))
    bar.close()
    return failures


def _write_batch(classifier, batch, output):
    ready = [(path, model_input) for path, model_input, error in batch if not error]
    answers = dict(zip((path for path, _ in ready), classifier.classify_batch([m for _, m in ready]))) if ready else {}
    rows = []
    for path, _, error in batch:
        row = {PATH: path, MOVEMENT: "", PROBABILITY: "", **{label: "" for label in classifier.labels}, ERROR: error}
        if not error:
            probabilities = answers[path]
            top = max(probabilities, key=probabilities.get)
            row.update({MOVEMENT: top, PROBABILITY: f"{probabilities[top]:.6f}",
                        **{label: f"{p:.6f}" for label, p in probabilities.items()}})
        rows.append(row)
    output.write(rows)
    return sum(1 for _, _, error in batch if error)


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
        from artnet.hub import resolve_model
        from artnet.model_folder import check_folder

        source = resolve_model(arguments.model)
        check_folder(source.folder)
        # TensorFlow only once the command line and the model are known to be right: errors come at once.
        from artnet.classifier import Classifier

        classifier = Classifier.from_folder(source.folder)
        columns = [PATH, MOVEMENT, PROBABILITY, *classifier.labels, ERROR]
        kept = finished_rows(arguments.csv, columns) if arguments.resume else []
        done = {row[PATH] for row in kept}
        todo = [path for path in files if path not in done]
        output = CsvRows(arguments.csv, columns, kept) if arguments.csv else TableRows()
    except UserError as error:
        print(f"python -m artnet.classify: {error}", file=sys.stderr)
        return 2
    try:
        failures = classify_files(classifier, todo, output, arguments.batch_size)
    except KeyboardInterrupt:
        print("\nInterrupted. Continue with the same command and --resume.", file=sys.stderr)
        return 130
    finally:
        output.close()
    failures += sum(1 for row in kept if row[ERROR])
    total = len(kept) + len(todo)
    print(f"Classified {total - failures} of {total} files" + (f"; {failures} could not be (see the error column)." if failures else "."),
          file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
