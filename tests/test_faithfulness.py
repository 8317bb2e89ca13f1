import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from artnet.explain import faithfulness
from artnet.explain.cams import CAM_METHODS
from artnet.explain.faithfulness import CENTRE, RANDOM, Measurement, Views, area
from artnet.explain.faithfulness_report import summarise, table_lines
from artnet.explain.overlay import upsample_map

from conftest import ROOT

SIDE = 32


def test_the_area_is_the_mean_height_of_a_curve_over_equal_steps():
    assert area(np.full(9, 0.3)) == pytest.approx(0.3)
    assert area(np.linspace(1, 0, 9)) == pytest.approx(0.5)
    assert area([1.0, 0.0, 0.0, 0.0, 0.0]) == pytest.approx(0.125)


def test_each_step_removes_or_reveals_its_share_of_pixels_most_salient_first():
    saliency = np.arange(16, dtype=np.float32).reshape(4, 4) / 15  # bottom right most salient
    ranks = faithfulness.pixel_ranks(saliency, SIDE, np.random.default_rng(0))
    pixels, removed = np.full((SIDE, SIDE, 3), 200, np.uint8), np.zeros((SIDE, SIDE, 3), np.uint8)
    images = faithfulness.interior_steps(pixels, removed, ranks, steps=4)
    assert images.shape == (6, SIDE, SIDE, 3) and images.dtype == np.uint8
    deletion, insertion = images[:3], images[3:]
    for step, (deleted, inserted) in enumerate(zip(deletion, insertion), start=1):
        gone = deleted[..., 0] == 0
        assert gone.sum() == SIDE * SIDE * step // 4
        assert np.array_equal(gone, inserted[..., 0] == 200)
        # The most salient corner goes first, the least salient last.
        assert gone[-1, -1] and not gone[0, 0]


def test_pixels_that_a_map_ranks_equally_come_in_random_order():
    saliency = np.zeros((2, 2), np.float32)
    saliency[0, 0] = 1.0
    scaled = upsample_map(saliency, (16, 16))
    first = faithfulness.pixel_ranks(saliency, 16, np.random.default_rng(1))
    second = faithfulness.pixel_ranks(saliency, 16, np.random.default_rng(2))
    assert sorted(first.ravel()) == list(range(256))
    for ranks in (first, second):  # more salient pixels always come first
        assert (np.diff(scaled.ravel()[np.argsort(ranks.ravel())]) <= 0).all()
    assert not np.array_equal(first, second)


def patch_painting(seed, top=4, left=20):
    """A smooth field with a patch of fine checkers: the only detail that a blur removes."""
    rng = np.random.default_rng(seed)
    pixels = np.full((SIDE, SIDE, 3), rng.integers(60, 190), np.uint8)
    checkers = (np.indices((8, 8)).sum(axis=0) % 2 * 255).astype(np.uint8)
    pixels[top : top + 8, left : left + 8] = checkers[..., None]
    return pixels


def patch_map(top=4, left=20, grid=8):
    saliency = np.zeros((grid, grid), np.float32)
    scale = grid / SIDE
    saliency[int(top * scale) : int((top + 8) * scale), int(left * scale) : int((left + 8) * scale)] = 1.0
    return saliency


def detail_in_the_patch(images, class_index, top=4, left=20):
    """A stand-in for a model: the probability is the contrast left in the patch, so only the patch matters."""
    patch = images[:, top : top + 8, left : left + 8].astype(np.float32)
    return patch.std(axis=(1, 2, 3)) / 127.5


