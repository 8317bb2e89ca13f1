"""Single-image latency of Classifier.classify and .explain against the original app's eager approach.

The original ArtNet ran the network eagerly: one `model(x)` call to classify, then for every Grad-CAM
layer its own eager GradientTape pass. ArtNet compiles one pass for the probabilities and all layers.
Both sides run here, on the same DenseNet-121, the same 224 x 224 input, in one process, and the table
reports the medians and their ratios. ImageNet weights are not needed: weights do not change the timing.

    python bench/latency.py [--repeats 15] [--eager-repeats 3]
"""

import argparse
import os
import tempfile
import time

from timing import median_ms, print_table, setup_environment

setup_environment()

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from naive import eager_grad_cam  # noqa: E402
from PIL import Image  # noqa: E402

from artnet.data.images import load_image, square_image, to_array  # noqa: E402
from artnet.model.network import build_model, save_folder  # noqa: E402
from artnet.serve.classifier import Classifier  # noqa: E402
from artnet.styles import MOVEMENTS  # noqa: E402

EXPLAINED_LAYERS = ("conv3_block12_concat", "conv4_block24_concat", "relu")


def naive_pixels(model, painting):
    return to_array(square_image(load_image(painting), model.input_shape[1]))[np.newaxis]


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

    def naive_classify():
        return model(naive_pixels(model, painting), training=False).numpy()[0]

    def naive_explain():
        return eager_grad_cam(model, naive_pixels(model, painting), EXPLAINED_LAYERS)

    def explain_and_render():
        explanation = classifier.explain(painting, layers=EXPLAINED_LAYERS)
        return [explanation.overlay(layer) for layer in EXPLAINED_LAYERS]

    naive_classify()  # the eager path's first call builds its own state; it is not timed
    measured = [
        (
            "classify",
            median_ms(lambda: classifier.classify(painting), options.repeats),
            median_ms(naive_classify, options.eager_repeats),
        ),
        (
            f"explain, {len(EXPLAINED_LAYERS)} layers",
            median_ms(lambda: classifier.explain(painting, layers=EXPLAINED_LAYERS), options.repeats),
            median_ms(naive_explain, options.eager_repeats),
        ),
        ("explain + render overlays", median_ms(explain_and_render, options.repeats), None),
    ]

    print(
        f"\nDenseNet-121 at {options.image_size}x{options.image_size}, 1000x800 input painting, "
        f"{os.cpu_count()} CPU cores, TensorFlow {tf.__version__}"
    )
    print(f"Classifier.from_folder (load + compile + warm-up): {load_seconds:.1f} s\n")
    print_table(
        ["operation", "ArtNet ms", "naive eager ms", "speed-up"],
        [
            [
                name,
                f"{ours:.0f}",
                "-" if naive is None else f"{naive:.0f}",
                "-" if naive is None else f"{naive / ours:.1f}x",
            ]
            for name, ours, naive in measured
        ],
    )


if __name__ == "__main__":
    main()
