"""Each backbone as declared in artnet.model.backbones: built flat with its own normalisation, its ImageNet
weights where they are at hand, weights files checked before training, and the network cut where
training starts."""

import h5py
import keras
import numpy as np
import pytest

from artnet.data.images import PAD_COLOR
from artnet.model.backbones import BACKBONES, BackboneError, get_backbone
from artnet.model.network import ChannelStatistics, ContentMask, apply_freeze_policy, build_model, split_at_training

from conftest import MOBILENET_WEIGHTS, requires_shared_weights

pytestmark = pytest.mark.slow

PREPROCESSING = {
    "densenet121": keras.applications.densenet.preprocess_input,
    "mobilenet_0.75": keras.applications.mobilenet.preprocess_input,
}


@pytest.mark.parametrize("name", list(BACKBONES))
def test_each_backbone_normalises_as_its_imagenet_weights_expect_and_has_its_layers(name):
    model = build_model(5, image_size=64, backbone_weights=None, backbone=name, head="style")
    pixels = np.random.default_rng(1).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    normalise = keras.Model(model.input, model.get_layer("imagenet_normalization").output)
    assert np.allclose(normalise(pixels), PREPROCESSING[name](pixels.copy()), atol=1e-4)
    backbone = get_backbone(name)
    for layer in [layer["name"] for layer in backbone.gradcam_layers] + list(backbone.style_layers):
        model.get_layer(layer)
    assert not any(isinstance(layer, keras.Model) for layer in model.layers)


@requires_shared_weights
def test_the_shared_mobilenet_weights_give_the_flat_model_the_features_of_keras_mobilenet():
    model = build_model(5, image_size=224, backbone_weights=MOBILENET_WEIGHTS, backbone="mobilenet_0.75")
    reference = keras.applications.MobileNet(alpha=0.75, include_top=False, weights=None, input_shape=(224, 224, 3))
    reference.load_weights(MOBILENET_WEIGHTS)
    pixels = np.random.default_rng(2).uniform(0, 255, (2, 224, 224, 3)).astype(np.float32)
    ours = keras.Model(model.input, model.get_layer("conv_pw_13_relu").output)(pixels)
    theirs = reference(keras.applications.mobilenet.preprocess_input(pixels.copy()))
    assert np.allclose(ours, theirs, atol=1e-3)
    # Real ImageNet weights, not random ones: the first layer's kernels are far from their initialisation.
    assert float(np.abs(model.get_layer("conv1").get_weights()[0]).max()) > 1.0


def test_an_unknown_backbone_lists_the_choices():
    with pytest.raises(
        BackboneError, match="--backbone 'resnet50' is not known; choose one of densenet121, mobilenet_0.75"
    ):
        get_backbone("resnet50")


def test_a_weights_file_that_does_not_fit_the_backbone_is_refused_naming_what_it_needs(tmp_path):
    wrong = tmp_path / "other.weights.h5"
    with h5py.File(wrong, "w") as file:
        file["layers/conv2d/vars/0"] = np.zeros((3, 3, 3, 32), np.float32)
    message = (
        "--backbone-weights {} does not fit --backbone mobilenet_0.75: it holds 1 tensors, 864 parameters; "
        "mobilenet_0.75 needs a Keras MobileNet v1 (width 0.75) notop weights file (135 tensors, 1,832,976 parameters"
    )
    with pytest.raises(BackboneError, match=message.format(wrong).replace("(", r"\(").replace(")", r"\)")):
        get_backbone("mobilenet_0.75").check_weights(str(wrong))
    (tmp_path / "notes.txt").write_text("not weights")
    with pytest.raises(BackboneError, match="it is not a Keras weights file; densenet121 needs a Keras DenseNet-121"):
        get_backbone("densenet121").check_weights(str(tmp_path / "notes.txt"))


def test_style_statistics_are_taken_over_the_painting_not_its_padding():
    pixels = np.full((1, 8, 8, 3), PAD_COLOR, np.float32)
    pixels[0, 2:6] = np.random.default_rng(3).uniform(0, 255, (4, 8, 3))  # a wide painting, padded above and below
    mask = ContentMask((4, 4))(pixels).numpy()
    assert mask[0, 1:3].min() == 1 and mask[0, 0].max() == 0 and mask[0, 3].max() == 0
    features = np.random.default_rng(4).uniform(0, 5, (1, 4, 4, 2)).astype(np.float32)
    statistics = ChannelStatistics()([features, mask]).numpy()[0]
    painting = features[0, 1:3].reshape(-1, 2)  # the rows of the 4 x 4 map that the painting covers
    assert np.allclose(statistics, np.concatenate([painting.mean(axis=0), painting.std(axis=0)]), atol=1e-3)


@pytest.mark.parametrize(
    "name, head, policy, cut",
    [
        ("mobilenet_0.75", "style", "head", ["style_statistics"]),
        (
            "mobilenet_0.75",
            "style",
            "block13",
            ["conv_pw_12_relu", "style_statistics_mask_6", *[f"style_statistics_{i}" for i in range(6)]],
        ),
        ("densenet121", "reference", "conv5", ["pool4_pool"]),
        ("densenet121", "reference", "head", ["head_pool"]),
        ("densenet121", "reference", "seed", None),
        ("mobilenet_0.75", "reference", "all", None),
    ],
)
def test_the_network_is_cut_where_training_starts_and_the_two_parts_compute_the_whole(name, head, policy, cut):
    model = apply_freeze_policy(
        build_model(5, image_size=64, backbone_weights=None, backbone=name, head=head), policy, name
    )
    trunk, top = split_at_training(model)
    pixels = np.random.default_rng(5).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    if cut is None:
        # Everything trains from (nearly) the input on: the pixels themselves are what is cached.
        assert trunk is None and top is model
        return
    assert sorted(tensor.name.split("/")[0] for tensor in trunk.outputs) == sorted(
        model.get_layer(layer).output.name.split("/")[0] for layer in cut
    )
    assert not trunk.trainable_weights or policy == "all"
    assert np.allclose(top(trunk(pixels)), model(pixels), atol=1e-5)


def test_a_style_model_saves_loads_safely_and_explains_with_or_without_xla(tmp_path):
    from artnet.model.network import save_folder
    from artnet.serve.classifier import Classifier

    from synthetic import painting

    keras.utils.set_random_seed(0)
    model = build_model(5, image_size=64, backbone_weights=None, backbone="mobilenet_0.75", head="style")
    save_folder(
        model,
        tmp_path,
        ["Cubism", "Impressionism", "Expressionism", "Realism", "Abstract"],
        backbone="mobilenet_0.75",
        head="style",
    )
    image = painting("blobs", size=(90, 60))
    answers = [Classifier.from_folder(tmp_path, jit_compile=jit).explain(image) for jit in (False, True)]
    for answer in answers:
        assert set(answer.maps["Grad-CAM++"]) == {
            layer["name"] for layer in get_backbone("mobilenet_0.75").gradcam_layers
        }
    assert answers[0].probabilities == pytest.approx(answers[1].probabilities, abs=1e-5)
