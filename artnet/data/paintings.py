"""Training data: find the paintings (Painter by Numbers CSV or one folder per class, with the collection
each came from where the data says), and split them by painting.

Nothing here touches TensorFlow, so bad data folders are reported at once, before its slow import.
"""

import collections
import csv
import os
import random
from dataclasses import dataclass, field

from artnet.data.images import IMAGE_EXTENSIONS
from artnet.data.near_copies import near_copy_groups
from artnet.errors import UserError
from artnet.styles import MOVEMENTS, movement_of

# Painter by Numbers as Kaggle ships it: the full table, or the one for the training images only.
PBN_TABLES = {"all_data_info.csv": "new_filename", "train_info.csv": "filename"}
PBN_IMAGE_FOLDERS = ("train", "test", ".")
# Beside one folder per class: which collection each painting came from (file, relative to the data folder).
MANIFEST = "manifest.csv"
MANIFEST_SOURCE_COLUMNS = ("source_repo", "source")
# Every split needs at least one painting of every movement.
MIN_PAINTINGS_PER_MOVEMENT = 3


# The folder of paintings from other sources that train.py measures a model on by default, beside the data folder.
ELSEWHERE_FOLDER_NAME = "elsewhere"


def folder_beside(data_dir, name):
    """The folder `name` beside the data folder, or None when there is none."""
    folder = os.path.join(os.path.dirname(os.path.abspath(os.fspath(data_dir))), name)
    return folder if os.path.isdir(folder) else None


class DataError(UserError):
    """A data folder that cannot be trained on. The message is one line that says what to do."""


@dataclass(frozen=True)
class Painting:
    path: str
    movement: str
    # The collection it came from, where the data says (manifest.csv's source_repo; Painter by Numbers'
    # source column); None otherwise.
    source: str | None = None
    # Its style as the data names it (manifest.csv's or Painter by Numbers' style column); None otherwise.
    style: str | None = None


@dataclass
class DataSource:
    """The paintings found in a data folder, and what was left out and why."""

    layout: str
    paintings: list
    skipped: collections.Counter = field(default_factory=collections.Counter)
    unmapped_styles: collections.Counter = field(default_factory=collections.Counter)
    name: str = ""  # what the data set is, for the model card

    @property
    def sources(self):
        """The collections that the paintings came from, in order of first appearance; empty if unknown."""
        return list(dict.fromkeys(p.source for p in self.paintings if p.source is not None))

    @property
    def labels(self):
        """The movements that have paintings, in the fixed order of artnet.styles.MOVEMENTS."""
        present = {painting.movement for painting in self.paintings}
        return [movement for movement in MOVEMENTS if movement in present]

    def counts(self):
        counter = collections.Counter(painting.movement for painting in self.paintings)
        return {movement: counter[movement] for movement in self.labels}


def find_paintings(data_dir, name=None):
    """The paintings in `data_dir`, in either layout; `name` says what the data set is (default: from the
    layout, the folder's name and the collections). Raises DataError."""
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise DataError(f"There is no data folder at {data_dir!r}. Give the folder that holds the paintings.")
    tables = [name for name in PBN_TABLES if os.path.isfile(os.path.join(data_dir, name))]
    source = _painter_by_numbers(data_dir, tables[0]) if tables else _class_folders(data_dir)
    source.name = name or _describe(data_dir, source)
    if not source.paintings:
        raise DataError(
            f"No usable paintings in {data_dir!r}. Expected Painter by Numbers (all_data_info.csv or "
            "train_info.csv beside train/ and test/) or one folder per movement or style (DIR/Cubism/*.jpg)."
        )
    if len(source.labels) < 2:
        raise DataError(f"{data_dir!r} only has paintings of {source.labels[0]}; at least two movements are needed.")
    return source


