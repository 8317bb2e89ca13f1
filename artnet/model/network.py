"""ArtNet's network: a backbone from artnet.model.backbones with ArtNet's head, the freeze policies applied to it,
its split into the frozen trunk and the part that trains, and the model folder's model.keras and config.json.

The model takes RGB pixels in 0..255 and normalises them itself, so no caller can feed it the wrong scale.
It is one flat functional model, so that Grad-CAM can reach any backbone layer by name.
"""

import math
import os
import zipfile

import keras
import numpy as np
from keras import ops

from artnet.data.images import PAD_COLOR
from artnet.files import atomic_path
from artnet.model.backbones import DENSENET121, get_backbone
from artnet.model.folder import ModelFolderError, check_folder, model_path, write_config
from artnet.model.heads import HEADS

LOGITS_LAYER = "logits"
PROBABILITIES_LAYER = "probabilities"
# The training top's extra output, "none of these" (artnet.model.scope): trained, then kept in config.json.
OUT_OF_SCOPE_LAYER = "head_out_of_scope"
NORMALISATION_LAYER = "imagenet_normalization"
# Every layer of a head is named with this prefix, or is the logits or the probabilities.
HEAD_PREFIX = "head_"
STYLE_STATISTICS_PREFIX = "style_statistics"

STYLE_HIDDEN_UNITS = 256
STYLE_WEIGHT_DECAY = 1e-3
# The standard deviation's square root needs a floor: a channel that is zero everywhere (a dead ReLU) would
# otherwise give Grad-CAM an infinite gradient.
VARIANCE_FLOOR = 1e-6

# Cached trunk outputs are float32 (artnet.train.features); pixels are uint8.
CACHED_BYTES_PER_VALUE = 4
MAX_CUT_BYTES_PER_PIXEL = 4
# Layers that behave differently while training, although they have no weights: never part of a frozen trunk.
_RANDOM_IN_TRAINING = (
    keras.layers.Dropout,
    keras.layers.SpatialDropout2D,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.AlphaDropout,
)


@keras.saving.register_keras_serializable(package="artnet")
class ContentMask(keras.layers.Layer):
    """Where the painting is, at the size of a layer's features: the share of each cell that is painting
    rather than the padding that squares it (pixels of exactly artnet.data.images.PAD_COLOR), (batch, height,
    width, 1). The style statistics are taken over the painting alone, so that the padding, which
    paintings of some collections never have, tells the head nothing."""

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = tuple(size)

    def build(self, input_shape):
        # Area interpolation as two constant matrices: XLA compiles it (ResizeArea it does not).
        self._rows = _area_weights(input_shape[1], self.size[0])
        self._columns = _area_weights(input_shape[2], self.size[1])

    def call(self, pixels):
        padding = ops.all(ops.equal(pixels, ops.convert_to_tensor(PAD_COLOR, dtype=pixels.dtype)), axis=-1)
        painting = ops.cast(ops.logical_not(padding), "float32")
        return ops.einsum("ih,bhw,jw->bij", self._rows, painting, self._columns)[..., None]

    def compute_output_spec(self, pixels):
        return keras.KerasTensor((pixels.shape[0], *self.size, 1), dtype="float32")

    def get_config(self):
        return {**super().get_config(), "size": list(self.size)}


def _area_weights(source, target):
    """(target, source): row i averages the source cells that target cell i covers, each by its overlap."""
    weights = np.zeros((target, source), np.float32)
    scale = source / target
    for row in range(target):
        start, end = row * scale, (row + 1) * scale
        for cell in range(math.floor(start), math.ceil(end)):
            weights[row, cell] = min(end, cell + 1) - max(start, cell)
    return weights / scale


@keras.saving.register_keras_serializable(package="artnet")
class ChannelStatistics(keras.layers.Layer):
    """Each channel's mean and standard deviation over the painting (its ContentMask weighs each
    position), side by side: (batch, 2 x channels). Channel statistics of a network's feature maps are the
    classic description of a painting's style."""

    def call(self, inputs):
        features, weights = inputs
        features = ops.cast(features, "float32")
        total = ops.sum(weights, axis=(1, 2)) + VARIANCE_FLOOR
        mean = ops.sum(features * weights, axis=(1, 2)) / total
        variance = ops.sum(ops.square(features) * weights, axis=(1, 2)) / total - ops.square(mean)
        return ops.concatenate([mean, ops.sqrt(ops.maximum(variance, 0.0) + VARIANCE_FLOOR)], axis=-1)

    def compute_output_spec(self, inputs):
        features = inputs[0]
        return keras.KerasTensor((features.shape[0], 2 * features.shape[-1]), dtype="float32")


