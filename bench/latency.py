"""Single-image latency of Classifier.classify and .explain against the original app's eager approach.

The original ArtNet ran the network eagerly: one `model(x)` call to classify, then for every Grad-CAM
layer its own eager GradientTape pass. ArtNet compiles one pass for the probabilities and all layers.
Both sides run here, on the same DenseNet-121, the same 224 x 224 input, in one process, and the table
reports the medians and their ratios. ImageNet weights are not needed: weights do not change the timing.

    python bench/latency.py [--repeats 15] [--eager-repeats 3]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

from artnet.classifier import Classifier  # noqa: E402
from artnet.images import load_image, square_image, to_array  # noqa: E402
from artnet.model import build_model, save_folder  # noqa: E402
from artnet.styles import MOVEMENTS  # noqa: E402

EXPLAINED_LAYERS = ("conv3_block12_concat", "conv4_block24_concat", "relu")


def median_ms(function, repeats):
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def naive_classify(model, painting):
    pixels = to_array(square_image(load_image(painting), model.input_shape[1]))[np.newaxis]
    return model(pixels, training=False).numpy()[0]


def naive_explain(model, painting, layers=EXPLAINED_LAYERS):
    """The original app's way: predict, then one eager GradientTape pass per layer."""
    pixels = tf.constant(to_array(square_image(load_image(painting), model.input_shape[1]))[np.newaxis])
    probabilities = model(pixels, training=False).numpy()[0]
    top = int(np.argmax(probabilities))
    maps = []
    for name in layers:
        grad_model = keras.Model(model.inputs, [model.get_layer(name).output, model.get_layer("logits").output])
        with tf.GradientTape() as tape:
            activations, logits = grad_model(pixels, training=False)
            score = logits[:, top]
        gradients = tape.gradient(score, activations)
        weights = tf.reduce_mean(gradients, axis=(1, 2))
        cam = tf.nn.relu(tf.einsum("bhwc,bc->bhw", activations, weights)).numpy()[0]
        maps.append(cam / max(cam.max(), 1e-12))
    return probabilities, maps


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15, help="timed calls of each compiled operation")
    parser.add_argument("--eager-repeats", type=int, default=3, help="timed calls of each eager operation")
    parser.add_argument("--image-size", type=int, default=224)
    options = parser.parse_args()

    painting = Image.fromarray(np.random.default_rng(0).integers(0, 256, (800, 1000, 3), dtype=np.uint8))
    with tempfile.TemporaryDirectory() as folder:
        save_folder(build_model(len(MOVEMENTS), options.image_size, backbone_weights=None), folder, MOVEMENTS)
        start = time.perf_counter()
        classifier = Classifier.from_folder(folder)
        load_seconds = time.perf_counter() - start
    model = classifier.model

    def explain_and_render():
        explanation = classifier.explain(painting, layers=EXPLAINED_LAYERS)
        return [explanation.overlay(layer) for layer in EXPLAINED_LAYERS]

    naive_classify(model, painting)  # the eager path's first call builds its own state; do not time it
    rows = [
        ("classify", median_ms(lambda: classifier.classify(painting), options.repeats),
         median_ms(lambda: naive_classify(model, painting), options.eager_repeats)),
        (f"explain, {len(EXPLAINED_LAYERS)} layers", median_ms(lambda: classifier.explain(painting, layers=EXPLAINED_LAYERS), options.repeats),
         median_ms(lambda: naive_explain(model, painting), options.eager_repeats)),
        ("explain + render overlays", median_ms(explain_and_render, options.repeats), None),
    ]

    print(f"\nDenseNet-121 at {options.image_size}x{options.image_size}, 1000x800 input painting, "
          f"{os.cpu_count()} CPU cores, TensorFlow {tf.__version__}")
    print(f"Classifier.from_folder (load + compile + warm-up): {load_seconds:.1f} s\n")
    print(f"| {'operation':<28} | {'ArtNet ms':>10} | {'naive eager ms':>14} | {'speed-up':>8} |")
    print(f"|{'-' * 30}|{'-' * 12}|{'-' * 16}|{'-' * 10}|")
    for name, artnet_ms, naive_ms in rows:
        naive = f"{naive_ms:14.0f}" if naive_ms is not None else f"{'-':>14}"
        ratio = f"{naive_ms / artnet_ms:7.1f}x" if naive_ms is not None else f"{'-':>8}"
        print(f"| {name:<28} | {artnet_ms:10.0f} | {naive} | {ratio} |")


if __name__ == "__main__":
    main()
