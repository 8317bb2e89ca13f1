"""`python -m artnet.cli.classify` as a user runs it: a nested folder of paintings mixed with bad files, the CSV,
exit codes, resuming an interrupted run, and shards that together cover every file once."""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from artnet.serve.batch import find_files, in_shard

from conftest import ROOT, SHARED_PAINTINGS
from synthetic import STYLES, painting, wall_photo

pytestmark = pytest.mark.slow

# (file in the collection, what its error says); the good paintings have an empty error.
BAD_FILES = {
    "letters/notes.jpg": "not an image ArtNet can read",
    "letters/cut.jpg": "truncated or corrupt",
    "empty.png": "is empty",
    "scans/tiny.png": "too small",
    "scans/huge.png": "too large",
}


def classify(*arguments, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "artnet.cli.classify", *map(str, arguments)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ROOT},
    )


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """A nested folder: real paintings where ../shared has them (else generated ones), and bad files."""
    root = tmp_path_factory.mktemp("collection")
    real = sorted(Path(SHARED_PAINTINGS).glob("*/*.jpg"))[::500] if Path(SHARED_PAINTINGS).is_dir() else []
    for source in real:
        (root / "real" / source.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(source, root / "real" / source.parent.name / source.name)
    for number, style in enumerate(STYLES):
        (root / "made" / style).mkdir(parents=True)
        painting(style, seed=number, size=(90 + number, 70)).save(root / "made" / style / f"{number}.png")
    for name in BAD_FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / "letters/notes.jpg").write_text("Dear Theo,")
    painting("noise", size=(200, 150)).save(root / "letters/cut.jpg", quality=95)
    (root / "letters/cut.jpg").write_bytes((root / "letters/cut.jpg").read_bytes()[:2000])
    (root / "empty.png").write_bytes(b"")
    Image.new("RGB", (5, 40)).save(root / "scans/tiny.png")
    Image.new("L", (8200, 8000)).save(root / "scans/huge.png")
    (root / "README.txt").write_text("not a painting, and not named like one: left out")
    return root


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_a_nested_folder_with_bad_files_gets_a_row_each_and_exit_code_1(collection, untrained_model_folder, tmp_path):
    result = classify(collection, "--model", untrained_model_folder, "--csv", tmp_path / "out.csv", "--batch-size", "4")
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    rows = read_rows(tmp_path / "out.csv")
    files = find_files([str(collection)])
    assert [row["path"] for row in rows] == files and not any(path.endswith("README.txt") for path in files)
    labels = ["Cubism", "Impressionism", "Expressionism", "Realism", "Abstract"]
    assert list(rows[0]) == [
        "path",
        "movement",
        "probability",
        "in_scope",
        "scope_score",
        "movements",
        "cropped",
        "corners",
        *labels,
        "error",
    ]
    for row in rows:
        bad = os.path.relpath(row["path"], collection)
        if bad in BAD_FILES:
            assert BAD_FILES[bad] in row["error"] and "\n" not in row["error"] and row["movement"] == ""
        else:
            assert row["error"] == "" and row["movement"] in labels
            assert sum(float(row[label]) for label in labels) == pytest.approx(1.0, abs=1e-4)
            assert float(row["probability"]) == max(float(row[label]) for label in labels)
            # A model folder without prediction sets or a scope score answers its top movement, in scope.
            assert (row["movements"], row["in_scope"], row["scope_score"]) == (row["movement"], "true", "")
            # Nor does it look for paintings in photos: every image is classified whole.
            assert (row["cropped"], row["corners"]) == ("false", "")
    assert (
        f"Classified {len(rows) - len(BAD_FILES)} of {len(rows)} files; {len(BAD_FILES)} could not be" in result.stderr
    )


def test_good_paintings_alone_exit_0_and_without_csv_print_a_table(collection, untrained_model_folder):
    result = classify(collection / "made", "--model", untrained_model_folder)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(STYLES) and all("\t" in line and line.endswith("%)") for line in lines)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["{tmp}/nowhere"], "There is no file or folder at"),
        (["{collection}", "--model", "{tmp}/no_model"], "There is no model folder at"),
        (["{collection}", "--shard", "3/3"], "--shard 3/3: I must be from 0 to N-1"),
        (["{collection}", "--resume"], "--resume needs --csv OUT"),
        (["{collection}", "--csv", "{tmp}/exists.csv"], "exists: add --resume to go on from its rows"),
    ],
)
def test_a_usage_error_is_one_line_and_exit_code_2(arguments, message, collection, tmp_path):
    (tmp_path / "exists.csv").write_text("path\n")
    result = classify(*[argument.format(tmp=tmp_path, collection=collection) for argument in arguments])
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_an_interrupted_run_resumes_from_its_csv(collection, untrained_model_folder, tmp_path):
    output = tmp_path / "out.csv"
    assert classify(collection / "made", "--model", untrained_model_folder, "--csv", output).returncode == 0
    complete = read_rows(output)
    # What a kill leaves: the first rows written whole, the next one cut short.
    lines = output.read_text().splitlines(keepends=True)
    output.write_text("".join(lines[:3]) + lines[3][:20])
    result = classify(collection / "made", "--model", untrained_model_folder, "--csv", output, "--resume")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = read_rows(output)
    assert sorted(row["path"] for row in rows) == sorted(row["path"] for row in complete)
    by_path = {row["path"]: row for row in complete}
    for row in rows:
        assert float(row["probability"]) == pytest.approx(float(by_path[row["path"]]["probability"]), abs=1e-5)