def _painter_by_numbers(data_dir, table):
    filename_column = PBN_TABLES[table]
    source = DataSource(layout=f"Painter by Numbers ({table})", paintings=[])
    with open(os.path.join(data_dir, table), newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        missing_columns = {filename_column, "style"} - set(reader.fieldnames or [])
        if missing_columns:
            raise DataError(f"{table} has no column {', '.join(sorted(missing_columns))}; is it the Kaggle file?")
        for row in reader:
            style = (row.get("style") or "").strip()
            movement = movement_of(style)
            if movement is None:
                source.skipped["unmapped style"] += 1
                source.unmapped_styles[style or "(no style)"] += 1
                continue
            path = _find_file(data_dir, row[filename_column])
            if path is None:
                source.skipped["missing file"] += 1
                continue
            source.paintings.append(Painting(path, movement, (row.get("source") or "").strip() or None, style))
    return source


def _describe(data_dir, source):
    if source.layout.startswith("Painter by Numbers"):
        return "Painter by Numbers (WikiArt)"
    folder = os.path.basename(os.path.normpath(os.path.abspath(data_dir)))
    sources = source.sources
    if sources:
        return f"{folder}: {len(source.paintings)} paintings from {len(sources)} collections ({', '.join(sources)})"
    return f"{folder}: {len(source.paintings)} paintings"


def _find_file(data_dir, filename):
    for folder in PBN_IMAGE_FOLDERS:
        path = os.path.join(data_dir, folder, filename)
        if os.path.isfile(path):
            return os.path.normpath(path)
    return None


def _class_folders(data_dir):
    source = DataSource(layout="one folder per class", paintings=[])
    described = _manifest(data_dir)
    for name in sorted(os.listdir(data_dir)):
        folder = os.path.join(data_dir, name)
        if not os.path.isdir(folder) or name.startswith("."):
            continue
        images = [
            os.path.join(folder, file)
            for file in sorted(os.listdir(folder))
            if file.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(folder, file))
        ]
        movement = movement_of(name)
        if movement is None:
            source.skipped["unmapped style"] += len(images)
            source.unmapped_styles[name] += len(images)
            continue
        for path in images:
            # A folder named by a style (DIR/Fauvism) names it where the manifest does not.
            collection, style = described.get(os.path.relpath(path, data_dir).replace(os.sep, "/"), (None, None))
            source.paintings.append(
                Painting(path, movement, collection, style or (name.replace("_", " ") if name != movement else None))
            )
    return source


def _manifest(data_dir):
    """{file relative to data_dir: (collection, style or None)} from the data folder's manifest.csv; empty
    without one."""
    path = os.path.join(data_dir, MANIFEST)
    if not os.path.isfile(path):
        return {}
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        column = next((name for name in MANIFEST_SOURCE_COLUMNS if name in (reader.fieldnames or [])), None)
        if column is None or "file" not in (reader.fieldnames or []):
            raise DataError(f"{path} needs a file column and a {' or '.join(MANIFEST_SOURCE_COLUMNS)} column.")
        return {
            row["file"].strip(): (row[column].strip(), (row.get("style") or "").strip() or None)
            for row in reader
            if row["file"] and row[column]
        }


def split_paintings(paintings, validation_fraction=0.15, test_fraction=0.15, seed=42):
    """Split by painting, stratified by movement and seeded: (train, validation, test) lists.

    Near-copies (artnet.data.near_copies: the same painting in two reproductions) go to one split together,
    counted under the movement of the first of them by path, so that no test painting is a training
    painting in another scan. Every movement gets at least one painting in each split. Raises DataError
    when a movement has too few paintings for that.
    """
    if not (0 < validation_fraction < 1 and 0 < test_fraction < 1 and validation_fraction + test_fraction < 1):
        raise DataError("The validation and test fractions must be between 0 and 1 and leave paintings to train on.")
    ordered = sorted(paintings, key=lambda painting: painting.path)
    groups = collections.defaultdict(list)
    for painting, group in zip(ordered, near_copy_groups([painting.path for painting in ordered])):
        groups[group].append(painting)
    by_movement = collections.defaultdict(list)
    for members in groups.values():
        by_movement[members[0].movement].append(members)
    generator = random.Random(seed)
    train, validation, test = [], [], []
    for movement in MOVEMENTS:
        units = by_movement.get(movement, [])
        if not units:
            continue
        count = sum(len(members) for members in units)
        if len(units) < MIN_PAINTINGS_PER_MOVEMENT:
            copies = f" once its near-copies are taken as one (of {count} files)" if count > len(units) else ""
            raise DataError(
                f"{movement} has only {len(units)} painting(s){copies}; each movement needs at least "
                f"{MIN_PAINTINGS_PER_MOVEMENT} to appear in train, validation and test. Add paintings of it."
            )
        generator.shuffle(units)
        position = 0
        for split, share in ((test, test_fraction), (validation, validation_fraction)):
            wanted, taken = max(1, round(count * share)), 0
            while taken < wanted and position < len(units) - 1:
                split.extend(units[position])
                taken += len(units[position])
                position += 1
            if not taken:
                raise DataError(
                    f"{movement}'s near-copies leave too few paintings of it to fill train, validation and test; "
                    "add paintings of it."
                )
        train.extend(painting for members in units[position:] for painting in members)
    return train, validation, test
