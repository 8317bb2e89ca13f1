"""The original ArtNet's way to explain: eager Keras calls, one GradientTape pass per Grad-CAM layer.

Written here once, with the gradient-weighting fault corrected, so that benchmarks compare the cost of
the approach (eager, one pass per layer) and not a wrong formula.
"""

import keras
import numpy as np
import tensorflow as tf


def eager_grad_cam(model, pixels, layers, logits_layer="logits"):
    """(probabilities, [map per layer]) for a (1, size, size, 3) batch, the top class, all eager."""
    pixels = tf.constant(pixels)
    probabilities = model(pixels, training=False).numpy()[0]
    top = int(np.argmax(probabilities))
    maps = []
    for name in layers:
        grad_model = keras.Model(model.inputs, [model.get_layer(name).output, model.get_layer(logits_layer).output])
        with tf.GradientTape() as tape:
            activations, logits = grad_model(pixels, training=False)
            score = logits[:, top]
        gradients = tape.gradient(score, activations)
        weights = tf.reduce_mean(gradients, axis=(1, 2))
        cam = tf.nn.relu(tf.einsum("bhwc,bc->bhw", activations, weights)).numpy()[0]
        maps.append(cam / max(cam.max(), 1e-12))
    return probabilities, maps
