"""The API examples of the docs, run as written against the live app: the gradio_client one in Python (in
README.md) and the HTTP one with curl and jq (in docs/api.md)."""

import contextlib
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from conftest import ROOT
from synthetic import painting

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

README_URL = "http://127.0.0.1:7860"


def captions(live_app, method=None):
    """The served model's overlays of a method (default: its most faithful one), as the examples print them."""
    config = json.loads((live_app.folder / "config.json").read_text())
    best = config["most_faithful"]
    method = method or best["method"]
    return [
        f"{method} · {layer['depth']} · {layer['name']}"
        + (" · most faithful" if (method, layer["name"]) == (best["method"], best["layer"]) else "")
        for layer in config["gradcam_layers"]
    ]


# Where the examples are written: the README keeps the Python one, docs/api.md the rest of the API.
EXAMPLE_FILES = ("README.md", "docs/api.md")


def readme_example(marker, files=EXAMPLE_FILES):
    """The code block that follows `<!-- marker -->` in the first of `files` (relative to the checkout)
    that has one."""
    for name in files:
        text = (Path(ROOT) / name).read_text(encoding="utf-8")
        found = re.search(rf"<!-- {marker} -->\n```\w+\n(.*?)```", text, re.DOTALL)
        if found:
            return found.group(1)
    raise AssertionError(f"none of {', '.join(files)} has an example after <!-- {marker} -->")


@pytest.fixture
def in_a_folder_with_painting_jpg(tmp_path, monkeypatch):
    """A working folder holding painting.jpg, the file the examples name."""
    painting("checkers", size=(160, 120)).save(tmp_path / "painting.jpg")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_python_example_answers_classifies_and_explains(live_app, in_a_folder_with_painting_jpg):
    code = readme_example("api-python").replace(README_URL, live_app.url.rstrip("/"))
    method = re.search(r'method="([^"]+)"', code).group(1)
    printed = io.StringIO()
    names = {}
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), names)
    answer = names["answer"]
    assert answer["movements"][0] == max(answer["probabilities"], key=answer["probabilities"].get)
    assert isinstance(answer["in_scope"], bool) and answer["in_words"]
    captioned = [line.rsplit(" ", 1) for line in printed.getvalue().splitlines() if " · " in line]
    # The overlays first, one per depth; then the closest training paintings, where the model has them.
    overlays, closest = captioned[: len(captions(live_app))], captioned[len(captions(live_app)) :]
    assert [caption for caption, _ in overlays] == captions(live_app, method)
    assert all(Image.open(path).size == (160, 120) for _, path in overlays)
    labels = json.loads((live_app.folder / "config.json").read_text())["labels"]
    assert len(closest) == (8 if (live_app.folder / "neighbours").is_dir() else 0)
    assert all(caption.split(" · ")[0] in labels and max(Image.open(path).size) <= 96 for caption, path in closest)


def run_curl_example(live_app):
    assert shutil.which("curl") and shutil.which("jq"), "the README's test command installs curl and jq"
    script = readme_example("api-curl").replace(README_URL, live_app.url.rstrip("/"))
    return subprocess.run(["bash", "-o", "pipefail", "-c", script], capture_output=True, text=True, timeout=120)


def test_the_curl_example_classifies_and_explains(live_app, in_a_folder_with_painting_jpg):
    result = run_curl_example(live_app)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('event: complete\ndata: [{"label": ')
    overlays = [line.split("\t") for line in result.stdout.splitlines() if "\t" in line]
    assert [caption for caption, _ in overlays] == captions(live_app)
    for _, url in overlays:
        jpeg = subprocess.run(["curl", "-sf", url], capture_output=True, check=True).stdout
        assert Image.open(io.BytesIO(jpeg)).size == (160, 120)


def test_the_curl_example_shows_the_message_for_a_bad_painting(live_app, in_a_folder_with_painting_jpg):
    (in_a_folder_with_painting_jpg / "painting.jpg").write_bytes(b"a shopping list, not a painting")
    result = run_curl_example(live_app)
    assert re.search(r"event: error\ndata: \{\"error\": \"[^\"]*not an image ArtNet can read", result.stdout)
