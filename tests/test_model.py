import json
import shutil

import keras
import numpy as np
import pytest

from artnet.model.backbones import DENSENET_SEED_CONVS, BackboneError
from artnet.model.folder import FORMAT_VERSION, ModelFolderError
from artnet.model.network import apply_freeze_policy, build_model, load_folder, save_folder
from artnet.styles import MOVEMENTS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_model():
    return build_model(5, image_size=32, backbone_weights=None)


def test_the_model_maps_pixels_to_class_probabilities(small_model):
    assert small_model.input_shape == (None, 32, 32, 3)
    assert small_model.output_shape == (None, 5)
    probabilities = small_model.predict(np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 3)), verbose=0)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_the_model_is_flat_with_reachable_logits_and_backbone_layers(small_model):
    assert not any(isinstance(layer, keras.Model) for layer in small_model.layers)
    names = [layer.name for layer in small_model.layers]
    assert names[-5:] == ["head_pool", "head_dropout", "head_bn", "logits", "probabilities"]
    assert small_model.get_layer("logits").get_config()["activation"] == "linear"
    for name in ("conv5_block15_2_conv", "conv5_block16_1_conv", "conv5_block16_2_conv", "relu"):
        small_model.get_layer(name)


def test_preprocessing_inside_is_the_imagenet_normalisation_densenet_expects(small_model):
    pixels = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    normalise = keras.Model(small_model.input, small_model.get_layer("imagenet_normalization").output)
    expected = keras.applications.densenet.preprocess_input(pixels.copy())
    assert np.allclose(normalise(pixels), expected, atol=1e-4)
    assert not np.allclose(normalise(pixels), pixels / 255.0, atol=0.1)


def trainable_names(model):
    return {layer.name for layer in model.layers if layer.trainable}


def test_seed_policy_trains_three_convolutions_every_batchnorm_and_the_head(small_model):
    apply_freeze_policy(small_model, "seed")
    batchnorms = {layer.name for layer in small_model.layers if isinstance(layer, keras.layers.BatchNormalization)}
    head = {"head_pool", "head_dropout", "head_bn", "logits", "probabilities"}
    assert trainable_names(small_model) == set(DENSENET_SEED_CONVS) | batchnorms | head
    assert len(batchnorms) == 122
    assert not small_model.get_layer("conv5_block14_2_conv").trainable


def test_conv5_policy_trains_block_five_and_the_head(small_model):
    apply_freeze_policy(small_model, "conv5")
    names = trainable_names(small_model)
    assert {n for n in names if not n.startswith("conv5_")} == {
        "bn",
        "relu",
        "head_pool",
        "head_dropout",
        "head_bn",
        "logits",
        "probabilities",
    }
    assert "conv5_block1_1_conv" in names and "conv4_block24_2_conv" not in names
    assert not small_model.get_layer("conv4_block24_0_bn").trainable


def test_all_policy_trains_everything(small_model):
    apply_freeze_policy(small_model, "all")
    assert trainable_names(small_model) == {layer.name for layer in small_model.layers}


def test_an_unknown_policy_is_refused_with_the_backbones_choices(small_model):
    with pytest.raises(
        BackboneError, match="--freeze most is not a policy of densenet121; choose one of head, seed, conv5, all"
    ):
        apply_freeze_policy(small_model, "most")


def test_a_training_step_under_the_seed_policy_changes_only_its_layers():
    model = apply_freeze_policy(build_model(5, image_size=32, backbone_weights=None), "seed")
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="categorical_crossentropy", run_eagerly=True)
    frozen_before = model.get_layer("conv5_block14_2_conv").get_weights()[0].copy()
    trained_before = model.get_layer("conv5_block16_2_conv").get_weights()[0].copy()
    rng = np.random.default_rng(0)
    model.fit(rng.uniform(0, 255, (8, 32, 32, 3)), np.eye(5)[rng.integers(0, 5, 8)], epochs=1, verbose=0)
    assert np.array_equal(model.get_layer("conv5_block14_2_conv").get_weights()[0], frozen_before)
    assert not np.array_equal(model.get_layer("conv5_block16_2_conv").get_weights()[0], trained_before)


