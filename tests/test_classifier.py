import itertools
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from PIL import Image

from artnet.data.images import ImageError
from artnet.explain.cams import BaseCAM
from artnet.explain.overlay import DISPLAY_SIDE
from artnet.serve.classifier import Classifier
from artnet.styles import MOVEMENTS

from conftest import ROOT
from synthetic import STYLES, painting

pytestmark = pytest.mark.slow


def test_classify_returns_a_probability_for_each_movement_in_the_models_order(classifier):
    probabilities = classifier.classify(painting("stripes"))
    assert list(probabilities) == list(MOVEMENTS)
    assert all(isinstance(p, float) and 0 <= p <= 1 for p in probabilities.values())
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_the_labels_and_input_size_come_from_the_model_folder(classifier):
    assert classifier.labels == list(MOVEMENTS)
    assert classifier.image_size == 64


def test_several_paintings_in_one_pass_get_the_answers_they_get_one_by_one(classifier):
    paintings = [painting(style, seed=3, size=(60 + 20 * index, 90)) for index, style in enumerate(STYLES)]
    together = classifier.classify_many(paintings)
    assert len(together) == len(paintings)
    for answer, image in zip(together, paintings):
        assert answer == pytest.approx(classifier.classify(image), abs=1e-5)
    assert len({tuple(answer.values()) for answer in together}) == len(paintings)


def test_a_path_bytes_and_pil_image_give_the_same_answer(classifier, tmp_path):
    path = tmp_path / "painting.png"
    painting("blobs").save(path)
    answers = [classifier.classify(source) for source in (path, str(path), path.read_bytes(), Image.open(path))]
    assert all(answer == answers[0] for answer in answers)


def test_explain_returns_the_classify_probabilities_from_its_own_pass(classifier):
    image = painting("checkers", size=(120, 90))
    explanation = classifier.explain(image)
    expected = classifier.classify(image)
    assert list(explanation.probabilities) == list(expected)
    for label in expected:
        assert explanation.probabilities[label] == pytest.approx(expected[label], abs=1e-5)
    assert explanation.class_name == max(expected, key=expected.get)


def test_a_folder_written_before_sets_and_scope_answers_its_top_movement_in_scope(classifier):
    """The fixture's folder has neither prediction_sets nor scope in its config, as folders written before them."""
    assert "prediction_sets" not in classifier.config and "scope" not in classifier.config
    image = painting("stripes", size=(90, 70))
    answer, probabilities = classifier.answer(image), classifier.classify(image)
    assert answer.movements == [max(probabilities, key=probabilities.get)]
    assert answer.in_scope is True and answer.scope_score is None
    assert answer.probabilities == pytest.approx(probabilities, abs=1e-5)
    assert classifier.explain(image).answer == answer


def test_the_answer_follows_the_folders_prediction_sets_and_scope(untrained_model_folder, tmp_path):
    """The same network with rules in its config: a floor that admits every movement, and a scope unit
    whose bias puts every painting below the threshold."""
    import shutil

    from artnet.model import conformal, scope
    from artnet.model.folder import read_config, write_config
    from artnet.serve.classifier import Classifier

    folder = tmp_path / "model"
    shutil.copytree(untrained_model_folder, folder)
    config = read_config(folder)
    embedding_size = Classifier.from_folder(untrained_model_folder).model.get_layer("logits").input.shape[-1]
    config["prediction_sets"] = conformal.config_entry(0.9, 0.0)
    config["scope"] = scope.config_entry([0.0] * embedding_size, [100.0], threshold=0.0)
    write_config(folder, config)
    answer = Classifier.from_folder(folder).answer(painting("blobs"))
    assert sorted(answer.movements) == sorted(MOVEMENTS) and not answer.in_scope and answer.scope_score < -90
    assert answer.in_words.startswith("none of the movements (closest: ")


def test_several_paintings_explained_in_one_pass_get_the_explanations_they_get_one_by_one(classifier):
    """As the app explains its examples at start-up."""
    paintings = [painting(style, seed=5, size=(80 + 30 * index, 70)) for index, style in enumerate(STYLES)]
    together = classifier.explain_many(paintings, batch_size=2)  # passes of 2, 2 and 1
    assert len(together) == len(paintings)
    for explanation, image in zip(together, paintings):
        alone = classifier.explain(image)
        assert explanation.class_name == alone.class_name
        assert explanation.probabilities == pytest.approx(alone.probabilities, abs=1e-5)
        assert explanation.image.shape == alone.image.shape
        for method, layers in alone.maps.items():
            for layer, expected in layers.items():
                np.testing.assert_allclose(explanation.maps[method][layer], expected, atol=1e-4)
    assert classifier.explain_many([]) == []


