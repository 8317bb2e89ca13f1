"""DenseNet-121 with ArtNet's head, the freeze policies, and the model folder that carries it.

The model takes RGB pixels in 0..255 and normalises them itself, so no caller can feed it the wrong scale.
It is one flat functional model, so that Grad-CAM can reach any backbone layer by name.
"""

import os
import zipfile

import keras

from artnet.errors import UserError
from artnet.files import atomic_path, write_json_atomically
from artnet.model_folder import (
    CONFIG_FILE,
    FORMAT_VERSION,
    MODEL_FILE,
    ModelFolderError,
    check_folder,
)
from artnet.training_setup import FREEZE_POLICIES

BACKBONE = "densenet121"

# The statistics Keras's DenseNet was trained with ("torch" mode of keras.applications preprocessing),
# expressed on the 0..255 scale so that one Normalization layer does the whole job.
IMAGENET_MEAN = tuple(255.0 * m for m in (0.485, 0.456, 0.406))
IMAGENET_VARIANCE = tuple((255.0 * s) ** 2 for s in (0.229, 0.224, 0.225))

LOGITS_LAYER = "logits"
PROBABILITIES_LAYER = "probabilities"
HEAD_LAYERS = ("head_pool", "head_dropout", "head_bn", LOGITS_LAYER, PROBABILITIES_LAYER)

# Grad-CAM depths shown by the app: the end of dense blocks 2, 3 and 4, then the final activation.
# At 224 x 224 their maps are 56, 28, 14 and 7 cells wide.
DEFAULT_GRADCAM_LAYERS = (
    {"name": "conv2_block6_concat", "depth": "early"},
    {"name": "conv3_block12_concat", "depth": "middle"},
    {"name": "conv4_block24_concat", "depth": "late"},
    {"name": "relu", "depth": "final"},
)

# The reference ArtNet's policy: the last three convolutions, every BatchNormalization layer and the head.
SEED_TRAINABLE_CONVS = ("conv5_block15_2_conv", "conv5_block16_1_conv", "conv5_block16_2_conv")


class BackboneWeightsError(UserError):
    """The backbone weights could not be obtained. The message names the alternatives."""


def build_model(num_classes, image_size=224, backbone_weights="imagenet"):
    """DenseNet-121 without its top, then GlobalAveragePooling -> Dropout(0.5) -> BatchNormalization ->
    Dense logits -> softmax.

    `backbone_weights` is "imagenet" (downloaded by Keras), None (random, for tests), or the path of a
    DenseNet-121 "notop" weights file.
    """
    pixels = keras.Input((image_size, image_size, 3), name="pixels")
    normalised = keras.layers.Normalization(
        mean=IMAGENET_MEAN, variance=IMAGENET_VARIANCE, name="imagenet_normalization"
    )(pixels)
    backbone = _densenet121(normalised, backbone_weights)
    x = keras.layers.GlobalAveragePooling2D(name="head_pool")(backbone.output)
    x = keras.layers.Dropout(0.5, name="head_dropout")(x)
    x = keras.layers.BatchNormalization(name="head_bn")(x)
    logits = keras.layers.Dense(num_classes, name=LOGITS_LAYER)(x)
    # float32 even under mixed precision, so that probabilities sum to one exactly enough.
    probabilities = keras.layers.Activation("softmax", dtype="float32", name=PROBABILITIES_LAYER)(logits)
    return keras.Model(pixels, probabilities, name="artnet_densenet121")


def _densenet121(input_tensor, backbone_weights):
    if isinstance(backbone_weights, os.PathLike):
        backbone_weights = os.fspath(backbone_weights)
    if backbone_weights not in ("imagenet", None) and not os.path.isfile(backbone_weights):
        raise BackboneWeightsError(
            f"No weights file at {backbone_weights!r}. Give the path of a DenseNet-121 'notop' .h5 file, "
            "'imagenet', or 'none'."
        )
    try:
        # Built on our tensor, the backbone's layers become layers of our model: one flat graph.
        return keras.applications.DenseNet121(
            include_top=False, weights=backbone_weights, input_tensor=input_tensor
        )
    except Exception as error:
        if backbone_weights != "imagenet":
            raise BackboneWeightsError(
                f"Could not load DenseNet-121 weights from {backbone_weights!r} ({str(error).splitlines()[0][:200]}). "
                "Give a DenseNet-121 'notop' .h5 file, 'imagenet' or 'none'."
            ) from None
        raise BackboneWeightsError(
            "Could not download the ImageNet weights for DenseNet-121 (no network?). Train from scratch with "
            "--backbone-weights none, or download densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5 "
            "elsewhere and pass --backbone-weights PATH."
        ) from None


def apply_freeze_policy(model, policy):
    """Set which layers train.

    - "seed": only SEED_TRAINABLE_CONVS, every BatchNormalization layer and the head (the reference).
    - "conv5": the whole of dense block 5 with its final BatchNormalization, and the head.
    - "all": every layer.
    """
    if policy not in FREEZE_POLICIES:
        raise ValueError(f"Unknown freeze policy {policy!r}; choose one of {', '.join(FREEZE_POLICIES)}.")
    for layer in model.layers:
        layer.trainable = _is_trainable(layer, policy)
    return model


def _is_trainable(layer, policy):
    if policy == "all" or layer.name in HEAD_LAYERS:
        return True
    if policy == "seed":
        return layer.name in SEED_TRAINABLE_CONVS or isinstance(layer, keras.layers.BatchNormalization)
    return layer.name.startswith("conv5_") or layer.name in ("bn", "relu")


def save_folder(model, folder, labels, gradcam_layers=DEFAULT_GRADCAM_LAYERS, **extra_config):
    """Write `model.keras` and `config.json` into `folder`, each atomically.

    config.json is written last: a folder with a config.json always holds the model that it describes.
    """
    labels = list(labels)
    if model.output_shape[-1] != len(labels):
        raise ValueError(f"The model has {model.output_shape[-1]} outputs but {len(labels)} labels were given.")
    os.makedirs(folder, exist_ok=True)
    with atomic_path(os.path.join(folder, MODEL_FILE), suffix=".keras") as temporary:
        model.save(temporary)
    config = {
        "format_version": FORMAT_VERSION,
        "backbone": BACKBONE,
        "labels": labels,
        "image_size": int(model.input_shape[1]),
        "input": "RGB pixels in 0..255; ImageNet mean/std normalisation happens inside the model",
        "padding": "pad to square with the ImageNet mean colour, then resize (artnet.images.square_image)",
        "gradcam_layers": [dict(layer) for layer in gradcam_layers],
        **extra_config,
    }
    write_json_atomically(os.path.join(folder, CONFIG_FILE), config)
    return folder


def load_folder(folder):
    """Load a model folder written by `save_folder`: (model, config). Raises ModelFolderError."""
    folder = os.fspath(folder)
    config = check_folder(folder)
    model_path = os.path.join(folder, MODEL_FILE)
    try:
        model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, TypeError) as error:
        raise ModelFolderError(
            f"{model_path!r} could not be loaded ({type(error).__name__}: {str(error).splitlines()[0][:200]}). "
            "The file may be corrupt; copy or download it again."
        ) from None
    if model.output_shape[-1] != len(config["labels"]):
        raise ModelFolderError(
            f"{model_path!r} has {model.output_shape[-1]} outputs but config.json lists "
            f"{len(config['labels'])} labels. The folder is inconsistent; train or download it again."
        )
    return model, config
