"""train.py end to end, as a user runs it: data in, a complete model folder out; errors in one line;
an interrupted run resumed from its last finished epoch."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from artnet.styles import MOVEMENTS

from conftest import EARLIER_MODEL_FILE, ROOT, TRAINING_ARGUMENTS, run_train_py
from datasets import MOVEMENT_OF_STYLE, write_class_folders, write_painter_by_numbers
from synthetic import OUT_OF_SCOPE_STYLES, STYLES, out_of_scope_image, painting


@pytest.mark.slow
def test_the_run_reports_its_data_and_learns_well_above_chance(training_run):
    folder, result = training_run
    output = result.stdout
    assert "Data: one folder per class, 121 paintings in 5 movements." in output
    assert "Left out: 3 with unmapped style; most common unmapped styles: Baroque (3)." in output
    assert "Skipped 1 paintings that could not be decoded" in output and "corrupt.jpg" in output
    assert "Epoch 3/3" in output
    metrics = json.loads((folder / "metrics.json").read_text())
    # Chance is 0.2 for five balanced movements.
    assert metrics["training"]["best_val_accuracy"] >= 0.6
    assert metrics["test"]["accuracy"] >= 0.6 and metrics["test_tta"]["accuracy"] >= 0.6
    assert f"Test accuracy {metrics['test']['accuracy']:.2%}" in output
    assert metrics["counts"]["skipped"] == {"unmapped style": 3, "undecodable file": 1}
    assert sum(metrics["counts"]["test"].values()) == sum(sum(row) for row in metrics["test"]["confusion_matrix"])
    assert set(metrics["test"]["per_class"]) == set(MOVEMENTS)
    assert len(metrics["history"]["val_accuracy"]) == 3


@pytest.mark.slow
def test_the_model_folder_is_complete_and_serves_in_the_classifier(trained_model_folder):
    from artnet.serve.classifier import Classifier

    folder = trained_model_folder
    for name in (
        "model.keras",
        "config.json",
        "metrics.json",
        "README.md",
        "plots/training_curves.png",
        "plots/confusion_matrix.png",
        "plots/most_wrong.png",
        "plots/deletion.png",
        "examples/index.json",
    ):
        assert (folder / name).is_file() and (folder / name).stat().st_size > 0, name
    assert not [name for name in os.listdir(folder.parent) if name.startswith(".") or name.endswith(".run")]
    index = json.loads((folder / "examples" / "index.json").read_text())
    assert sorted(example["label"] for example in index) == sorted(MOVEMENTS * 2)
    card = (folder / "README.md").read_text()
    assert card.startswith("---\n") and "library_name: keras" in card and "pipeline_tag: image-classification" in card

    # The maps' faithfulness, measured on the test split: every method at every depth, and the view the app
    # opens on is the one that did best.
    faithfulness = json.loads((folder / "metrics.json").read_text())["faithfulness"]
    layers = [layer["name"] for layer in json.loads((folder / "config.json").read_text())["gradcam_layers"]]
    assert {method: list(rows) for method, rows in faithfulness["methods"].items()} == {
        method: layers for method in ("Grad-CAM", "Grad-CAM++", "LayerCAM", "HiResCAM")
    }
    assert faithfulness["paintings"] + faithfulness["left_out_without_maps"] > 0
    best = faithfulness["most_faithful"]
    assert "| method | depth | deletion ↓ |" in card and f"| {best['method']} ★ |" in card

    classifier = Classifier.from_folder(folder)
    assert classifier.most_faithful == best
    assert classifier.labels == list(MOVEMENTS) and classifier.config["image_size"] == 64
    # Paintings it has never seen, 4 per style: well above chance (0.2) again.
    right = sum(
        max((answer := classifier.classify(painting(style, seed=50_000 + index))), key=answer.get)
        == MOVEMENT_OF_STYLE[style]
        for style in STYLES
        for index in range(4)
    )
    assert right >= 12


@pytest.mark.slow
def test_the_run_learns_to_answer_none_of_these_from_the_out_of_scope_folder_beside_the_data(training_run):
    from artnet.serve.classifier import Classifier

    folder, result = training_run
    assert "Out of scope: 24 images in 2 categories." in result.stdout
    config = json.loads((folder / "config.json").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())
    assert config["scope"]["threshold"] == metrics["out_of_scope"]["threshold"]
    assert config["prediction_sets"]["coverage"] == 0.9 == metrics["prediction_sets"]["coverage"]
    test = metrics["out_of_scope"]["test"]
    assert test["images"] == 6 and set(test["per_category"]) == {"Rings", "Diagonal bands"}
    assert test["far"]["images"] == test["near"]["images"] == 3
    assert f"Scope: AUROC {test['auroc']:.3f}" in result.stdout
    assert (folder / "plots" / "scope.png").stat().st_size > 10_000
    # New images of both kinds, and new paintings of every style: most get the right kind of answer.
    classifier = Classifier.from_folder(folder)
    others = [out_of_scope_image(style, seed=70_000 + index) for style in OUT_OF_SCOPE_STYLES for index in range(4)]
    paintings = [painting(style, seed=60_000 + index) for style in STYLES for index in range(4)]
    assert sum(not classifier.answer(image).in_scope for image in others) >= 6
    answers = [classifier.answer(image) for image in paintings]
    assert sum(answer.in_scope for answer in answers) >= 14
    assert all(answer.movements[0] == max(answer.probabilities, key=answer.probabilities.get) for answer in answers)


@pytest.mark.slow
def test_retraining_replaces_the_earlier_model_folder(trained_model_folder):
    # The training fixture trains into an earlier model folder that holds one more file.
    assert not (trained_model_folder / EARLIER_MODEL_FILE).exists()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--data", "{tmp}/nowhere"], "error: There is no data folder at"),
        (["--data", "{tmp}/empty"], "error: No usable paintings in"),
        (["--data", "{tmp}/scarce"], "error: Impressionism has only 2 painting(s)"),
        (["--data", "{tmp}/scarce", "--image-size", "16"], "error: --image-size must be at least 32"),
        (["--data", "{tmp}/scarce", "--backbone-weights", "{tmp}/missing.h5"], "is not a file; use imagenet, none"),
        (["--data", "{tmp}/scarce", "--resume"], "error: There is no interrupted run to resume"),
        (["--data", "{tmp}/scarce", "--tag", "v1"], "error: --private and --tag only apply with --push-to-hub"),
        # The names are read in any case, not taken for paths: the run goes on to the data.
        (["--data", "{tmp}/scarce", "--backbone-weights", "ImageNet"], "error: Impressionism has only 2 painting(s)"),
        (["--data", "{tmp}/scarce", "--backbone-weights", "NONE"], "error: Impressionism has only 2 painting(s)"),
        # argparse's own errors: one line too, not the usage block.
        (
            ["--data", "{tmp}/scarce", "--epochs", "abc"],
            "train.py: error: argument --epochs: invalid int value: 'abc' (see --help)",
        ),
        (
            ["--data", "{tmp}/scarce", "--freeze", "most"],
            "error: --freeze most is not a policy of mobilenet_0.75; choose one of head, block13, block12, all.",
        ),
        (
            ["--data", "{tmp}/scarce", "--backbone", "resnet50"],
            "error: --backbone 'resnet50' is not known; choose one of densenet121, mobilenet_0.75.",
        ),
        (
            ["--data", "{tmp}/scarce", "--views", "whole,zoomed"],
            "error: --views takes a comma-separated list of whole, ",
        ),
        (["--data", "{tmp}/scarce", "--head", "wide"], "train.py: error: argument --head: invalid choice: 'wide'"),
        (
            ["--data", "{tmp}/scarce", "--mix-collections", "1.5"],
            "error: --mix-collections is a probability, from 0 to 1, not 1.5.",
        ),
        (
            ["--data", "{tmp}/scarce", "--collection-weights", "equal"],
            "train.py: error: argument --collection-weights: invalid choice: 'equal'",
        ),
        (
            ["--data", "{tmp}/scarce", "--faithfulness-paintings", "0"],
            "error: --faithfulness-paintings must be at least 1, not 0.",
        ),
        (
            ["--data", "{tmp}/scarce", "--backbone", "densenet121", "--backbone-weights", "{tmp}/other.weights.h5"],
            "error: --backbone-weights {tmp}/other.weights.h5 does not fit --backbone densenet121: it holds 1 tensors",
        ),
        (["--epochs", "3"], "train.py: error: the following arguments are required: --data (see --help)"),
        (
            ["--data", "{tmp}/scarce", "--coverage", "1.5"],
            "error: --coverage is a share of paintings, between 0 and 1, not 1.5.",
        ),
        (
            ["--data", "{tmp}/scarce", "--out-of-scope", "{tmp}/nowhere"],
            "error: There is no out-of-scope folder at '{tmp}/nowhere'; give another --out-of-scope, or none.",
        ),
        (
            ["--data", "{tmp}/scarce", "--out-of-scope", "{tmp}/empty"],
            "has no images in subfolders (one per category, such as Baroque/); give another --out-of-scope, or none.",
        ),
    ],
)
def test_bad_options_and_data_end_at_once_in_one_line(arguments, message, tmp_path):
    (tmp_path / "empty").mkdir()
    with h5py.File(tmp_path / "other.weights.h5", "w") as weights:  # the weights of some other network
        weights["layers/conv2d/vars/0"] = np.zeros((3, 3, 3, 32), np.float32)
    write_class_folders(tmp_path / "scarce", per_style=2)
    result = run_train_py(*[argument.format(tmp=tmp_path) for argument in arguments], "--output", tmp_path / "model")
    assert result.returncode == 2
    assert message.format(tmp=tmp_path) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize(
    "output, message",
    [
        ("{tmp}/data", "error: --output {tmp}/data is the data folder or inside it; give a folder outside the data."),
        ("{tmp}/data/Cubism/models", "error: --output {tmp}/data/Cubism/models is the data folder or inside it"),
        ("{tmp}", "error: --output {tmp} contains the data folder {tmp}/data; give a folder outside the data."),
        ("{tmp}/notes", "error: --output {tmp}/notes holds files but is no ArtNet model folder"),
        ("{tmp}/notes/todo.txt", "error: --output {tmp}/notes/todo.txt is a file"),
    ],
)
def test_an_output_that_would_destroy_other_files_is_refused_at_once(output, message, tmp_path):
    # Too few paintings to train on: were the output let through, the run would end at the data instead.
    data = write_class_folders(tmp_path / "data", per_style=2)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("mine")
    files_before = sorted(tmp_path.rglob("*"))
    result = run_train_py("--data", data, "--output", output.format(tmp=tmp_path))
    assert result.returncode == 2
    assert message.format(tmp=tmp_path) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert sorted(tmp_path.rglob("*")) == files_before
    assert (tmp_path / "notes" / "todo.txt").read_text() == "mine"


@pytest.mark.slow
def test_imagenet_weights_out_of_reach_name_the_other_choices(tmp_path):
    write_class_folders(tmp_path / "data", per_style=3)
    # No proxy listens on port 9: the download fails at once, as on a machine without network.
    environment = {
        "https_proxy": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "KERAS_HOME": str(tmp_path / "keras"),
    }
    result = run_train_py(
        "--data", tmp_path / "data", "--output", tmp_path / "model", "--image-size", "32", environment=environment
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "--backbone-weights none" in result.stderr and "PATH" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_killed_run_resumes_from_its_last_finished_epoch_with_the_same_schedule(tmp_path):
    data = write_painter_by_numbers(tmp_path / "pbn", per_style=16)
    output = tmp_path / "model"
    # One view a painting: this test follows epochs and the schedule, not accuracy.
    arguments = [
        "--data",
        data,
        "--output",
        output,
        *TRAINING_ARGUMENTS,
        "--halve-learning-rate-every",
        "1",
        "--run-eagerly",
        "--views",
        "whole",
    ]
    state_path = tmp_path / "model.run" / "state.json"
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    run = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "train.py"), *map(str, arguments)],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # No deadline: a slow machine takes its time, and a run that stops early fails here at once.
        while not (state_path.is_file() and json.loads(state_path.read_text())["epochs_done"] >= 1):
            assert run.poll() is None, "train.py ended before its first epoch"
            time.sleep(0.5)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    killed_state = json.loads(state_path.read_text())
    assert killed_state["epochs_done"] == 1
    assert not output.exists()

    # Forgetting --resume must not throw the finished epoch away.
    result = run_train_py(*arguments)
    assert result.returncode == 2
    assert (
        f"error: An interrupted run of {output} is in {tmp_path / 'model.run'}: continue it with --resume"
        in result.stderr
    )
    assert json.loads(state_path.read_text()) == killed_state

    # A different option on the command line: the interrupted run's value is kept, and the run says so.
    result = run_train_py(*arguments, "--label-smoothing", "0.1", "--resume")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Resuming the run in {tmp_path / 'model.run'} after epoch 1 of 3." in result.stdout
    assert (
        "Resuming with the interrupted run's options, not the command line's: --label-smoothing 0.0 (not 0.1)."
        in result.stdout
    )
    # The features that the killed run computed are used again, not computed anew.
    assert "Using the cached features in" in result.stdout and "Cached the features" not in result.stdout
    assert "Data: Painter by Numbers (all_data_info.csv)" in result.stdout
    # The trained model and its optimizer are restored, not built afresh (which would have taken 0 steps).
    restored = re.search(
        r"Restored the model of epoch 1 with its optimizer state \((\d+) training steps done\)", result.stdout
    )
    assert restored and int(restored.group(1)) > 0
    assert "Epoch 2/3" in result.stdout and "Epoch 1/3" not in result.stdout
    metrics = json.loads((output / "metrics.json").read_text())
    assert metrics["training"]["epochs_run"] == 3 and metrics["training"]["label_smoothing"] == 0.0
    # The history goes on from the killed run's first epoch.
    assert metrics["history"]["loss"][0] == killed_state["history"]["loss"][0]
    assert len(metrics["history"]["loss"]) == 3
    # The rate halves every epoch, counted from the start of the run, not from the resume.
    assert metrics["history"]["learning_rate"] == pytest.approx([1e-3, 5e-4, 2.5e-4])
    assert not (tmp_path / "model.run").exists()
