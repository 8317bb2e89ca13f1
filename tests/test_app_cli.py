"""app.py's options and its one-line answers when there is no model to serve."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import app
from artnet.errors import UserError
from artnet.hub.pull import resolve_model
from artnet.model.folder import DEFAULT_MODEL_FOLDER, ModelSource

APP = Path(app.__file__).resolve()


def test_options_default_to_artnet_model_and_to_gradios_own_variables(monkeypatch):
    monkeypatch.setenv("ARTNET_MODEL", "someone/artnet@v1")
    options = app.parse_options([])
    assert (options.model, options.host, options.port, options.share) == ("someone/artnet@v1", None, None, False)
    options = app.parse_options(["--model", "here", "--host", "0.0.0.0", "--port", "8000", "--share"])
    assert (options.model, options.host, options.port, options.share) == ("here", "0.0.0.0", 8000, True)
    monkeypatch.setenv("ARTNET_MODEL", "")
    assert app.parse_options([]).model is None


def test_a_local_folder_or_the_default_folder_is_served(tmp_path, monkeypatch):
    assert resolve_model(str(tmp_path)) == ModelSource(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    os.makedirs(DEFAULT_MODEL_FOLDER)
    assert resolve_model(None).folder == DEFAULT_MODEL_FOLDER


@pytest.mark.parametrize(
    "spec, message",
    [
        (None, r"No model to serve: train one with `python train.py --data DIR`.* set ARTNET_MODEL=user/repo@revision"),
        ("models/nowhere/at/all", "There is no model folder at 'models/nowhere/at/all'"),
    ],
)
def test_without_a_model_the_message_says_how_to_get_one(spec, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match=message):
        resolve_model(spec)


def test_a_broken_model_folder_is_one_line_and_exit_code_2(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{not json")
    assert app.main(["--model", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "is not valid JSON" in error


def test_python_app_py_without_a_model_explains_in_one_line_and_exits_2(tmp_path):
    environment = {key: value for key, value in os.environ.items() if key != "ARTNET_MODEL"}
    environment["TF_CPP_MIN_LOG_LEVEL"] = "2"
    result = subprocess.run(
        [sys.executable, str(APP)], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("app.py: No model to serve: train one with `python train.py --data DIR`")
    assert result.stderr.count("\n") == 1


def test_an_incomplete_model_folder_is_refused_before_tensorflow_starts(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(
        json.dumps({"format_version": 1, "labels": ["Cubism"], "image_size": 64, "gradcam_layers": []})
    )
    # TensorFlow logs to stderr as it starts (unless told not to): one line means it never started.
    environment = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, str(APP), "--model", str(folder)], env=environment, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 2
    assert (
        result.stderr
        == f"app.py: The model folder '{folder}' has no model.keras; it is incomplete. Copy or download it again.\n"
    )
