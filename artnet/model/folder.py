"""The model folder: the contract between train.py and app.py, and the one place that knows its files.

Everything the app needs to interpret a model travels in this folder:

    model.keras      the network (written by artnet.model.network, which knows Keras)
    config.json      labels in output order, input size, backbone, head, Grad-CAM layers, format version
    metrics.json     the evaluation
    README.md        the model card
    examples/        held-out paintings, listed with their true movement in examples/index.json
    plots/           PNG reports
    neighbours/      (optional) the training paintings' embeddings, thumbnails and movements, for
                     "similar paintings"

This module reads and writes all of them but the network, checks that a folder is complete, and says
where a served folder came from (`ModelSource`). It knows neither TensorFlow nor Gradio.
"""

import json
import logging
import os
import threading
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from huggingface_hub import constants
from PIL import Image

from artnet.errors import UserError
from artnet.files import write_json_atomically

logger = logging.getLogger(__name__)

# 2: the backbone is named and may be MobileNet, and the style head's layers are ArtNet's own.
FORMAT_VERSION = 2
# Where train.py writes by default, and where app.py looks when it is given no model.
DEFAULT_MODEL_FOLDER = os.path.join("models", "artnet")
# The environment variable that names the model app.py serves (a folder or user/repo@revision).
MODEL_VARIABLE = "ARTNET_MODEL"
MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
CARD_FILE = "README.md"
EXAMPLES_FOLDER = "examples"
EXAMPLES_INDEX = "index.json"
PLOTS_FOLDER = "plots"
NEIGHBOURS_FOLDER = "neighbours"
NEIGHBOURS_EMBEDDINGS = "embeddings.npy"
NEIGHBOURS_INDEX = "index.json"
NEIGHBOURS_THUMBNAILS = "thumbnails.zip"
# What the app needs of a folder: a pull from the Hub downloads these and leaves the plots there.
SERVED_FILES = (MODEL_FILE, CONFIG_FILE, METRICS_FILE, CARD_FILE, f"{EXAMPLES_FOLDER}/*", f"{NEIGHBOURS_FOLDER}/*")
REQUIRED_CONFIG_KEYS = ("labels", "image_size", "gradcam_layers")
# Examples are shown in the app's gallery and uploaded to the Hub: a browser-sized copy is enough.
EXAMPLE_SIDE = 1024


class ModelFolderError(UserError):
    """A model folder that cannot be loaded. The message says what is wrong and what to do; `file` is the
    file at fault (CONFIG_FILE or MODEL_FILE), for callers that say it in their own words."""

    def __init__(self, message: str, file: str | None = None) -> None:
        super().__init__(message)
        self.file = file


@dataclass(frozen=True)
class Example:
    """A held-out painting of the folder's examples/ and its true movement."""

    path: str
    label: str


def model_path(folder: str | os.PathLike[str]) -> str:
    return os.path.join(folder, MODEL_FILE)


def plot_path(folder: str | os.PathLike[str], name: str) -> str:
    """Where the plot `name` (a PNG file name) goes; the plots folder is made when missing."""
    os.makedirs(os.path.join(folder, PLOTS_FOLDER), exist_ok=True)
    return os.path.join(folder, PLOTS_FOLDER, name)


def write_config(folder: str | os.PathLike[str], config: Mapping[str, Any]) -> None:
    """config.json, with the format version. Written after model.keras: a folder with a config.json always
    holds the model that it describes."""
    write_json_atomically(os.path.join(folder, CONFIG_FILE), {"format_version": FORMAT_VERSION, **config})


