"""Class activation maps of several methods at several layers, all from one compiled pass.

Every method here weights a layer's activations A by what the gradient g of the chosen class's *logit*
with respect to A says, and keeps the positive part of the weighted sum over channels:
ReLU(sum over channels of weights x A). The methods differ only in the weights:

    Grad-CAM    (Selvaraju et al., 2017)      the spatial mean of g, one weight per channel
    Grad-CAM++  (Chattopadhyay et al., 2018)  per channel, positive gradients weighted by the closed-form
                                              alphas of the exponentiated score, from g alone
    LayerCAM    (Jiang et al., 2021)          ReLU(g), one weight per position and channel
    HiResCAM    (Draelos and Carin, 2020)     g itself, one weight per position and channel

One forward and one backward pass serve every layer and every method, and also yield the probabilities,
so predicting and explaining cost one pass, not two.

As in pytorch-grad-cam, the shared work lives in `BaseCAM`; a CAM method only says how it weights the
activations (`get_cam_weights`). This module knows TensorFlow, not Gradio; drawing the maps is artnet.explain.overlay's.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import keras
import numpy as np
import numpy.typing as npt
import tensorflow as tf

from artnet.model.network import calibrated_probabilities

# A map whose range is below this fraction of its peak carries no spatial information (a flat image, or
# a class with no positive evidence): it is reported as all zeros rather than amplified noise or NaN.
FLAT_MAP_TOLERANCE = 1e-6


@dataclass(frozen=True)
class CamResult:
    """Maps in 0..1 at the layers' own resolution, per image, with the pass's probabilities."""

    maps: dict[str, dict[str, np.ndarray]]  # method name -> layer name -> float32 array (batch, height, width)
    probabilities: np.ndarray  # (batch, classes)
    class_indices: np.ndarray  # (batch,) the class each map explains
    embeddings: np.ndarray  # (batch, features) what the logits layer sees
    logits: np.ndarray  # (batch, classes) as the network gives them, before the temperature


class BaseCAM:
    """Builds one model that outputs the chosen layers' activations and the logits, and compiles the pass
    that turns them into class activation maps and probabilities: softmax(logits / temperature), the
    model folder's calibration (artnet.model.calibration).

    A method's class computes its own maps; `methods` (CAM classes) asks for several from the same pass.
    """

    name: str | None = None  # what people call the method, as listed in CAM_METHODS
    methods: tuple[type["BaseCAM"], ...]
    layer_names: tuple[str, ...]
    temperature: float

    def __init__(
        self,
        model: keras.Model,
        layer_names: Iterable[str],
        logits_layer: str = "logits",
        jit_compile: bool = False,
        temperature: float = 1.0,
        methods: Iterable[type["BaseCAM"]] | None = None,
    ) -> None:
        self.methods = tuple(methods or (type(self),))
        if any(method.name is None for method in self.methods):
            raise ValueError(f"Name the CAM methods to compute; one of {', '.join(CAM_METHODS)}.")
        self.layer_names = tuple(layer_names)
        if not self.layer_names:
            raise ValueError("Grad-CAM needs at least one layer.")
        known = {layer.name for layer in model.layers}
        unknown = [name for name in (*self.layer_names, logits_layer) if name not in known]
        if unknown:
            raise ValueError(f"The model has no layer named {', '.join(map(repr, unknown))}.")
        activations = [model.get_layer(name).output for name in self.layer_names]
        logits = model.get_layer(logits_layer)
        # What the logits layer sees comes out too: the painting's embedding, for similar paintings.
        self._cam_model = keras.Model(model.inputs, [*activations, logits.input, logits.output])
        self.temperature = float(temperature)
        image_spec = tf.TensorSpec([None, *model.input_shape[1:]], tf.float32)
        self._compiled_pass = tf.function(
            self._maps_and_probabilities,
            input_signature=[image_spec, tf.TensorSpec([None], tf.int32)],
            jit_compile=jit_compile,
        )

    @staticmethod
    def get_cam_weights(activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
        """Weights of the (batch, height, width, channels) activations, from their gradients: of that
        shape, or (batch, 1, 1, channels) for one weight per channel."""
        raise NotImplementedError

    def __call__(self, images: npt.ArrayLike, class_indices: npt.ArrayLike | None = None) -> CamResult:
        """`images`: (batch, height, width, 3) pixels in 0..255. `class_indices`: one per image, or None
        (or -1 in place of an index) to explain each image's top class."""
        images = np.asarray(images, dtype=np.float32)
        if class_indices is None:
            class_indices = np.full(len(images), -1, dtype=np.int32)
        maps, probabilities, explained, embeddings, logits = self._compiled_pass(
            images, np.asarray(class_indices, dtype=np.int32)
        )
        return CamResult(
            maps={
                method.name: {name: cam.numpy() for name, cam in zip(self.layer_names, method_maps)}
                for method, method_maps in zip(self.methods, maps)
            },
            probabilities=probabilities.numpy(),
            class_indices=explained.numpy(),
            embeddings=embeddings.numpy(),
            logits=logits.numpy(),
        )

    def _maps_and_probabilities(self, images, class_indices):
        # Only gradients with respect to activations are needed: not watching the weights keeps their
        # gradients out of the backward pass. Watching the images records every activation.
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(images)
            *activations, embeddings, logits = self._cam_model(images, training=False)
            logits = tf.cast(logits, tf.float32)
            probabilities = calibrated_probabilities(logits, self.temperature)
            top_classes = tf.argmax(logits, axis=-1, output_type=tf.int32)
            explained = tf.where(class_indices < 0, top_classes, class_indices)
            # Summing over the batch is exact: each image's logit depends only on its own activations.
            scores = tf.reduce_sum(tf.gather(logits, explained, batch_dims=1))
        # A layer that the logits do not depend on has zero gradients, hence a zero map.
        gradients = tape.gradient(scores, activations, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        # An image without any variation has nothing to localise: its maps would only show where the
        # convolutions' zero padding meets the border. Such images get all-zero maps.
        has_content = tf.reduce_max(images, axis=(1, 2, 3)) > tf.reduce_min(images, axis=(1, 2, 3))
        activations = [tf.cast(layer_activations, tf.float32) for layer_activations in activations]
        gradients = [tf.cast(layer_gradients, tf.float32) for layer_gradients in gradients]
        maps = []
        for method in self.methods:
            method_maps = []
            for layer_activations, layer_gradients in zip(activations, gradients):
                weights = method.get_cam_weights(layer_activations, layer_gradients)
                cam = tf.nn.relu(tf.reduce_sum(layer_activations * weights, axis=-1))
                method_maps.append(tf.where(has_content[:, tf.newaxis, tf.newaxis], normalise_maps(cam), 0.0))
            maps.append(method_maps)
        return maps, probabilities, explained, tf.cast(embeddings, tf.float32), logits


class GradCAM(BaseCAM):
    """Grad-CAM: each channel is weighted by the spatial mean of its gradient."""

    name = "Grad-CAM"

    @staticmethod
    def get_cam_weights(activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
        return tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)


class GradCAMPlusPlus(BaseCAM):
    """Grad-CAM++: each channel is weighted by its positive gradients, each scaled by alpha. With the
    exponentiated score exp(logit), the second and third derivatives are exp(logit) g^2 and exp(logit) g^3
    (the network is piecewise linear past the layer), so alpha = g^2 / (2 g^2 + sum of A x g^3) needs only
    g. The common factor exp(logit) only scales the map, which is normalised, so it is left out."""

    name = "Grad-CAM++"

    @staticmethod
    def get_cam_weights(activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
        squared = tf.square(gradients)
        denominator = 2.0 * squared + tf.reduce_sum(activations, axis=(1, 2), keepdims=True) * squared * gradients
        # Where the gradient is zero, alpha is zero: 0/0 there, and nothing to weigh anyway.
        alphas = tf.math.divide_no_nan(squared, tf.where(gradients != 0.0, denominator, 0.0))
        return tf.reduce_sum(alphas * tf.nn.relu(gradients), axis=(1, 2), keepdims=True)


class LayerCAM(BaseCAM):
    """LayerCAM: each activation is weighted by its own positive gradient."""

    name = "LayerCAM"

    @staticmethod
    def get_cam_weights(activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
        return tf.nn.relu(gradients)


class HiResCAM(BaseCAM):
    """HiResCAM: each activation is weighted by its own gradient, so the map sums to what the layer
    contributes to the score when the rest of the network is linear (unlike Grad-CAM's averaged weights)."""

    name = "HiResCAM"

    @staticmethod
    def get_cam_weights(activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
        return gradients


# Every method, by the name people know it by, in the order the app lists them.
CAM_METHODS: dict[str, type[BaseCAM]] = {
    method.name: method for method in (GradCAM, GradCAMPlusPlus, LayerCAM, HiResCAM)
}


def cam_method(name: str) -> type[BaseCAM]:
    """The CAM class called `name`; an unknown name raises ValueError listing the methods."""
    if name not in CAM_METHODS:
        raise ValueError(f"Unknown CAM method {name!r}; choose one of {', '.join(CAM_METHODS)}.")
    return CAM_METHODS[name]


def normalise_maps(cams: tf.Tensor) -> tf.Tensor:
    """Scale each (height, width) map of a batch to 0..1; a map without spatial variation becomes zeros."""
    low = tf.reduce_min(cams, axis=(1, 2), keepdims=True)
    high = tf.reduce_max(cams, axis=(1, 2), keepdims=True)
    spread = high - low
    informative = spread > FLAT_MAP_TOLERANCE * tf.maximum(high, 1e-30)
    return tf.where(informative, (cams - low) / tf.where(informative, spread, 1.0), tf.zeros_like(cams))