def test_maps_cover_the_padded_image_and_lie_in_0_1(classifier):
    explanation = classifier.explain(painting("gradients", size=(120, 90)))
    assert explanation.methods == ["Grad-CAM", "Grad-CAM++", "LayerCAM", "HiResCAM"] == classifier.cam_methods
    assert explanation.image.shape == (120, 120, 3)
    assert explanation.content_box == (0, 15, 120, 105)
    for method in explanation.methods:
        assert [layer["name"] for layer in classifier.gradcam_layers] == list(explanation.maps[method])
        for layer in explanation.maps[method]:
            layer_map = explanation.layer_map(layer, method)
            assert layer_map.shape == (120, 120) and layer_map.dtype == np.float32
            assert 0 <= layer_map.min() and layer_map.max() <= 1 and np.isfinite(layer_map).all()


def test_an_overlay_shows_the_painting_at_its_own_aspect_ratio(classifier):
    explanation = classifier.explain(painting("noise", size=(120, 90)))
    overlay = explanation.overlay("relu", opacity=0.0)
    assert overlay.size == (120, 90) and overlay.mode == "RGB"
    original = np.asarray(painting("noise", size=(120, 90))).astype(int)
    assert np.abs(np.asarray(overlay).astype(int) - original).mean() < 3


@pytest.mark.parametrize("size", [(90, 90), (120, 90), (60, 150)])
def test_a_flat_painting_has_nothing_to_show_whatever_its_shape(classifier, size):
    explanation = classifier.explain(Image.new("RGB", size, (250, 250, 250)))
    assert all(not layer_map.any() for maps in explanation.maps.values() for layer_map in maps.values())