def read_config(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The validated config.json of a model folder. Raises ModelFolderError."""
    path = os.path.join(folder, CONFIG_FILE)
    try:
        with open(path, encoding="utf-8") as file:
            config = json.load(file)
    except FileNotFoundError:
        raise ModelFolderError(
            f"The model folder {folder!r} has no {CONFIG_FILE}; it is incomplete or still being written. "
            "Train or download it again.",
            CONFIG_FILE,
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelFolderError(
            f"{path!r} is not valid JSON ({error}). Train or download the folder again.", CONFIG_FILE
        ) from None
    version = config.get("format_version") if isinstance(config, dict) else None
    if not isinstance(version, int):
        raise ModelFolderError(f"{path!r} has no format_version; it was not written by ArtNet.", CONFIG_FILE)
    if version > FORMAT_VERSION:
        raise ModelFolderError(
            f"The model folder {folder!r} uses format version {version}, newer than this ArtNet "
            f"understands ({FORMAT_VERSION}). Update ArtNet (git pull; pip install -r requirements.txt).",
            CONFIG_FILE,
        )
    missing = [key for key in REQUIRED_CONFIG_KEYS if key not in config]
    if missing:
        raise ModelFolderError(f"{path!r} lacks {', '.join(missing)}. Train or download the folder again.", CONFIG_FILE)
    return config


def looks_complete(folder: str | os.PathLike[str]) -> bool:
    """Whether `folder` holds a config.json and a model.keras, without reading them."""
    return all(os.path.isfile(os.path.join(folder, name)) for name in (CONFIG_FILE, MODEL_FILE))


def check_folder(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The config of a complete model folder: it exists, has a valid config.json and a model.keras.
    Checked without TensorFlow, so that a wrong folder is reported at once. Raises ModelFolderError."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise ModelFolderError(
            f"There is no model folder at {folder!r}. Train one with train.py or pull one from the Hub."
        )
    config = read_config(folder)
    if not os.path.isfile(model_path(folder)):
        raise ModelFolderError(
            f"The model folder {folder!r} has no {MODEL_FILE}; it is incomplete. Copy or download it again.", MODEL_FILE
        )
    return config


def write_metrics(folder: str | os.PathLike[str], metrics: dict[str, Any]) -> None:
    write_json_atomically(os.path.join(folder, METRICS_FILE), metrics)


def read_metrics(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """metrics.json of a model folder, or None when the model has not been evaluated."""
    try:
        with open(os.path.join(folder, METRICS_FILE), encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError):
        return None


def write_card(folder: str | os.PathLike[str], text: str) -> None:
    with open(os.path.join(folder, CARD_FILE), "w", encoding="utf-8") as file:
        file.write(text)


def write_examples(folder: str | os.PathLike[str], examples: Iterable[tuple[Image.Image, str, str]]) -> None:
    """examples/: each (image, true movement, where it came from) as a browser-sized JPEG, and the index
    that lists them."""
    examples_folder = os.path.join(folder, EXAMPLES_FOLDER)
    os.makedirs(examples_folder, exist_ok=True)
    index, numbers = [], {}
    for image, label, source in examples:
        numbers[label] = numbers.get(label, 0) + 1
        file = f"{label.lower()}_{numbers[label]}.jpg"
        shown = image.copy()
        shown.thumbnail((EXAMPLE_SIDE, EXAMPLE_SIDE), Image.Resampling.LANCZOS)
        shown.save(os.path.join(examples_folder, file), quality=90)
        index.append({"file": file, "label": label, "source": source})
    write_json_atomically(os.path.join(examples_folder, EXAMPLES_INDEX), index)


def read_examples(folder: str | os.PathLike[str]) -> list[Example]:
    """The Examples listed in examples/index.json whose files exist; none if there is no index."""
    examples_folder = os.path.join(folder, EXAMPLES_FOLDER)
    index_path = os.path.join(examples_folder, EXAMPLES_INDEX)
    if not os.path.isfile(index_path):
        return []
    try:
        with open(index_path, encoding="utf-8") as file:
            entries = json.load(file)
    except (OSError, ValueError) as error:
        logger.warning(f"Skipping the examples: {index_path} is not readable JSON ({error}).")
        return []
    examples = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not {"file", "label"} <= entry.keys():
            continue
        path = os.path.join(examples_folder, entry["file"])
        if os.path.isfile(path):
            examples.append(Example(os.path.abspath(path), str(entry["label"])))
    return examples


def write_neighbours(
    folder: str | os.PathLike[str],
    embeddings: npt.ArrayLike,
    entries: Iterable[dict[str, Any]],
    thumbnails: Iterable[bytes],
) -> None:
    """neighbours/: the embeddings (float16), one entry per painting (movement, title, style, source, file) and each
    one's JPEG thumbnail, in one zip so that a Hub commit carries three files, not thousands."""
    neighbours = os.path.join(folder, NEIGHBOURS_FOLDER)
    os.makedirs(neighbours, exist_ok=True)
    np.save(os.path.join(neighbours, NEIGHBOURS_EMBEDDINGS), np.asarray(embeddings, dtype=np.float16))
    with zipfile.ZipFile(os.path.join(neighbours, NEIGHBOURS_THUMBNAILS), "w", zipfile.ZIP_STORED) as archive:
        for row, jpeg in enumerate(thumbnails):
            archive.writestr(f"{row}.jpg", jpeg)
    write_json_atomically(os.path.join(neighbours, NEIGHBOURS_INDEX), list(entries))


def read_neighbours(
    folder: str | os.PathLike[str],
) -> tuple[np.ndarray, list[dict[str, Any]], Callable[[int], bytes]] | None:
    """(embeddings, entries, thumbnail(row) -> JPEG bytes) of a folder's neighbours/, or None when it has
    none or they do not fit together (a folder written before them, or damaged)."""
    neighbours = os.path.join(folder, NEIGHBOURS_FOLDER)
    try:
        embeddings = np.load(os.path.join(neighbours, NEIGHBOURS_EMBEDDINGS))
        with open(os.path.join(neighbours, NEIGHBOURS_INDEX), encoding="utf-8") as file:
            entries = json.load(file)
        archive = zipfile.ZipFile(os.path.join(neighbours, NEIGHBOURS_THUMBNAILS))
    except (OSError, ValueError, zipfile.BadZipFile):
        return None
    if not isinstance(entries, list) or len(entries) != len(embeddings) or len(archive.namelist()) != len(entries):
        return None
    lock = threading.Lock()

    def thumbnail(row: int) -> bytes:
        with lock:  # a ZipFile reads through one file position
            return archive.read(f"{row}.jpg")

    return embeddings, entries, thumbnail


@dataclass(frozen=True)
class ModelSource:
    """Where a served model came from: its local folder and, when pulled from the Hub, the repo, the
    revision asked for and the commit it resolved to."""

    folder: str
    repo_id: str | None = None
    revision: str | None = None
    commit: str | None = None

    @property
    def url(self) -> str | None:
        if self.repo_id is None:
            return None
        return f"{constants.ENDPOINT}/{self.repo_id}/tree/{self.commit or self.revision or 'main'}"

    @property
    def spec(self) -> str:
        """What pulls exactly this model again: `repo@commit` for a Hub model, else the folder."""
        return f"{self.repo_id}@{self.commit}" if self.repo_id and self.commit else (self.repo_id or self.folder)
