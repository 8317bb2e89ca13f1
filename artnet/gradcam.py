"""Grad-CAM (Selvaraju et al., 2017) for several layers in one compiled pass.

For each layer, the weight of an activation channel is the spatial mean of the gradient of the chosen
class's *logit* with respect to that channel; the map is ReLU(sum of weights x activations). One forward
and one backward pass serve every layer and also yield the probabilities, so predicting and explaining
cost one pass, not two.

As in pytorch-grad-cam, the shared work lives in `BaseCAM`; a CAM method only says how it weights the
channels (`get_cam_weights`). This module knows TensorFlow, not Gradio; drawing the maps is artnet.overlay's.
"""

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

# A map whose range is below this fraction of its peak carries no spatial information (a flat image, or
# a class with no positive evidence): it is reported as all zeros rather than amplified noise or NaN.
FLAT_MAP_TOLERANCE = 1e-6


@dataclass(frozen=True)
class CamResult:
    """Maps in 0..1 at the layers' own resolution, per image, with the pass's probabilities."""

    maps: dict  # layer name -> float32 array (batch, height, width)
    probabilities: np.ndarray  # (batch, classes)
    class_indices: np.ndarray  # (batch,) the class each map explains
    embeddings: np.ndarray  # (batch, features) what the logits layer sees


class BaseCAM:
    """Builds one model that outputs the chosen layers' activations and the logits, and compiles the pass
    that turns them into class activation maps and probabilities: softmax(logits / temperature), the
    model folder's calibration (artnet.calibration)."""

    def __init__(self, model, layer_names, logits_layer="logits", jit_compile=False, temperature=1.0):
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

    def get_cam_weights(self, activations, gradients):
        """(batch, channels) weights of the activation channels."""
        raise NotImplementedError

    def __call__(self, images, class_indices=None):
        """`images`: (batch, height, width, 3) pixels in 0..255. `class_indices`: one per image, or None
        (or -1 in place of an index) to explain each image's top class."""
        images = np.asarray(images, dtype=np.float32)
        if class_indices is None:
            class_indices = np.full(len(images), -1, dtype=np.int32)
        maps, probabilities, explained, embeddings = self._compiled_pass(images, np.asarray(class_indices, dtype=np.int32))
        return CamResult(
            maps={name: cam.numpy() for name, cam in zip(self.layer_names, maps)},
            probabilities=probabilities.numpy(),
            class_indices=explained.numpy(),
            embeddings=embeddings.numpy(),
        )

    def _maps_and_probabilities(self, images, class_indices):
        # Only gradients with respect to activations are needed: not watching the weights keeps their
        # gradients out of the backward pass. Watching the images records every activation.
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(images)
            *activations, embeddings, logits = self._cam_model(images, training=False)
            logits = tf.cast(logits, tf.float32)
            probabilities = tf.nn.softmax(logits / self.temperature)
            top_classes = tf.argmax(logits, axis=-1, output_type=tf.int32)
            explained = tf.where(class_indices < 0, top_classes, class_indices)
            # Summing over the batch is exact: each image's logit depends only on its own activations.
            scores = tf.reduce_sum(tf.gather(logits, explained, batch_dims=1))
        # A layer that the logits do not depend on has zero gradients, hence a zero map.
        gradients = tape.gradient(scores, activations, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        # An image without any variation has nothing to localise: its maps would only show where the
        # convolutions' zero padding meets the border. Such images get all-zero maps.
        has_content = tf.reduce_max(images, axis=(1, 2, 3)) > tf.reduce_min(images, axis=(1, 2, 3))
        maps = []
        for layer_activations, layer_gradients in zip(activations, gradients):
            layer_activations = tf.cast(layer_activations, tf.float32)
            weights = self.get_cam_weights(layer_activations, tf.cast(layer_gradients, tf.float32))
            cam = tf.nn.relu(tf.einsum("bhwc,bc->bhw", layer_activations, weights))
            maps.append(tf.where(has_content[:, tf.newaxis, tf.newaxis], normalise_maps(cam), 0.0))
        return maps, probabilities, explained, tf.cast(embeddings, tf.float32)


class GradCAM(BaseCAM):
    """Grad-CAM: each channel is weighted by the spatial mean of its gradient."""

    def get_cam_weights(self, activations, gradients):
        return tf.reduce_mean(gradients, axis=(1, 2))


def normalise_maps(cams):
    """Scale each (height, width) map of a batch to 0..1; a map without spatial variation becomes zeros."""
    low = tf.reduce_min(cams, axis=(1, 2), keepdims=True)
    high = tf.reduce_max(cams, axis=(1, 2), keepdims=True)
    spread = high - low
    informative = spread > FLAT_MAP_TOLERANCE * tf.maximum(high, 1e-30)
    return tf.where(informative, (cams - low) / tf.where(informative, spread, 1.0), tf.zeros_like(cams))