def test_a_map_on_the_evidence_beats_a_random_map_and_the_centre_blob():
    rng = np.random.default_rng(0)
    pixels = patch_painting(0)
    maps = [patch_map(), faithfulness.random_map(8, rng), faithfulness.centre_map(SIDE)]
    deletion, insertion = faithfulness.curves_of_painting(pixels, maps, 0, detail_in_the_patch, 8, rng)
    assert deletion.shape == insertion.shape == (3, 9)
    # Both curves start and end at the painting with everything or nothing removed.
    assert deletion[:, 0] == pytest.approx(detail_in_the_patch(pixels[None], 0)[0])
    assert np.allclose(deletion[:, -1], insertion[:, 0]) and np.allclose(insertion[:, -1], deletion[:, 0])
    patch, random, centre = area(deletion)
    assert patch < random and patch < centre
    patch, random, centre = area(insertion)
    assert patch > random and patch > centre


def test_a_random_map_of_one_side_is_measured_once_for_every_depth_and_the_coarse_ones_always():
    views = Views(("Grad-CAM",), ("early", "late", "final"), (56, 14, 7))
    randoms = [side for kind, side in views.keys if kind == RANDOM]
    assert randoms == [56, 14, 7] and views.keys[-1] == (CENTRE, None)
    assert [side for kind, side in Views(("Grad-CAM",), ("features",), (8,)).keys if kind == RANDOM] == [14, 8, 7]


def measurement_of(maps_of_method, paintings=6, seed=0):
    """A Measurement of two 'methods' at one layer (8 x 8) on patch paintings, through the detail stand-in."""
    rng = np.random.default_rng(seed)
    views = Views(tuple(maps_of_method), ("features",), (8,))
    deletions, insertions = [], []
    for index in range(paintings):
        pixels = patch_painting(index)
        maps = [make() for make in maps_of_method.values()]
        maps += [faithfulness.random_map(side, rng) for side in views.random_sides] + [faithfulness.centre_map(SIDE)]
        deletion, insertion = faithfulness.curves_of_painting(pixels, maps, 0, detail_in_the_patch, 8, rng)
        deletions.append(deletion)
        insertions.append(insertion)
    return measurement_from_curves(views, np.array(deletions), np.array(insertions), left_out=1)


def measurement_from_curves(views, deletion, insertion, left_out=0):
    paintings = len(deletion)
    return Measurement(
        views,
        deletion,
        insertion,
        np.zeros(paintings, np.int64),
        [f"painting {index}" for index in range(paintings)],
        list(range(paintings)),
        [{}] * paintings,
        left_out=left_out,
        seconds=1.0,
    )


def test_the_summary_says_which_maps_beat_the_baselines_and_picks_the_most_faithful():
    corner = np.zeros((8, 8), np.float32)
    corner[-3:, :3] = 1.0  # far from the patch
    measurement = measurement_of({"on the patch": patch_map, "elsewhere": lambda: corner})
    summary = summarise(measurement, {"features": "final"})
    on, off = summary["methods"]["on the patch"]["features"], summary["methods"]["elsewhere"]["features"]
    for baseline in ("random", "random_14x14", "random_7x7", "centre"):
        assert on[f"deletion_beats_{baseline}"] == on[f"insertion_beats_{baseline}"] == 1.0, baseline
    assert on["deletion_worst"] == on["insertion_worst"] == 1.0
    # Away from the evidence, a map is a random map that starts late: it beats the random one by chance.
    assert off["deletion_beats_random"] <= 0.5 and off["insertion_beats_random"] <= 0.5
    assert off["deletion_worst"] <= 0.5 and off["insertion_worst"] <= 0.5
    assert summary["most_faithful"] == {"method": "on the patch", "layer": "features", "depth": "final"}
    assert summary["paintings"] == 6 and summary["left_out_without_maps"] == 1 and summary["steps"] == 8
    assert set(summary["random"]) == {"14x14", "8x8", "7x7"}
    lines = table_lines(summary)
    assert any(line.startswith("| on the patch ★ | final | ") and "**100% / 100%**" in line for line in lines)
    assert any(line.startswith("| elsewhere | final (noise) |") for line in lines)
    assert any(line.startswith(f"| {RANDOM} | 7 × 7 |") for line in lines)
    assert any(line.startswith(f"| {CENTRE} |") for line in lines)
    assert len({line.count("|") for line in lines}) == 1  # every row has every column