def test_a_large_painting_is_explained_at_display_size(classifier):
    explanation = classifier.explain(painting("stripes", size=(2000, 1000)))
    assert explanation.image.shape == (DISPLAY_SIDE, DISPLAY_SIDE, 3)
    assert explanation.overlay("relu").size == (DISPLAY_SIDE, DISPLAY_SIDE // 2)


def test_any_movement_can_be_explained(classifier):
    image = painting("blobs")
    explanations = {name: classifier.explain(image, class_name=name) for name in MOVEMENTS}
    assert [explanations[name].class_name for name in MOVEMENTS] == list(MOVEMENTS)
    top = classifier.explain(image)
    for method, maps in top.maps.items():
        for layer, top_map in maps.items():
            np.testing.assert_allclose(explanations[top.class_name].maps[method][layer], top_map, atol=1e-5)
    # An untrained network has no positive evidence at all for some movements at some depths (all-zero
    # maps, about half the time at the final layer), so no single pair of maps has to differ; but the maps,
    # over all depths, must depend on the movement asked for.
    stacks = {
        name: np.concatenate([m.ravel() for maps in explanation.maps.values() for m in maps.values()])
        for name, explanation in explanations.items()
    }
    assert any(not np.allclose(stacks[a], stacks[b]) for a, b in itertools.combinations(MOVEMENTS, 2))


def test_a_subset_of_layers_and_a_layer_outside_the_defaults(classifier):
    image = painting("checkers")
    assert list(classifier.explain(image, layers=["relu"]).maps["LayerCAM"]) == ["relu"]
    extra = classifier.explain(image, layers=["conv5_block16_concat", "relu"])
    assert list(extra.maps["LayerCAM"]) == ["conv5_block16_concat", "relu"]
    for method in classifier.cam_methods:
        np.testing.assert_allclose(
            extra.maps[method]["relu"], classifier.explain(image).maps[method]["relu"], atol=1e-5
        )


def test_unknown_names_are_refused_with_the_choices(classifier):
    with pytest.raises(ValueError, match="choose one of Cubism, Impressionism"):
        classifier.explain(painting("blobs"), class_name="Baroque")
    with pytest.raises(ValueError, match="no layer named 'conv9'"):
        classifier.explain(painting("blobs"), layers=["conv9"])
    with pytest.raises(ValueError, match="No map for layer"):
        classifier.explain(painting("blobs"), layers=["relu"]).overlay("conv2_block6_concat")
    with pytest.raises(
        ValueError, match="Unknown method 'ScoreCAM'; choose one of Grad-CAM, Grad-CAM\\+\\+, LayerCAM, HiResCAM"
    ):
        classifier.explain(painting("blobs")).overlay("relu", method="ScoreCAM")


def test_bad_images_raise_image_errors(classifier):
    with pytest.raises(ImageError, match="not an image"):
        classifier.classify(b"definitely not a painting")
    with pytest.raises(ImageError, match="too small"):
        classifier.explain(Image.new("RGB", (4, 4)))


def test_rerendering_an_overlay_does_not_run_the_network(classifier, monkeypatch):
    explanation = classifier.explain(painting("stripes"))
    calls = []
    original_call = BaseCAM.__call__
    monkeypatch.setattr(BaseCAM, "__call__", lambda self, *a, **k: calls.append(1) or original_call(self, *a, **k))
    monkeypatch.setattr(classifier, "_predict", lambda *a: calls.append(1))
    for method in explanation.methods:
        renders = [
            explanation.overlay(layer, opacity, colormap, method)
            for layer in explanation.maps[method]
            for opacity in (0.2, 0.8)
            for colormap in ("jet", "inferno")
        ]
        assert len({np.asarray(render).tobytes() for render in renders}) == len(renders)
    assert calls == []


def test_loading_traces_once_so_the_first_request_pays_no_tracing(untrained_model_folder):
    fresh = Classifier.from_folder(untrained_model_folder)
    cam = fresh._cams[fresh._default_layers]
    assert fresh._predict.experimental_get_tracing_count() == 1
    assert cam._compiled_pass.experimental_get_tracing_count() == 1
    fresh.classify(painting("blobs", size=(50, 70)))
    fresh.explain(painting("noise", size=(300, 100)), class_name="Realism")
    fresh.classify_many([painting("stripes"), painting("checkers")])
    assert fresh._predict.experimental_get_tracing_count() == 1
    assert cam._compiled_pass.experimental_get_tracing_count() == 1


def test_threads_share_one_classifier_without_cross_talk(classifier):
    images = [painting(style, seed=seed) for seed in range(2) for style in STYLES]
    expected = [(classifier.classify(image), classifier.explain(image).maps["HiResCAM"]["relu"]) for image in images]
    results = [None] * (3 * len(images))
    errors = []

    def worker(slot):
        try:
            image = images[slot % len(images)]
            results[slot] = (classifier.classify(image), classifier.explain(image).maps["HiResCAM"]["relu"])
        except Exception as error:  # noqa: BLE001 - the assertion below reports it
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(len(results))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for slot, (probabilities, relu_map) in enumerate(results):
        want_probabilities, want_map = expected[slot % len(images)]
        assert probabilities == pytest.approx(want_probabilities, abs=1e-5)
        np.testing.assert_allclose(relu_map, want_map, atol=1e-4)


def test_concurrent_passes_share_the_cores_instead_of_each_taking_all_of_them():
    # TensorFlow fixes its pools when it first runs, so this runs in a fresh process, as app.py does.
    script = (
        "import json, os, tensorflow as tf\n"
        "from artnet.serve.classifier import share_cpu_cores\n"
        "share_cpu_cores(2)\n"
        "tf.constant(1.0) + 1.0\n"
        "print(json.dumps([len(os.sched_getaffinity(0)), tf.config.threading.get_intra_op_parallelism_threads(),"
        " tf.config.threading.get_inter_op_parallelism_threads()]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": ROOT},
    )
    cores, intra_op, inter_op = json.loads(result.stdout.strip().splitlines()[-1])
    assert (intra_op, inter_op) == (max(1, cores // 2), 2)


def test_the_serving_path_loads_no_training_code():
    modules = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, artnet.serve.classifier, artnet.serve.ui; print(' '.join(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    ).stdout.split()
    training = {
        "artnet.train.run",
        "artnet.train.setup",
        "artnet.data.paintings",
        "artnet.train.evaluation",
        "artnet.train.features",
        "artnet.train.fitting",
        "artnet.train.shortcuts",
    }
    assert "artnet.serve.classifier" in modules and not training & set(modules)
