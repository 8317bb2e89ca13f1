"""A run that learned nothing says so, and a backbone whose BatchNormalization trains for only a few steps
still validates and is saved with statistics of the paintings, not of its initial values."""

import numpy as np

from artnet.model.calibration import TEMPERATURE_RANGE
from artnet.train.evaluation import training_warnings
from artnet.train.fitting import recalibrate_batchnorms, training_batchnorms


def run_metrics(best_val_accuracy, temperature, validation=(4, 4, 4, 6, 4)):
    movements = ["Cubism", "Impressionism", "Expressionism", "Realism", "Abstract"]
    return {
        "counts": {"validation": dict(zip(movements, validation))},
        "training": {"best_val_accuracy": best_val_accuracy},
        "calibration": {"temperature": temperature},
    }


def test_a_run_at_chance_or_with_its_temperature_at_a_bound_ends_with_a_warning_that_says_what_to_check():
    # Chance on this validation split: the commonest movement, 6 of 22 paintings.
    [warning] = training_warnings(run_metrics(0.2727, 1.3))
    assert "never rose clearly above chance (best 27.3%, chance 27.3%)" in warning and "--backbone-weights" in warning
    [warning] = training_warnings(run_metrics(0.95, TEMPERATURE_RANGE[1]))
    assert "temperature ran to its bound (20.00)" in warning
    assert len(training_warnings(run_metrics(0.2, TEMPERATURE_RANGE[1]))) == 2


def test_a_run_that_learned_gets_no_warning():
    assert training_warnings(run_metrics(0.95, 1.9)) == []
    # Above chance by more than its noise on a large validation split.
    assert training_warnings(run_metrics(0.25, 1.0, validation=(2000,) * 5)) == []


def small_network_with_a_trainable_batchnorm():
    import keras

    inputs = keras.Input((8,))
    x = keras.layers.Dense(16, name="conv_pw_1")(inputs)
    x = keras.layers.BatchNormalization(name="conv_pw_1_bn")(x)
    x = keras.layers.Dense(4, name="head_hidden")(keras.layers.BatchNormalization(name="head_bn")(x))
    return keras.Model(inputs, keras.layers.Activation("softmax")(x))


def test_recalibrated_statistics_are_the_training_batches_and_inference_answers_as_training_does():
    model = small_network_with_a_trainable_batchnorm()
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0, 5.0, size=(32, 8)).astype(np.float32) for _ in range(4)]
    # Fresh moving statistics (mean 0, variance 1) describe none of these inputs.
    assert np.abs(model.predict(batches[0], verbose=0) - np.asarray(model(batches[0], training=True))).max() > 0.05
    recalibrate_batchnorms(model, batches)
    layer = model.get_layer("conv_pw_1_bn")
    hidden = np.concatenate([np.asarray(model.get_layer("conv_pw_1")(batch)) for batch in batches])
    assert np.allclose(np.asarray(layer.moving_mean), hidden.mean(axis=0), atol=1e-4)
    assert layer.momentum == 0.99  # the training's own momentum is back
    every = np.concatenate(batches)
    assert np.abs(model.predict(every, verbose=0) - np.asarray(model(every, training=True))).max() < 0.05


def test_only_the_backbones_trainable_batchnorms_are_recalibrated_so_a_frozen_backbones_run_is_unchanged():
    model = small_network_with_a_trainable_batchnorm()
    assert [layer.name for layer in training_batchnorms(model)] == ["conv_pw_1_bn"]
    model.get_layer("conv_pw_1_bn").trainable = False
    assert training_batchnorms(model) == []