def fine_and_smooth(smooth_insertion=0.9):
    """The summary of two views at one 28 x 28 layer, from flat curves of chosen areas on 10 paintings.
    "fine" deletes better than the random map of its own depth on every painting, but a smooth 7 x 7 random
    map beats it on 8 of them; "smooth" beats every baseline on 7 paintings and loses to all on 3. Both
    insert better than every baseline, "smooth" on the paintings where `smooth_insertion` says so."""
    views = Views(("fine", "smooth"), ("middle",), (28,))
    assert views.keys == [
        ("fine", "middle"),
        ("smooth", "middle"),
        (RANDOM, 28),
        (RANDOM, 14),
        (RANDOM, 7),
        (CENTRE, None),
    ]
    deletion = [[0.3, 0.2 if p < 7 else 0.6, 0.5, 0.4, 0.25 if p < 8 else 0.5, 0.45] for p in range(10)]
    insertion = [[0.9, smooth_insertion if p == 9 else 0.9, 0.3, 0.3, 0.3, 0.3] for p in range(10)]
    measurement = measurement_from_curves(views, flat_curves(deletion), flat_curves(insertion))
    return summarise(measurement, {"middle": "middle"})


def flat_curves(areas):
    """Flat curves (paintings, views, 3) whose areas are `areas` (paintings, views)."""
    return np.repeat(np.asarray(areas, np.float64)[..., None], 3, axis=-1)


def test_the_most_faithful_view_is_the_one_that_does_best_in_its_worst_case_not_against_one_baseline():
    summary = fine_and_smooth()
    fine, smooth = summary["methods"]["fine"]["middle"], summary["methods"]["smooth"]["middle"]
    # Against its own depth's random map alone, "fine" would win.
    assert fine["deletion_beats_random"] == fine["insertion_beats_random"] == 1.0
    assert smooth["deletion_beats_random"] == 0.7
    assert fine["deletion_beats_random_7x7"] == 0.2 and fine["deletion_worst"] == 0.2
    assert smooth["deletion_worst"] == 0.7 and smooth["insertion_worst"] == 1.0
    assert summary["most_faithful"] == {"method": "smooth", "layer": "middle", "depth": "middle"}
    assert "lowest share" in summary["choice_rule"]
    assert set(summary["baselines"]) == {"random", "random_14x14", "random_7x7", "centre"}
    assert any(line.startswith("| smooth ★ | middle |") for line in table_lines(summary))


def test_the_page_and_the_card_say_what_the_choice_of_the_most_faithful_view_rests_on(tmp_path):
    from artnet.hub.card import render_model_card
    from artnet.serve.ui import faithfulness_line

    summary = fine_and_smooth(smooth_insertion=0.2)
    line = faithfulness_line({"faithfulness": summary})
    assert "smooth at the middle depth" in line
    for baseline in ("own resolution", "14 × 14", "7 × 7", "blob in the middle"):
        assert baseline in line, baseline
    assert "at least 70% of 10 test paintings" in line and "at least 90%" in line

    folder = tmp_path / "model"
    folder.mkdir()
    config = {"format_version": 1, "labels": ["A", "B"], "image_size": 64, "backbone": "mobilenet_0.75"}
    (folder / "config.json").write_text(
        json.dumps({**config, "gradcam_layers": [{"name": "middle", "depth": "middle"}]})
    )
    (folder / "metrics.json").write_text(json.dumps({"faithfulness": summary}))
    card = " ".join(render_model_card(folder).split())
    assert "The app opens on the most faithful, ★: smooth at the middle depth, chosen as the view whose lowest" in card
    assert "at least 70.00 % of the paintings for deletion and 90.00 % for insertion" in card
    assert "a random map at 7 × 7" in card