def build_model(num_classes, image_size=224, backbone_weights="imagenet", backbone=DENSENET121.name, head="reference"):
    """`backbone` (a name of artnet.model.backbones) without its top, with its pixel normalisation in front and
    `head` (one of HEADS) on top. `backbone_weights` is "imagenet" (downloaded by Keras), None (random, for
    tests) or the path of a notop weights file of that backbone."""
    spec = get_backbone(backbone)
    if head not in HEADS:
        raise ValueError(f"Unknown head {head!r}; choose one of {', '.join(HEADS)}.")
    if isinstance(backbone_weights, os.PathLike):
        backbone_weights = os.fspath(backbone_weights)
    spec.check_weights(backbone_weights)
    pixels = keras.Input((image_size, image_size, 3), name="pixels")
    normalised = keras.layers.Normalization(
        mean=spec.pixel_mean, variance=spec.pixel_variance, name=NORMALISATION_LAYER
    )(pixels)
    features = spec.build(normalised, backbone_weights)
    if head == "reference":
        x = keras.layers.GlobalAveragePooling2D(name="head_pool")(features.output)
        x = keras.layers.Dropout(0.5, name="head_dropout")(x)
        x = keras.layers.BatchNormalization(name="head_bn")(x)
        regulariser = None
    else:
        statistics = []
        for index, name in enumerate(spec.style_layers):
            tap = features.get_layer(name).output
            mask = ContentMask(tap.shape[1:3], name=f"{STYLE_STATISTICS_PREFIX}_mask_{index}")(pixels)
            statistics.append(ChannelStatistics(name=f"{STYLE_STATISTICS_PREFIX}_{index}")([tap, mask]))
        x = keras.layers.Concatenate(name=STYLE_STATISTICS_PREFIX)(statistics)
        x = keras.layers.BatchNormalization(name="head_bn")(x)
        x = keras.layers.Dropout(0.5, name="head_dropout")(x)
        regulariser = keras.regularizers.L2(STYLE_WEIGHT_DECAY)
        x = keras.layers.Dense(
            STYLE_HIDDEN_UNITS, activation="relu", kernel_regularizer=regulariser, name="head_hidden"
        )(x)
        x = keras.layers.Dropout(0.5, name="head_hidden_dropout")(x)
    logits = keras.layers.Dense(num_classes, kernel_regularizer=regulariser, name=LOGITS_LAYER)(x)
    # float32 even under mixed precision, so that probabilities sum to one exactly enough.
    probabilities = keras.layers.Activation("softmax", dtype="float32", name=PROBABILITIES_LAYER)(logits)
    return keras.Model(pixels, probabilities, name=f"artnet_{spec.application.lower()}")


def with_out_of_scope_output(top):
    """A copy of the top, with its weights, and a further output beside the movements, "none of these":
    one unit on what the logits layer sees, with its regularisation, under one softmax with the movements'
    logits. The movements' logits and probabilities keep their layers' names, by which the trained weights
    are copied into the whole network."""
    # Rebuilt from its config: a top cut out of the whole network starts from a tensor inside it, which a
    # new output cannot be connected to.
    copy = keras.Model.from_config(top.get_config())
    copy.set_weights(top.get_weights())
    top = copy
    logits = top.get_layer(LOGITS_LAYER)
    none = keras.layers.Dense(1, kernel_regularizer=logits.kernel_regularizer, name=OUT_OF_SCOPE_LAYER)(logits.input)
    joined = keras.layers.Concatenate(name=f"{HEAD_PREFIX}movements_and_none")([logits.output, none])
    probabilities = keras.layers.Activation("softmax", dtype="float32", name=f"{HEAD_PREFIX}probabilities_with_none")(
        joined
    )
    return keras.Model(top.input, probabilities, name="top_with_out_of_scope")


def answer_outputs(model):
    """The network with the outputs an answer is made of: the logits, and the embedding they are computed from
    (what the "none of these" unit and the closest paintings read)."""
    head = model.get_layer(LOGITS_LAYER)
    return keras.Model(model.inputs, [head.output, head.input])


def calibrated_probabilities(logits, temperature):
    """softmax(logits / temperature) in float32: the probabilities that every pass shows a user."""
    return ops.softmax(ops.cast(logits, "float32") / temperature, axis=-1)


def is_head_layer(layer):
    return layer.name.startswith((HEAD_PREFIX, STYLE_STATISTICS_PREFIX)) or layer.name in (
        LOGITS_LAYER,
        PROBABILITIES_LAYER,
    )


