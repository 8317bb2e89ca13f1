"""Classify a whole collection, streamed: what `python -m artnet.cli.classify` runs.

Paintings are decoded in threads a few batches ahead and classified in batches, and each batch's rows reach
the output before the next batch starts, so an interrupted run leaves a valid CSV of what it finished and
`finished_rows` lets it go on from there. A file that cannot be classified gets its one-line reason in the
`error` column and never stops the run. `in_shard` takes a stable share of the files (by a hash of each
path), so that N processes, on one machine or many, cover every file once. Where the model looks for paintings
in photos, each row says whether it classified the painting it found (`cropped`) and where (`corners`);
`whole` classifies whole images.
"""

import csv
import hashlib
import os
import sys

from artnet.data.images import IMAGE_EXTENSIONS
from artnet.errors import UserError
from artnet.files import atomic_path
from artnet.model.answers import in_words
from artnet.threads import in_order

PATH, MOVEMENT, PROBABILITY, ERROR = "path", "movement", "probability", "error"
IN_SCOPE, SCOPE_SCORE, MOVEMENTS = "in_scope", "scope_score", "movements"
CROPPED, CORNERS = "cropped", "corners"
# Between the movements of a prediction set in the CSV: no movement's name holds it.
SET_SEPARATOR = "|"


def columns(labels):
    """The CSV's columns for a model's labels."""
    return [PATH, MOVEMENT, PROBABILITY, IN_SCOPE, SCOPE_SCORE, MOVEMENTS, CROPPED, CORNERS, *labels, ERROR]


def corners_text(corners):
    """The corners of a painting found in a photo as the CSV gives them: "x1 y1 x2 y2 x3 y3 x4 y4", clockwise
    from top left, in the file's pixels; empty when the whole image was classified."""
    return "" if corners is None else " ".join(f"{coordinate:g}" for corner in corners for coordinate in corner)


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


def finished_rows(csv_path, columns, whole_images=False):
    """The complete rows of an earlier run's CSV, for --resume; a row cut short by a kill is dropped.

    A CSV written before ArtNet looked for paintings in photos has no `cropped` and `corners` columns: its
    rows are of whole images, which is what this run makes too when `whole_images` (--whole, or a model
    that does not look for paintings), and they are kept with those columns filled in; otherwise the run
    would mix two ways of looking in one file, and a UsageError says what to do."""
    if not os.path.isfile(csv_path):
        return []
    with open(csv_path, newline="", encoding="utf-8") as file:
        text = file.read()
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines = lines[:-1]
    reader = csv.DictReader(lines)
    before_cropping = [column for column in columns if column not in (CROPPED, CORNERS)]
    if reader.fieldnames is not None and reader.fieldnames not in (columns, before_cropping):
        raise UsageError(f"{csv_path} has other columns than this model gives; resume with the model that wrote it.")
    rows = [row for row in reader if None not in row and None not in row.values()]
    if reader.fieldnames != before_cropping:
        return rows
    if not whole_images:
        raise UsageError(
            f"{csv_path} was written before ArtNet looked for paintings in photos: its rows are of whole images. "
            "Resume with --whole, or give another --csv."
        )
    return [row | {CROPPED: "" if row[ERROR] else "false", CORNERS: ""} for row in rows]


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
    """A short table on stdout: the file and its answer (the prediction set, or none of the movements,
    with the top movement's probability), or why it has none."""

    def write(self, rows):
        for row in rows:
            print(f"{row[PATH]}\t{_table_answer(row)}", flush=True)

    def close(self):
        pass


def classify_files(classifier, files, output, batch_size, progress=True, whole=False):
    """Classify `files` into `output` (CsvRows or TableRows), each the painting found in it where the model
    looks for paintings in photos, or with `whole` the whole image; how many could not be classified."""
    from tqdm import tqdm

    def prepare(path):
        # Only what the network is given and where the painting was found wait in the window ahead, never
        # the decoded image, which may be 64 megapixels.
        try:
            seen = classifier.look(path, whole=whole)
            return path, (seen.model_input(classifier.image_size), seen.corners), ""
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


def _table_answer(row):
    if row[ERROR]:
        return f"error: {row[ERROR]}"
    named = in_words(row[MOVEMENTS].split(SET_SEPARATOR), row[IN_SCOPE] == "true")
    where = ", the painting found in the photo" if row.get(CROPPED) == "true" else ""
    return f"{named} ({row[MOVEMENT]} {float(row[PROBABILITY]):.0%}{where})"


def _write_batch(classifier, batch, output):
    ready = [(path, seen) for path, seen, error in batch if not error]
    answers = classifier.answer_batch([model_input for _, (model_input, _) in ready]) if ready else []
    found = {path: (answer, corners) for (path, (_, corners)), answer in zip(ready, answers)}
    rows = []
    for path, _, error in batch:
        row = dict.fromkeys(columns(classifier.labels), "") | {PATH: path, ERROR: error}
        if not error:
            answer, corners = found[path]
            row.update(
                {
                    MOVEMENT: answer.closest,
                    PROBABILITY: f"{answer.probabilities[answer.closest]:.6f}",
                    IN_SCOPE: "true" if answer.in_scope else "false",
                    SCOPE_SCORE: "" if answer.scope_score is None else f"{answer.scope_score:.4f}",
                    MOVEMENTS: SET_SEPARATOR.join(answer.movements),
                    CROPPED: "false" if corners is None else "true",
                    CORNERS: corners_text(corners),
                    **{label: f"{p:.6f}" for label, p in answer.probabilities.items()},
                }
            )
        rows.append(row)
    output.write(rows)
    return sum(1 for _, _, error in batch if error)