def test_a_weights_file_can_stand_in_for_imagenet(tmp_path):
    donor = keras.applications.DenseNet121(include_top=False, weights=None, input_shape=(32, 32, 3))
    path = tmp_path / "densenet121_notop.weights.h5"
    donor.save_weights(path)
    model = build_model(5, image_size=32, backbone_weights=path)
    assert np.array_equal(
        model.get_layer("conv1_conv").get_weights()[0], donor.get_layer("conv1_conv").get_weights()[0]
    )


def test_a_missing_weights_file_names_the_alternatives(tmp_path):
    with pytest.raises(
        BackboneError, match="is not a file; use imagenet, none or the path of a Keras DenseNet-121 notop"
    ):
        build_model(5, image_size=32, backbone_weights=tmp_path / "nothing.h5")


def test_imagenet_weights_without_network_name_the_alternatives(monkeypatch):
    from keras.src.utils import file_utils

    def no_network(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "get_file", no_network)
    with pytest.raises(
        BackboneError,
        match="Could not download the ImageNet weights of densenet121 .* pass --backbone-weights PATH, "
        "or train from random weights with --backbone-weights none",
    ):
        build_model(5, image_size=32, backbone_weights="imagenet")


def test_save_and_load_give_identical_outputs(small_model, tmp_path):
    save_folder(small_model, tmp_path, MOVEMENTS)
    loaded, config = load_folder(tmp_path)
    pixels = np.random.default_rng(2).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    assert np.array_equal(loaded(pixels, training=False), small_model(pixels, training=False))
    assert config["labels"] == list(MOVEMENTS)
    assert config["image_size"] == 32
    assert config["format_version"] == FORMAT_VERSION
    assert [layer["name"] for layer in config["gradcam_layers"]][-1] == "relu"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.keras"]


def test_save_refuses_labels_that_do_not_match_the_outputs(small_model, tmp_path):
    with pytest.raises(ValueError, match="5 outputs but 4 labels"):
        save_folder(small_model, tmp_path, MOVEMENTS[:4])


@pytest.fixture(scope="module")
def saved_folder(small_model, tmp_path_factory):
    return save_folder(small_model, tmp_path_factory.mktemp("saved"), MOVEMENTS)


def broken_copy(saved_folder, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(saved_folder, copy)
    return copy


def test_a_missing_folder_says_how_to_get_one(tmp_path):
    with pytest.raises(ModelFolderError, match="no model folder.*train.py"):
        load_folder(tmp_path / "nowhere")


def test_a_folder_without_config_is_incomplete(saved_folder, tmp_path):
    copy = broken_copy(saved_folder, tmp_path)
    (copy / "config.json").unlink()
    with pytest.raises(ModelFolderError, match="no config.json; it is incomplete"):
        load_folder(copy)


def test_a_folder_without_the_model_is_incomplete(saved_folder, tmp_path):
    copy = broken_copy(saved_folder, tmp_path)
    (copy / "model.keras").unlink()
    with pytest.raises(ModelFolderError, match="no model.keras; it is incomplete"):
        load_folder(copy)


def test_a_corrupt_model_file_is_reported(saved_folder, tmp_path):
    copy = broken_copy(saved_folder, tmp_path)
    (copy / "model.keras").write_bytes(b"not a zip archive")
    with pytest.raises(ModelFolderError, match="could not be loaded.*corrupt"):
        load_folder(copy)


def test_a_folder_from_a_newer_format_asks_for_an_update(saved_folder, tmp_path):
    copy = broken_copy(saved_folder, tmp_path)
    config = json.loads((copy / "config.json").read_text())
    config["format_version"] = FORMAT_VERSION + 1
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFolderError, match="newer than this ArtNet understands.*Update ArtNet"):
        load_folder(copy)


def test_a_model_with_a_lambda_layer_is_refused_by_safe_mode(tmp_path):
    inputs = keras.Input((4,))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    unsafe = keras.Model(inputs, keras.layers.Dense(5)(outputs))
    keras.saving.save_model(unsafe, tmp_path / "model.keras")
    (tmp_path / "config.json").write_text(
        json.dumps({"format_version": 1, "labels": list(MOVEMENTS), "image_size": 4, "gradcam_layers": []})
    )
    with pytest.raises(ModelFolderError, match="could not be loaded"):
        load_folder(tmp_path)


def test_saving_is_atomic_when_the_model_cannot_be_written(small_model, tmp_path, monkeypatch):
    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        save_folder(small_model, tmp_path, MOVEMENTS)
    assert list(tmp_path.iterdir()) == []
