import os
import subprocess
import sys

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


# --- The two trainings of a session: started in the background before the first test, awaited by the
# tests that need them, which run last. Both are `python train.py`, as a user runs it. ---

# Small enough for 2 CPU cores (a few minutes), large enough that validation accuracy ends well above
# chance (0.2): 24 paintings per movement at 64 x 64, the reference DenseNet-121 trained from random weights.
TRAINING_ARGUMENTS = tuple(
    "--backbone densenet121 --head reference --image-size 64 --epochs 3 --batch-size 16 --backbone-weights none "
    "--freeze all --learning-rate 1e-3 --halve-learning-rate-every 100 --label-smoothing 0".split()
)

# The training fixture's model folder exists before the run, as an earlier model folder with this extra
# file: retraining replaces the whole folder.
EARLIER_MODEL_FILE = "earlier_notes.txt"

# What the tests' real training does unlike the Quick start: the faithfulness of the maps is measured on
# fewer test paintings (5 per movement instead of 10), which is what the tests assert on; everything else
# is the Quick start's command.
REAL_TRAINING_EXTRA_ARGUMENTS = ("--faithfulness-paintings", "25")

# The fixtures through which a test needs each training. The live app serves the real model where
# ../shared has the paintings, else the generated one.
GENERATED_TRAINING_FIXTURES = {"training_run", "trained_model_folder"}
REAL_TRAINING_FIXTURES = {"real_training_run", "real_model_folder"}
APP_FIXTURES = {"app_model_folder", "live_app"}


def train_py_command(*arguments):
    return [sys.executable, os.path.join(ROOT, "train.py"), *map(str, arguments)]


def train_py_environment(environment=None):
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", **(environment or {})}


def run_train_py(*arguments, environment=None):
    """`python train.py ARGUMENTS` in a subprocess, as a user runs it, with `environment` added to this
    process's: a CompletedProcess. No timeout of its own: machines differ several times in speed, and a
    limit that fits one fails a correct run on another; CI's limit on the whole run is the backstop."""
    return subprocess.run(
        train_py_command(*arguments), capture_output=True, text=True, cwd=ROOT, env=train_py_environment(environment)
    )


class BackgroundTraining:
    """`python train.py ARGUMENTS` started now, its output kept in files beside `folder`, the model folder it
    writes; `result()` waits for it like run_train_py, with no timeout either."""

    def __init__(self, folder, *arguments):
        self.folder = folder
        self.output = {name: folder.parent / f"train_py.{name}" for name in ("stdout", "stderr")}
        with open(self.output["stdout"], "w") as stdout, open(self.output["stderr"], "w") as stderr:
            self.process = subprocess.Popen(
                train_py_command(*arguments, "--output", folder),
                stdout=stdout,
                stderr=stderr,
                cwd=ROOT,
                env=train_py_environment(),
            )

    def result(self):
        returncode = self.process.wait()
        texts = {name: path.read_text(errors="replace") for name, path in self.output.items()}
        return subprocess.CompletedProcess(self.process.args, returncode, texts["stdout"], texts["stderr"])

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def needed_trainings(item):
    """Which of the session's trainings a test needs: a subset of {"generated", "real"}."""
    names = set(item.fixturenames)
    names |= {
        value for value in getattr(getattr(item, "callspec", None), "params", {}).values() if isinstance(value, str)
    }
    needed = {"generated"} if names & GENERATED_TRAINING_FIXTURES else set()
    if names & REAL_TRAINING_FIXTURES and have_shared_data():
        needed.add("real")
    if names & APP_FIXTURES:
        needed.add("real" if have_shared_data() else "generated")
    return needed


def have_shared_data():
    return os.path.isdir(SHARED_PAINTINGS) and os.path.isfile(MOBILENET_WEIGHTS)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """The tests that wait for a training run after all the others, the real model's last: the trainings
    go on in the background while the others run."""
    items.sort(key=lambda item: (len(needed_trainings(item)), "real" in needed_trainings(item)))


@pytest.fixture(scope="session", autouse=True)
def background_trainings(request, tmp_path_factory):
    """{"generated" | "real": BackgroundTraining} of the trainings that the selected tests need, started
    before the first test; a session whose tests need none starts none."""
    needed = (
        set().union(*(needed_trainings(item) for item in request.session.items)) if request.session.items else set()
    )
    started = {}
    if "generated" in needed:
        from datasets import write_class_folders, write_out_of_scope

        workspace = tmp_path_factory.mktemp("training")
        data = write_class_folders(workspace / "paintings", per_style=24)
        # Beside the data, where train.py looks for the images that teach "none of these" by default.
        write_out_of_scope(workspace / "out_of_scope")
        folder = workspace / "model"
        folder.mkdir()
        for name in ("config.json", "model.keras", EARLIER_MODEL_FILE):
            (folder / name).write_text("from an earlier run")
        started["generated"] = BackgroundTraining(folder, "--data", data, *TRAINING_ARGUMENTS)
    if "real" in needed:
        folder = tmp_path_factory.mktemp("real") / "model"
        started["real"] = BackgroundTraining(folder, *quick_start_training_arguments(), *REAL_TRAINING_EXTRA_ARGUMENTS)
    yield started
    for training in started.values():
        training.stop()


@pytest.fixture(scope="session")
def training_run(background_trainings):
    """The finished run on generated paintings: its model folder and what train.py printed."""
    training = background_trainings["generated"]
    result = training.result()
    assert result.returncode == 0, result.stderr[-3000:]
    return training.folder, result


@pytest.fixture(scope="session")
def trained_model_folder(training_run):
    return training_run[0]


# --- The real model: `python train.py` with its defaults on the real paintings, as the README says. ---


def quick_start_training_arguments():
    """The arguments of train.py in the README's Quick start command, which the real model is trained with.
    Its paths are relative to the checkout, as train.py runs from there."""
    import re
    import shlex

    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as file:
        command = re.search(r"<!-- quick-start -->\n```bash\n(.*?)```", file.read(), re.DOTALL).group(1)
    step = next(step for step in command.split("&&") if "train.py" in step)
    words = shlex.split(step)
    return words[[word.endswith("train.py") for word in words].index(True) + 1 :]


@pytest.fixture(scope="session")
def real_training_run(background_trainings):
    """The finished run on ../shared/paintings: its model folder and what train.py printed."""
    if not have_shared_data():
        pytest.skip(f"no real paintings and weights in {SHARED} (../shared beside the checkout)")
    training = background_trainings["real"]
    result = training.result()
    assert result.returncode == 0, result.stderr[-3000:]
    return training.folder, result


@pytest.fixture(scope="session")
def real_model_folder(real_training_run):
    return real_training_run[0]


# --- The live app: one `python app.py` server per session, shared by the API and browser tests. ---


@pytest.fixture(scope="session")
def app_model_folder(request):
    """The folder the live app serves: the real model where ../shared has the paintings, else the model
    trained on generated paintings; a trained model either way, so that answers and examples mean something."""
    if have_shared_data():
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
