"""Images that are none of the movements a model knows (earlier European painting, prints, photographs,
...), from which training learns the scope score, and their own split.

The folder holds one subfolder per category (DIR/Baroque/*.jpg), with an optional manifest.csv whose
`kind` column says how close each is to the movements: `near` (European painting that shares subjects
and finish with them) or `far`. By default it is the `out_of_scope` folder beside the data folder.

Nothing here touches TensorFlow.
"""

import collections
import csv
import os
import random
from dataclasses import dataclass

from artnet.data.images import IMAGE_EXTENSIONS
from artnet.data.paintings import MANIFEST, DataError

DEFAULT_FOLDER_NAME = "out_of_scope"
# Shares of each category kept for choosing the threshold and for the test: a quarter for the test, so
# that every category's numbers rest on enough images.
VALIDATION_SHARE = 0.2
TEST_SHARE = 0.25
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class OutOfScopeImage:
    path: str
    category: str
    kind: str | None = None  # "near", "far", or None where the folder does not say


def find_out_of_scope(folder):
    """The OutOfScopeImages of `folder`, sorted by path. Raises DataError when it has none."""
    if not os.path.isdir(folder):
        raise DataError(f"There is no out-of-scope folder at {folder!r}; give another --out-of-scope, or none.")
    kinds = _kinds(folder)
    images = []
    for name in sorted(os.listdir(folder)):
        subfolder = os.path.join(folder, name)
        if name.startswith(".") or not os.path.isdir(subfolder):
            continue
        for file in sorted(os.listdir(subfolder)):
            if file.lower().endswith(IMAGE_EXTENSIONS) and not file.startswith("."):
                images.append(
                    OutOfScopeImage(os.path.join(subfolder, file), name.replace("_", " "), kinds.get(f"{name}/{file}"))
                )
    if not images:
        raise DataError(
            f"{folder!r} has no images in subfolders (one per category, such as Baroque/); give another "
            "--out-of-scope, or none."
        )
    return images


def _kinds(folder):
    path = os.path.join(folder, MANIFEST)
    if not os.path.isfile(path):
        return {}
    with open(path, newline="", encoding="utf-8") as file:
        return {row["file"]: row["kind"] or None for row in csv.DictReader(file) if row.get("file") and row.get("kind")}


def split_out_of_scope(images, seed):
    """{"train", "validation", "test"}: each category shuffled with the seed and cut by VALIDATION_SHARE and
    TEST_SHARE, at least one image of a category of three or more in each."""
    by_category = collections.defaultdict(list)
    for image in sorted(images, key=lambda image: image.path):
        by_category[image.category].append(image)
    generator = random.Random(seed)
    split = {name: [] for name in SPLITS}
    for category in sorted(by_category):
        members = by_category[category]
        generator.shuffle(members)
        count = len(members)
        test = max(1, round(count * TEST_SHARE)) if count >= 3 else 0
        validation = max(1, round(count * VALIDATION_SHARE)) if count >= 3 else 0
        split["test"].extend(members[:test])
        split["validation"].extend(members[test : test + validation])
        split["train"].extend(members[test + validation :])
    return split
