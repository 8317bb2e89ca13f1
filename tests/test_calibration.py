"""Temperature scaling and the expected calibration error, on numbers whose answer is known, and the
temperature applied by the Classifier wherever it gives probabilities."""

import json
import shutil

import numpy as np
import pytest

from artnet.model.calibration import calibration_metrics, expected_calibration_error, fit_temperature, softmax


def overconfident(temperature=2.5, paintings=4000, seed=0):
    """Logits whose labels were drawn from softmax(logits / temperature): a model `temperature` times too sure."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, (paintings, 5))
    labels = np.array([rng.choice(5, p=p) for p in softmax(logits, temperature)])
    return logits, labels


def test_the_fitted_temperature_is_the_one_the_labels_were_drawn_with():
    logits, labels = overconfident(2.5)
    assert fit_temperature(logits, labels) == pytest.approx(2.5, rel=0.1)
    logits, labels = overconfident(0.5, seed=1)
    assert fit_temperature(logits, labels) == pytest.approx(0.5, rel=0.1)


def test_scaling_brings_the_calibration_error_down_and_keeps_the_answers():
    logits, labels = overconfident(2.5)
    metrics = calibration_metrics(fit_temperature(logits, labels), logits, labels)
    assert metrics["ece_before"] > 0.1 and metrics["ece_after"] < 0.03
    assert len(metrics["reliability_after"]) == metrics["bins"] == 15
    assert sum(count for count, _, _ in metrics["reliability_after"]) == len(labels)
    assert np.array_equal(softmax(logits).argmax(1), softmax(logits, metrics["temperature"]).argmax(1))


def test_a_model_right_as_often_as_it_says_has_no_calibration_error():
    # Always 80 % sure of its answer, and right 4 times in 5.
    probabilities = np.tile([0.8, 0.05, 0.05, 0.05, 0.05], (1000, 1))
    labels = np.where(np.arange(1000) % 5 == 0, 1, 0)
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.0, abs=1e-9)
    assert expected_calibration_error(probabilities, np.ones(1000, int)) == pytest.approx(0.8)


@pytest.mark.slow
def test_the_classifier_divides_the_logits_by_the_folders_temperature(untrained_model_folder, tmp_path):
    import keras

    from artnet.serve.classifier import Classifier

    from synthetic import painting

    folder = tmp_path / "calibrated"
    shutil.copytree(untrained_model_folder, folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "temperature": 3.0}))
    plain, calibrated = Classifier.from_folder(untrained_model_folder), Classifier.from_folder(folder)
    # A folder from before calibration has no temperature: its softmax is as trained.
    assert plain.temperature == 1.0 and calibrated.temperature == 3.0
    image = painting("blobs", size=(80, 60))
    pixels = calibrated.model_input(image)[np.newaxis]
    logits = keras.Model(calibrated.model.input, calibrated.model.get_layer("logits").output)(pixels).numpy()[0]
    expected = softmax(logits, 3.0)
    for answer in (
        calibrated.classify(image),
        calibrated.explain(image).probabilities,
        calibrated.classify_many([image])[0],
    ):
        assert list(answer.values()) == pytest.approx(list(expected), abs=1e-5)
    assert list(plain.classify(image).values()) == pytest.approx(list(softmax(logits)), abs=1e-5)