def test_shards_cover_every_file_exactly_once(collection, untrained_model_folder, tmp_path):
    files = find_files([str(collection)])
    shares = [[path for path in files if in_shard(path, index, 3)] for index in range(3)]
    assert sorted(path for share in shares for path in share) == sorted(files)
    assert all(shares)
    result = classify(collection, "--model", untrained_model_folder, "--csv", tmp_path / "shard.csv", "--shard", "1/3")
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert [row["path"] for row in read_rows(tmp_path / "shard.csv")] == shares[1]


@pytest.fixture(scope="module")
def finding_model_folder(untrained_model_folder, tmp_path_factory):
    """The untrained model folder, declared to look for paintings in photos as the real model does."""
    from artnet.data.way_in import WayIn

    folder = tmp_path_factory.mktemp("finding") / "model"
    shutil.copytree(untrained_model_folder, folder)
    config = json.loads((folder / "config.json").read_text())
    config["way_in"] = WayIn(config["image_size"]).as_config()
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Phone photos of paintings on a wall, and the painting's true corners in each."""
    folder = tmp_path_factory.mktemp("photos")
    corners = {}
    for number, style in enumerate(("stripes", "noise")):
        photo, corners[str(folder / f"photo_{number}.jpg")] = wall_photo(
            painting(style, seed=number, size=(400, 300)), seed=number
        )
        photo.save(folder / f"photo_{number}.jpg", quality=90)
    return folder, corners


def test_photos_get_the_painting_found_in_them_and_whole_gets_the_whole_images(photos, finding_model_folder, tmp_path):
    folder, truth = photos
    result = classify(folder, "--model", finding_model_folder, "--csv", tmp_path / "found.csv")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = read_rows(tmp_path / "found.csv")
    assert sorted(row["path"] for row in rows) == sorted(truth)
    for row in rows:
        assert row["cropped"] == "true"
        corners = [float(number) for number in row["corners"].split(" ")]
        assert len(corners) == 8
        # The painting, or its frame's outer edge (2.5 % of the photo's width outside it).
        assert max(abs(a - b) for a, b in zip(corners, truth[row["path"]].flatten())) < 40, row["corners"]
    table = classify(folder, "--model", finding_model_folder)
    assert table.returncode == 0 and table.stdout.count(", the painting found in the photo)") == len(truth)

    result = classify(folder, "--model", finding_model_folder, "--csv", tmp_path / "whole.csv", "--whole")
    assert result.returncode == 0, result.stderr[-2000:]
    assert {(row["cropped"], row["corners"]) for row in read_rows(tmp_path / "whole.csv")} == {("false", "")}


def test_a_csv_from_before_the_cropping_resumes_only_where_it_means_the_same(
    photos, untrained_model_folder, finding_model_folder, tmp_path
):
    """Its rows are of whole images: kept for a model that classifies whole images (or with --whole), refused
    in one line for one that would classify the paintings found in the photos."""
    folder, truth = photos
    first, *_ = sorted(truth)
    labels = ["Cubism", "Impressionism", "Expressionism", "Realism", "Abstract"]
    old_columns = ["path", "movement", "probability", "in_scope", "scope_score", "movements", *labels, "error"]
    old_row = [first, "Realism", "0.400000", "true", "", "Realism", "0.1", "0.2", "0.1", "0.4", "0.2", ""]
    output = tmp_path / "old.csv"
    output.write_text(",".join(old_columns) + "\n" + ",".join(old_row) + "\n")

    refused = classify(folder, "--model", finding_model_folder, "--csv", output, "--resume")
    # One line of ours, after whatever TensorFlow says as it loads the model.
    said = refused.stderr.strip().splitlines()[-1]
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert said.startswith("python -m artnet.cli.classify: ") and "written before ArtNet looked for paintings" in said
    assert "Resume with --whole" in said
    assert output.read_text().startswith("path,movement,probability,in_scope,scope_score,movements,Cubism")

    result = classify(folder, "--model", untrained_model_folder, "--csv", output, "--resume")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = {row["path"]: row for row in read_rows(output)}
    assert sorted(rows) == sorted(truth)
    # The earlier row is kept as it was, with the columns it lacked filled in.
    assert (rows[first]["movement"], rows[first]["probability"]) == ("Realism", "0.400000")
    assert all((row["cropped"], row["corners"]) == ("false", "") for row in rows.values())