def apply_freeze_policy(model, policy, backbone=DENSENET121.name):
    """Set which layers train: the head always, the backbone's layers as `policy` (a freeze policy of the
    backbone, see artnet.model.backbones) says."""
    trains = get_backbone(backbone).freeze_policy(policy).trains
    for layer in model.layers:
        layer.trainable = is_head_layer(layer) or trains(layer.name, isinstance(layer, keras.layers.BatchNormalization))
    return model


def split_at_training(model):
    """(trunk, top): the model cut where training starts.

    The trunk is every layer that training cannot change and that computes the same in training as in
    inference (no trainable weights, no dropout), fed only by the trunk; the top is the rest, fed by the
    trunk's outputs. So the trunk's outputs for each view of a painting can be computed once and cached,
    and training runs the top alone. When those outputs are many times larger than the pixels (the trunk
    is a convolution or two at full resolution, as when every BatchNormalization layer trains), or the
    trunk has nothing to compute but the normalisation, caching them would cost more than computing
    them: the cut is then at the input, trunk is None and the top is the whole model, which trains on
    cached pixels.
    """
    trunk_tensors = {id(tensor) for tensor in model.inputs}
    trunk_computes = False  # whether a layer with weights (a convolution, say) is in the trunk
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        fixed = not layer.trainable_weights and not isinstance(layer, _RANDOM_IN_TRAINING)
        if fixed and all(id(tensor) in trunk_tensors for tensor in keras.tree.flatten(layer.input)):
            trunk_tensors.update(id(tensor) for tensor in keras.tree.flatten(layer.output))
            trunk_computes = trunk_computes or bool(layer.weights) and not isinstance(layer, keras.layers.Normalization)
    cut, seen = [], set()
    for layer in model.layers:
        outputs = keras.tree.flatten(layer.output)
        if isinstance(layer, keras.layers.InputLayer) or id(outputs[0]) in trunk_tensors:
            continue
        for tensor in keras.tree.flatten(layer.input):
            if id(tensor) in trunk_tensors and id(tensor) not in seen:
                seen.add(id(tensor))
                cut.append(tensor)
    if any(id(tensor) in trunk_tensors for tensor in model.outputs):
        raise ValueError("Nothing in this model trains.")
    pixels = math.prod(model.input_shape[1:])
    cut_values = sum(math.prod(tensor.shape[1:]) for tensor in cut)
    too_large = cut_values * CACHED_BYTES_PER_VALUE > MAX_CUT_BYTES_PER_PIXEL * pixels
    if not trunk_computes or too_large:
        return None, model
    # A single tensor rather than a list of one, so that the parts are called as the whole is.
    cut = cut[0] if len(cut) == 1 else cut
    return keras.Model(model.input, cut, name="trunk"), keras.Model(cut, model.output, name="top")


def save_folder(model, folder, labels, backbone=DENSENET121.name, head="reference", **extra_config):
    """Write model.keras, then config.json (artnet.model.folder), each atomically."""
    spec = get_backbone(backbone)
    labels = list(labels)
    if model.output_shape[-1] != len(labels):
        raise ValueError(f"The model has {model.output_shape[-1]} outputs but {len(labels)} labels were given.")
    os.makedirs(folder, exist_ok=True)
    with atomic_path(model_path(folder), suffix=".keras") as temporary:
        model.save(temporary)
    write_config(
        folder,
        {
            "backbone": spec.name,
            "backbone_title": spec.title,
            "head": head,
            "labels": labels,
            "image_size": int(model.input_shape[1]),
            "input": "RGB pixels in 0..255; the backbone's ImageNet normalisation happens inside the model",
            "padding": "pad to square with the ImageNet mean colour, then resize (artnet.data.images.square_image)",
            "gradcam_layers": [dict(layer) for layer in spec.gradcam_layers],
            **extra_config,
        },
    )
    return folder


def load_folder(folder):
    """Load a model folder written by `save_folder`: (model, config). Raises ModelFolderError."""
    folder = os.fspath(folder)
    config = check_folder(folder)
    path = model_path(folder)
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, TypeError) as error:
        raise ModelFolderError(
            f"{path!r} could not be loaded ({type(error).__name__}: {str(error).splitlines()[0][:200]}). "
            "The file may be corrupt; copy or download it again."
        ) from None
    if model.output_shape[-1] != len(config["labels"]):
        raise ModelFolderError(
            f"{path!r} has {model.output_shape[-1]} outputs but its config lists "
            f"{len(config['labels'])} labels. The folder is inconsistent; train or download it again."
        )
    return model, config