def test_a_stratified_sample_takes_every_movement_and_is_seeded():
    from artnet.data.paintings import Painting

    paintings = [Painting(f"/p/{movement}/{index}.jpg", movement) for movement in "ABC" for index in range(10)]
    sample = faithfulness.stratified_sample(paintings, 6, seed=3)
    assert len(sample) == 6 and sorted({p.movement for p in sample}) == ["A", "B", "C"]
    assert sample == faithfulness.stratified_sample(paintings, 6, seed=3)
    assert sample != faithfulness.stratified_sample(paintings, 6, seed=4)


@pytest.fixture(scope="module")
def patch_model():
    """A tiny CNN trained here to find a patch of fine checkers on a smooth field (pixels in 0..255)."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    images, labels = [], rng.integers(0, 2, 600)
    for index, label in enumerate(labels):
        pixels = np.full((SIDE, SIDE, 3), rng.integers(60, 190), np.uint8)
        if label:
            top, left = rng.integers(0, SIDE - 8, 2)
            pixels = patch_painting(index, top, left)
        images.append(pixels)
    inputs = keras.Input((SIDE, SIDE, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="edges")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="features")(x)
    logits = keras.layers.Dense(2, name="logits")(keras.layers.GlobalMaxPooling2D()(x))
    model = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(np.array(images, np.float32), labels, epochs=8, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.95
    return model


@pytest.mark.slow
def test_on_a_trained_model_every_method_finds_the_evidence_and_a_flat_painting_is_left_out(patch_model):
    paintings = [
        patch_painting(1000 + index, *np.random.default_rng(index).integers(0, SIDE - 8, 2)) for index in range(10)
    ]
    flat = np.full((SIDE, SIDE, 3), 128, np.uint8)
    progress = []
    measurement = faithfulness.measure(
        patch_model,
        ["features"],
        [*paintings, flat],
        steps=6,
        names=[f"p{i}" for i in range(11)],
        progress=progress.append,
    )
    assert len(progress) == 11 and measurement.left_out == 1 and "p10" not in measurement.paintings
    # The layer is 32 x 32: random maps at 32 x 32, 14 x 14 and 7 x 7, and the blob.
    assert measurement.deletion.shape == (10, len(CAM_METHODS) + 4, 7)
    summary = summarise(measurement, {"features": "final"})
    for method in CAM_METHODS:
        row = summary["methods"][method]["features"]
        assert row["deletion_beats_random"] >= 0.7 and row["insertion_beats_random"] >= 0.7, (method, row)
    assert summary["most_faithful"]["layer"] == "features"


def run_command(*arguments):
    return subprocess.run(
        [sys.executable, "-m", "artnet.cli.faithfulness", *map(str, arguments)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env={"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"},
    )


@pytest.mark.slow
def test_the_command_measures_a_model_folder_on_the_test_split_of_its_data(training_run, tmp_path):
    folder, _ = training_run
    out = tmp_path / "faithfulness.json"
    plot = tmp_path / "curves.png"
    result = run_command(
        "--model",
        folder,
        "--data",
        folder.parent / "paintings",
        "--paintings",
        "5",
        "--steps",
        "3",
        "--json",
        out,
        "--plot",
        plot,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "5/5" in result.stderr  # the progress bar
    summary = json.loads(out.read_text())
    assert summary["paintings"] + summary["left_out_without_maps"] == 5 and summary["steps"] == 3
    assert set(summary["methods"]) == set(CAM_METHODS)
    assert f"Most faithful: {summary['most_faithful']['method']}" in result.stdout
    assert result.stdout.count("\n| ") >= len(CAM_METHODS) * 4
    assert plot.stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--steps", "1"], "--steps must be at least 2"),
        (["--paintings", "0"], "--paintings must be at least 1"),
    ],
)
def test_the_command_refuses_bad_options_in_one_line(training_run, arguments, message):
    folder, _ = training_run
    result = run_command("--model", folder, "--data", folder.parent / "paintings", *arguments)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_command_says_in_one_line_when_the_model_is_missing(tmp_path):
    result = run_command("--model", tmp_path / "nothing", "--data", tmp_path)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
