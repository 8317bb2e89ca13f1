import os

# Quiet TensorFlow's C++ start-up chatter; set before any test imports TensorFlow.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from artnet.styles import MOVEMENTS  # noqa: E402


@pytest.fixture(scope="session")
def untrained_model_folder(tmp_path_factory):
    """A real DenseNet-121 model folder at 64 x 64 with random weights: fast to build, same code path."""
    import keras

    from artnet.model import build_model, save_folder

    # Seeded, so that every run tests the same random network.
    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("untrained_model")
    save_folder(build_model(len(MOVEMENTS), image_size=64, backbone_weights=None), folder, MOVEMENTS)
    return folder


@pytest.fixture(scope="session")
def classifier(untrained_model_folder):
    from artnet.classifier import Classifier

    return Classifier.from_folder(untrained_model_folder)


# --- Training: one real `python train.py` run per session, on generated paintings. ---

# Small enough for 2 CPU cores (about 2 minutes), large enough that validation accuracy ends well above
# chance (0.2): 24 paintings per movement at 64 x 64, trained from random weights.
TRAINING_ARGUMENTS = (
    "--image-size", "64", "--epochs", "3", "--batch-size", "16", "--backbone-weights", "none",
    "--freeze", "all", "--learning-rate", "1e-3", "--halve-learning-rate-every", "100",
)


# The training fixture's model folder exists before the run, as an earlier model folder with this extra
# file: retraining replaces the whole folder.
EARLIER_MODEL_FILE = "earlier_notes.txt"


def run_train_py(*arguments, timeout=600, environment=None):
    """`python train.py ARGUMENTS` in a subprocess, as a user runs it, with `environment` added to this
    process's: a CompletedProcess."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "train.py"), *map(str, arguments)],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", **(environment or {})},
    )


@pytest.fixture(scope="session")
def training_run(tmp_path_factory):
    """The finished run: its model folder and what train.py printed."""
    from datasets import write_class_folders

    workspace = tmp_path_factory.mktemp("training")
    data = write_class_folders(workspace / "paintings", per_style=24)
    folder = workspace / "model"
    folder.mkdir()
    for name in ("config.json", "model.keras", EARLIER_MODEL_FILE):
        (folder / name).write_text("from an earlier run")
    result = run_train_py("--data", data, "--output", folder, *TRAINING_ARGUMENTS)
    assert result.returncode == 0, result.stderr[-3000:]
    return folder, result


@pytest.fixture(scope="session")
def trained_model_folder(training_run):
    return training_run[0]


# --- The live app: one `python app.py` server per session, shared by the API and browser tests. ---

# The folder the live app serves: a trained model, so that its answers and examples mean something.
APP_MODEL_FIXTURE = "trained_model_folder"


@pytest.fixture(scope="session")
def app_model_folder(request):
    return request.getfixturevalue(APP_MODEL_FIXTURE)


@pytest.fixture(scope="session")
def live_app(app_model_folder, tmp_path_factory):
    """`python app.py --model FOLDER` listening on a free port of 127.0.0.1, for the whole session."""
    from live_app import start_app

    with start_app(app_model_folder, tmp_path_factory.mktemp("live_app")) as app:
        yield app


# --- The local Hub test server ---

# Valid bearer tokens of the local Hub and their users; any other token is refused like an expired one.
HUB_TOKENS = {"write-token": "alice", "other-token": "bob"}


@pytest.fixture
def start_hub(tmp_path_factory):
    """A factory: `start_hub(lfs=False, storage=None)` starts a local Hub on 127.0.0.1 and returns
    (server, client); every server it started is stopped after the test. A HubClient runs commands
    against it with a fresh HF_HOME (the cache) per call of the factory."""
    from hub_clients import HubClient
    from hub_server import HubServer

    servers = []

    def start(lfs=False, storage=None):
        server = HubServer(storage or tmp_path_factory.mktemp("hub_storage"), HUB_TOKENS, lfs=lfs).start()
        servers.append(server)
        return server, HubClient(server.url, tmp_path_factory.mktemp("hf_home"), lfs)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(params=["regular", "lfs"])
def hub(request, start_hub):
    """(server, client) for a local Hub in each upload mode: regular git files, and LFS (with Xet off)."""
    return start_hub(lfs=request.param == "lfs")
