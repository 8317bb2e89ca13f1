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


# --- The live app: one `python app.py` server per session, shared by the API and browser tests. ---

# The folder the live app serves. When train.py's `trained_model_folder` fixture lands, name it here.
APP_MODEL_FIXTURE = "untrained_model_folder_with_examples"


@pytest.fixture(scope="session")
def untrained_model_folder_with_examples(untrained_model_folder, tmp_path_factory):
    """The untrained model folder plus examples/ of synthetic paintings, each labelled with the movement
    its style stands for. It has no metrics.json: this model was never evaluated."""
    import json
    import shutil

    from synthetic import STYLES, painting

    folder = tmp_path_factory.mktemp("app_model") / "model"
    shutil.copytree(untrained_model_folder, folder)
    (folder / "examples").mkdir()
    index = []
    for style, movement in zip(STYLES, MOVEMENTS):
        painting(style, seed=100, size=(320, 240)).save(folder / "examples" / f"{style}.jpg", quality=92)
        index.append({"file": f"{style}.jpg", "label": movement})
    (folder / "examples" / "index.json").write_text(json.dumps(index, indent=2))
    return folder


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
