"""Classify a whole collection, streamed: what `python -m artnet.cli.classify` runs.

Paintings are decoded in threads a few batches ahead and classified in batches, and each batch's rows reach
the output before the next batch starts, so an interrupted run leaves a valid CSV of what it finished and
`finished_rows` lets it go on from there. A file that cannot be classified gets its one-line reason in the
`error` column and never stops the run. `in_shard` takes a stable share of the files (by a hash of each
path), so that N processes, on one machine or many, cover every file once.
"""

import csv
import hashlib
import os
import sys

from artnet.data.images import IMAGE_EXTENSIONS
from artnet.errors import UserError
from artnet.files import atomic_path
from artnet.threads import in_order

PATH, MOVEMENT, PROBABILITY, ERROR = "path", "movement", "probability", "error"


class UsageError(UserError):
    """A command line that cannot run. The message says what to do."""


def find_files(paths):
    """Every file named, and every image file in the folders named, recursively, in a stable order."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            for folder, subfolders, names in os.walk(path):
                subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
                files.extend(
                    os.path.join(folder, name)
                    for name in sorted(names)
                    if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith(".")
                )
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

    def prepare(path):
        try:
            return path, classifier.model_input(path), ""
        except UserError as error:
            return path, None, str(error)
        except OSError as error:
            return path, None, f"The file could not be read ({error.strerror or error})."

    failures = 0
    batch = []
    bar = tqdm(
        total=len(files),
        unit="painting",
        desc="Classifying",
        disable=not progress,
        mininterval=0.5 if sys.stderr.isatty() else 30,
    )
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
            row.update(
                {
                    MOVEMENT: top,
                    PROBABILITY: f"{probabilities[top]:.6f}",
                    **{label: f"{p:.6f}" for label, p in probabilities.items()},
                }
            )
        rows.append(row)
    output.write(rows)
    return sum(1 for _, _, error in batch if error)
