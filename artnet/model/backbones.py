"""The backbones ArtNet builds on, each declared once: how it is built, how it normalises pixels, the depths
that Grad-CAM shows, the depths whose channel statistics describe style, its freeze policies, and where its
ImageNet weights come from.

Importing this module does not import TensorFlow: train.py checks --backbone, --freeze and
--backbone-weights against these declarations before TensorFlow starts.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass

from artnet.errors import UserError

IMAGENET = "imagenet"


class BackboneError(UserError):
    """An unknown backbone, or weights that do not fit it or cannot be had. The message says what to do."""


@dataclass(frozen=True)
class FreezePolicy:
    """Which backbone layers train. The head always trains.

    A frozen BatchNormalization layer runs in inference mode, so that everything below the first
    trainable layer is a fixed function of the image, which training computes once and caches."""

    name: str
    description: str
    trains: Callable[[str, bool], bool]  # (layer name, is a BatchNormalization layer) -> whether it trains


FROZEN = FreezePolicy("head", "the head only; the whole backbone is frozen", lambda name, batchnorm: False)
EVERYTHING = FreezePolicy("all", "every layer, BatchNormalization included", lambda name, batchnorm: True)


def _blocks(name, description, prefixes, names=()):
    """A policy that trains whole blocks: the layers whose names start with one of `prefixes`, and `names`."""
    return FreezePolicy(name, description, lambda layer, batchnorm: layer.startswith(prefixes) or layer in names)


# The reference ArtNet's policy: its last three convolutions, every BatchNormalization layer and the head.
DENSENET_SEED_CONVS = ("conv5_block15_2_conv", "conv5_block16_1_conv", "conv5_block16_2_conv")


@dataclass(frozen=True)
class Backbone:
    name: str  # as --backbone and config.json spell it
    title: str  # as people read it
    application: str  # the keras.applications function that builds it
    arguments: tuple  # its keyword arguments besides the input and the weights, as (name, value) pairs
    pixel_mean: tuple  # the normalisation its ImageNet weights expect, on the 0..255 scale, per channel
    pixel_variance: tuple
    min_image_size: int
    gradcam_layers: tuple  # ({"name": layer, "depth": early|middle|late|final}, ...), shallow to deep
    style_layers: tuple  # the layers whose channel means and standard deviations the style head reads
    freeze_policies: tuple
    imagenet_file: str  # what Keras downloads for weights="imagenet"
    weight_tensors: int  # in a notop weights file of this backbone
    weight_parameters: int
    hub_base_model: str | None  # the Hub's repo of these ImageNet weights, for the model card

    @property
    def policy_names(self):
        return tuple(policy.name for policy in self.freeze_policies)

    def freeze_policy(self, name):
        for policy in self.freeze_policies:
            if policy.name == name:
                return policy
        raise BackboneError(
            f"--freeze {name} is not a policy of {self.name}; choose one of {', '.join(self.policy_names)}."
        )

    def check_weights(self, weights):
        """Raise BackboneError unless `weights` ("imagenet", None or a file's path) can initialise this
        backbone. A file is checked by its tensors' count and sizes, without TensorFlow."""
        if weights in (IMAGENET, None):
            return
        expected = (
            f"a Keras {self.title} notop weights file ({self.weight_tensors} tensors, "
            f"{self.weight_parameters:,} parameters, such as {self.imagenet_file})"
        )
        if not os.path.isfile(weights):
            raise BackboneError(
                f"--backbone-weights {weights!r} is not a file; use imagenet, none or the path of {expected}."
            )
        tensors, parameters = _count_weights(weights)
        if (tensors, parameters) != (self.weight_tensors, self.weight_parameters):
            found = (
                "is not a Keras weights file"
                if tensors is None
                else f"holds {tensors} tensors, {parameters:,} parameters"
            )
            raise BackboneError(
                f"--backbone-weights {weights} does not fit --backbone {self.name}: it {found}; {self.name} needs {expected}."
            )

    def build(self, input_tensor, weights):
        """The backbone on `input_tensor` (already normalised), its layers part of the caller's graph so
        that Grad-CAM reaches any of them by name. `weights`: "imagenet" (Keras downloads them), None
        (random) or a checked weights file."""
        import keras

        application = getattr(keras.applications, self.application)
        arguments = dict(self.arguments)
        backbone = application(include_top=False, weights=None, input_tensor=input_tensor, **arguments)
        if weights is not None:
            # Loaded into the standalone network the file was saved from, then copied by layer name: a
            # weights file is matched by the structure of the model it loads into, and ours has more.
            source = self._standalone(application, arguments, weights)
            for layer in source.layers:
                if layer.weights:
                    backbone.get_layer(layer.name).set_weights(layer.get_weights())
        return backbone

    def _standalone(self, application, arguments, weights):
        # ImageNet weights do not depend on the input size; 224 is the size every backbone has them for.
        shape = (224, 224, 3)
        if weights != IMAGENET:
            source = application(include_top=False, weights=None, input_shape=shape, **arguments)
            try:
                source.load_weights(weights)
            except Exception as error:  # noqa: BLE001 - a file that passed the count check but does not load
                raise BackboneError(
                    f"Could not load {weights} into {self.name} ({str(error).splitlines()[0][:200]})."
                ) from None
            return source
        try:
            return application(include_top=False, weights=IMAGENET, input_shape=shape, **arguments)
        except Exception:  # noqa: BLE001 - Keras reports a failed download in several exception types
            raise BackboneError(
                f"Could not download the ImageNet weights of {self.name} (no network?). Download {self.imagenet_file} "
                "elsewhere and pass --backbone-weights PATH, or train from random weights with --backbone-weights none."
            ) from None


def _count_weights(path):
    """(tensors, parameters) in a Keras weights file (Keras 3 .weights.h5 or the older .h5), or (None, 0)."""
    import h5py

    sizes = []
    try:
        with h5py.File(path, "r") as file:
            file.visititems(lambda name, item: sizes.append(item.size) if isinstance(item, h5py.Dataset) else None)
    except OSError:
        return None, 0
    return len(sizes), int(sum(sizes))


# Keras's DenseNet is trained on ImageNet's mean and standard deviation ("torch" preprocessing); its
# MobileNet on pixels scaled to -1..1. Both are written as a mean and a variance on the 0..255 scale, so
# that one Normalization layer inside the model does the whole job.
IMAGENET_MEAN = tuple(255.0 * m for m in (0.485, 0.456, 0.406))
IMAGENET_VARIANCE = tuple((255.0 * s) ** 2 for s in (0.229, 0.224, 0.225))

DENSENET121 = Backbone(
    name="densenet121",
    title="DenseNet-121",
    application="DenseNet121",
    arguments=(),
    pixel_mean=IMAGENET_MEAN,
    pixel_variance=IMAGENET_VARIANCE,
    min_image_size=32,
    # The ends of dense blocks 2, 3 and 4, then the final activation: at 224 x 224, 56, 28, 14 and 7 cells wide.
    gradcam_layers=(
        {"name": "conv2_block6_concat", "depth": "early"},
        {"name": "conv3_block12_concat", "depth": "middle"},
        {"name": "conv4_block24_concat", "depth": "late"},
        {"name": "relu", "depth": "final"},
    ),
    style_layers=("pool2_relu", "pool3_relu", "pool4_relu", "relu"),
    freeze_policies=(
        FROZEN,
        FreezePolicy(
            "seed",
            "the reference ArtNet's: its last three convolutions and every BatchNormalization layer (which then "
            "trains, so nothing can be cached)",
            lambda name, batchnorm: batchnorm or name in DENSENET_SEED_CONVS,
        ),
        _blocks("conv5", "dense block 5 and the final BatchNormalization", ("conv5_",), ("bn", "relu")),
        EVERYTHING,
    ),
    imagenet_file="densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
    weight_tensors=604,
    weight_parameters=7_037_504,
    hub_base_model="keras/densenet_121_imagenet",
)

MOBILENET_075 = Backbone(
    name="mobilenet_0.75",
    title="MobileNet v1 (width 0.75)",
    application="MobileNet",
    arguments=(("alpha", 0.75),),
    pixel_mean=(127.5, 127.5, 127.5),
    pixel_variance=(127.5**2,) * 3,
    min_image_size=32,
    # At 224 x 224: 56, 28, 14 and 7 cells wide.
    gradcam_layers=(
        {"name": "conv_pw_3_relu", "depth": "early"},
        {"name": "conv_pw_5_relu", "depth": "middle"},
        {"name": "conv_pw_11_relu", "depth": "late"},
        {"name": "conv_pw_13_relu", "depth": "final"},
    ),
    # The statistics of earlier layers describe a painting's collection as much as its style (JPEG and
    # resolution cues), and cost the model paintings from other collections (see the README).
    style_layers=tuple(f"conv_pw_{block}_relu" for block in range(7, 14)),
    freeze_policies=(
        FROZEN,
        _blocks("block13", "the last depthwise-separable block", ("conv_dw_13", "conv_pw_13")),
        _blocks(
            "block12",
            "the last two depthwise-separable blocks",
            ("conv_dw_12", "conv_pw_12", "conv_dw_13", "conv_pw_13"),
        ),
        EVERYTHING,
    ),
    imagenet_file="mobilenet_7_5_224_tf_no_top.h5",
    weight_tensors=135,
    weight_parameters=1_832_976,
    hub_base_model=None,
)

BACKBONES = {backbone.name: backbone for backbone in (DENSENET121, MOBILENET_075)}


def get_backbone(name):
    """The Backbone called `name`. Raises BackboneError naming the choices."""
    try:
        return BACKBONES[name]
    except KeyError:
        raise BackboneError(f"--backbone {name!r} is not known; choose one of {', '.join(BACKBONES)}.") from None
