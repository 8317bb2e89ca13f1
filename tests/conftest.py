import os

# Quiet TensorFlow's C++ start-up chatter; set before any test imports TensorFlow.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest  # noqa: E402

from artnet.styles import MOVEMENTS  # noqa: E402


@pytest.fixture(scope="session")
def untrained_model_folder(tmp_path_factory):
    """A real DenseNet-121 model folder at 64 x 64 with random weights: fast to build, same code path."""
    from artnet.model import build_model, save_folder

    folder = tmp_path_factory.mktemp("untrained_model")
    save_folder(build_model(len(MOVEMENTS), image_size=64, backbone_weights=None), folder, MOVEMENTS)
    return folder


@pytest.fixture(scope="session")
def classifier(untrained_model_folder):
    from artnet.classifier import Classifier

    return Classifier.from_folder(untrained_model_folder)
