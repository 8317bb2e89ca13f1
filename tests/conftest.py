import os

# Quiet TensorFlow's C++ start-up chatter; set before any test imports TensorFlow.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# train.py keeps the backbone's features of each painting in $XDG_CACHE_HOME/artnet: the tests' own, kept
# between runs on a developer's machine (a cache is used only by a run that would compute the same).
os.environ["XDG_CACHE_HOME"] = os.path.join(ROOT, "test-output", "cache")
# What every machine of this project and CI have beside the checkout: real paintings and real weights.
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
SHARED_PAINTINGS = os.path.join(SHARED, "paintings")
MOBILENET_WEIGHTS = os.path.join(SHARED, "weights", "mobilenet_0.75_imagenet_notop.weights.h5")
requires_shared_paintings = pytest.mark.skipif(
    not os.path.isdir(SHARED_PAINTINGS),
    reason=f"no real paintings at {SHARED_PAINTINGS} (../shared beside the checkout)",
)
requires_shared_weights = pytest.mark.skipif(
    not os.path.isfile(MOBILENET_WEIGHTS), reason=f"no MobileNet ImageNet weights at {MOBILENET_WEIGHTS}"
)

from artnet.styles import MOVEMENTS  # noqa: E402


@pytest.fixture(scope="session")
def untrained_model_folder(tmp_path_factory):
    """A real DenseNet-121 model folder at 64 x 64 with random weights: fast to build, same code path."""
    import keras

    from artnet.model.network import build_model, save_folder

    # Seeded, so that every run tests the same random network.
    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("untrained_model")
    save_folder(build_model(len(MOVEMENTS), image_size=64, backbone_weights=None), folder, MOVEMENTS)
    return folder


@pytest.fixture(scope="session")
def classifier(untrained_model_folder):
    from artnet.serve.classifier import Classifier

    return Classifier.from_folder(untrained_model_folder)


# --- Training: one real `python train.py` run per session, on generated paintings. ---

# Small enough for 2 CPU cores (about 2 minutes), large enough that validation accuracy ends well above
# chance (0.2): 24 paintings per movement at 64 x 64, the reference DenseNet-121 trained from random weights.
TRAINING_ARGUMENTS = (
    "--backbone",
    "densenet121",
    "--head",
    "reference",
    "--image-size",
    "64",
    "--epochs",
    "3",
    "--batch-size",
    "16",
    "--backbone-weights",
    "none",
    "--freeze",
    "all",
    "--learning-rate",
    "1e-3",
    "--halve-learning-rate-every",
    "100",
    "--label-smoothing",
    "0",
)


# The training fixture's model folder exists before the run, as an earlier model folder with this extra
# file: retraining replaces the whole folder.
EARLIER_MODEL_FILE = "earlier_notes.txt"


def run_train_py(*arguments, environment=None):
    """`python train.py ARGUMENTS` in a subprocess, as a user runs it, with `environment` added to this
    process's: a CompletedProcess. No timeout of its own: machines differ several times in speed, and a
    limit that fits one fails a correct run on another; CI's limit on the whole run is the backstop."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "train.py"), *map(str, arguments)],
        capture_output=True,
        text=True,
        cwd=ROOT,
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


# --- The real model: `python train.py` with its defaults on the real paintings, as the README says. ---

# What the tests' real training does unlike the Quick start: the faithfulness of the maps is measured on
# fewer test paintings (5 per movement instead of 10), which is what the tests assert on; everything else
# is the Quick start's command.
REAL_TRAINING_EXTRA_ARGUMENTS = ("--faithfulness-paintings", "25")


def quick_start_training_arguments():
    """The arguments of train.py in the README's Quick start command, which the real model is trained with.
    Its paths are relative to the checkout, as run_train_py runs train.py from there."""
    import re
    import shlex

    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as file:
        command = re.search(r"<!-- quick-start -->\n```bash\n(.*?)```", file.read(), re.DOTALL).group(1)
    step = next(step for step in command.split("&&") if "train.py" in step)
    words = shlex.split(step)
    return words[[word.endswith("train.py") for word in words].index(True) + 1 :]


@pytest.fixture(scope="session")
def real_training_run(tmp_path_factory):
    """The finished run on ../shared/paintings: its model folder and what train.py printed."""
    if not (os.path.isdir(SHARED_PAINTINGS) and os.path.isfile(MOBILENET_WEIGHTS)):
        pytest.skip(f"no real paintings and weights in {SHARED} (../shared beside the checkout)")
    folder = tmp_path_factory.mktemp("real") / "model"
    result = run_train_py(*quick_start_training_arguments(), *REAL_TRAINING_EXTRA_ARGUMENTS, "--output", folder)
    assert result.returncode == 0, result.stderr[-3000:]
    return folder, result


@pytest.fixture(scope="session")
def real_model_folder(real_training_run):
    return real_training_run[0]


# --- The live app: one `python app.py` server per session, shared by the API and browser tests. ---


@pytest.fixture(scope="session")
def app_model_folder(request):
    """The folder the live app serves: the real model where ../shared has the paintings, else the model
    trained on generated paintings; a trained model either way, so that answers and examples mean something."""
    if os.path.isdir(SHARED_PAINTINGS) and os.path.isfile(MOBILENET_WEIGHTS):
        return request.getfixturevalue("real_model_folder")
    return request.getfixturevalue("trained_model_folder")


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
