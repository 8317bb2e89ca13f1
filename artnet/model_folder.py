"""The model folder: the contract between train.py and app.py, readable without TensorFlow.

Everything the app needs to interpret a model travels in this folder (see DESIGN.md): model.keras,
config.json (labels in output order, input size, Grad-CAM layers, format version), metrics.json,
README.md (the model card) and examples/. `ModelSource` says where a served folder came from.
"""

import json
import os
from dataclasses import dataclass

from huggingface_hub import constants

from artnet.errors import UserError

FORMAT_VERSION = 1
# Where train.py writes by default, and where app.py looks when it is given no model.
DEFAULT_MODEL_FOLDER = os.path.join("models", "artnet")
MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
CARD_FILE = "README.md"
EXAMPLES_FOLDER = "examples"
EXAMPLES_INDEX = "index.json"


class ModelFolderError(UserError):
    """A model folder that cannot be loaded. The message says what is wrong and what to do."""


def read_config(folder):
    """The validated config.json of a model folder. Raises ModelFolderError."""
    path = os.path.join(folder, CONFIG_FILE)
    try:
        with open(path, encoding="utf-8") as file:
            config = json.load(file)
    except FileNotFoundError:
        raise ModelFolderError(
            f"The model folder {folder!r} has no {CONFIG_FILE}; it is incomplete or still being written. "
            "Train or download it again."
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelFolderError(f"{path!r} is not valid JSON ({error}). Train or download the folder again.") from None
    version = config.get("format_version") if isinstance(config, dict) else None
    if not isinstance(version, int):
        raise ModelFolderError(f"{path!r} has no format_version; it was not written by ArtNet.")
    if version > FORMAT_VERSION:
        raise ModelFolderError(
            f"The model folder {folder!r} uses format version {version}, newer than this ArtNet "
            f"understands ({FORMAT_VERSION}). Update ArtNet (git pull; pip install -r requirements.txt)."
        )
    missing = [key for key in ("labels", "image_size", "gradcam_layers") if key not in config]
    if missing:
        raise ModelFolderError(f"{path!r} lacks {', '.join(missing)}. Train or download the folder again.")
    return config


def check_folder(folder):
    """The config of a complete model folder: it exists, has a valid config.json and a model.keras.
    Checked without TensorFlow, so that a wrong folder is reported at once. Raises ModelFolderError."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise ModelFolderError(f"There is no model folder at {folder!r}. Train one with train.py or pull one from the Hub.")
    config = read_config(folder)
    if not os.path.isfile(os.path.join(folder, MODEL_FILE)):
        raise ModelFolderError(f"The model folder {folder!r} has no {MODEL_FILE}; it is incomplete. Copy or download it again.")
    return config


def read_metrics(folder):
    """metrics.json of a model folder, or None when the model has not been evaluated."""
    try:
        with open(os.path.join(folder, METRICS_FILE), encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class ModelSource:
    """Where a served model came from: its local folder and, when pulled from the Hub, the repo, the
    revision asked for and the commit it resolved to."""

    folder: str
    repo_id: str | None = None
    revision: str | None = None
    commit: str | None = None

    @property
    def url(self):
        if self.repo_id is None:
            return None
        return f"{constants.ENDPOINT}/{self.repo_id}/tree/{self.commit or self.revision or 'main'}"

    @property
    def spec(self):
        """What pulls exactly this model again: `repo@commit` for a Hub model, else the folder."""
        return f"{self.repo_id}@{self.commit}" if self.repo_id and self.commit else (self.repo_id or self.folder)
