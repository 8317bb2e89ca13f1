"""Grad-CAM cost: ArtNet against the peer library tf-keras-vis and the original app's eager passes.

Same DenseNet-121, same layers, same 224 x 224 input, on the CPU, in one process. Every method ends with
maps at the input's size, as tf-keras-vis returns them. The targets: four layers cost at most 1.3x one
layer, and ArtNet is at least 3x faster than tf-keras-vis.

One layer is timed twice: the final layer needs a backward pass through the head only, the earliest of
the four needs one through almost the whole network. Four layers in one pass cost what their earliest
layer costs.

    python bench/explain_peers.py [--repeats 15] [--peer-repeats 5]
"""

import argparse
import os

from timing import median_ms, print_table, setup_environment

setup_environment()

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras_vis  # noqa: E402
from naive import eager_grad_cam  # noqa: E402
from tf_keras_vis.gradcam import Gradcam  # noqa: E402
from tf_keras_vis.utils.model_modifiers import ReplaceToLinear  # noqa: E402
from tf_keras_vis.utils.scores import CategoricalScore  # noqa: E402

from artnet.explain.cams import GradCAM  # noqa: E402
from artnet.explain.overlay import upsample_map  # noqa: E402
from artnet.model.backbones import DENSENET121  # noqa: E402
from artnet.model.network import build_model  # noqa: E402

FOUR_LAYERS = tuple(layer["name"] for layer in DENSENET121.gradcam_layers)
FINAL_LAYER, EARLIEST_LAYER = FOUR_LAYERS[-1:], FOUR_LAYERS[:1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15, help="timed calls of each ArtNet operation")
    parser.add_argument("--peer-repeats", type=int, default=5, help="timed calls of each slower method")
    parser.add_argument("--jit-compile", action="store_true", help="also time ArtNet with XLA")
    options = parser.parse_args()

    size = 224
    model = build_model(5, size, backbone_weights=None)
    pixels = np.random.default_rng(0).uniform(0, 255, (1, size, size, 3)).astype(np.float32)
    top_class = int(np.argmax(model.predict(pixels, verbose=0)[0]))

    def artnet(layers, jit_compile=False):
        cam = GradCAM(model, layers, jit_compile=jit_compile)
        cam(pixels)  # tracing happens once at start-up, as in the app

        def explain():
            result = cam(pixels)
            return [upsample_map(result.maps["Grad-CAM"][name][0], (size, size)) for name in layers]

        return explain

    peer = Gradcam(model, model_modifier=ReplaceToLinear(), clone=True)

    def peer_explain(layers):
        score = CategoricalScore([top_class])
        return lambda: [
            peer(score, pixels, penultimate_layer=name, seek_penultimate_conv_layer=False) for name in layers
        ]

    def eager(layers):
        return lambda: eager_grad_cam(model, pixels, layers)

    methods = [("ArtNet (tf.function, one pass)", artnet, options.repeats)]
    if options.jit_compile:
        methods.append(("ArtNet + XLA", lambda layers: artnet(layers, jit_compile=True), options.repeats))
    methods += [
        (f"tf-keras-vis {tf_keras_vis.__version__} Gradcam", peer_explain, options.peer_repeats),
        ("original app (eager, pass per layer)", eager, options.peer_repeats),
    ]
    results = {}
    for name, make, repeats in methods:
        explainers = [make(layers) for layers in (FINAL_LAYER, EARLIEST_LAYER, FOUR_LAYERS)]
        for explain in explainers:
            explain()  # warm-up calls are not timed
        results[name] = [median_ms(explain, repeats) for explain in explainers]

    ours = results[methods[0][0]]
    print(
        f"\nGrad-CAM on DenseNet-121, 224x224 input, maps upsampled to 224x224, {os.cpu_count()} CPU cores, "
        f"TensorFlow {tf.__version__}; medians in ms\n"
    )
    print_table(
        [
            "method",
            f"{FINAL_LAYER[0]}",
            f"{EARLIEST_LAYER[0]}",
            "all 4",
            "4 / final",
            "4 / earliest",
            "ArtNet faster, 1 layer",
            "ArtNet faster, 4 layers",
        ],
        [
            [
                name,
                f"{final:.0f}",
                f"{earliest:.0f}",
                f"{four:.0f}",
                f"{four / final:.2f}x",
                f"{four / earliest:.2f}x",
                f"{final / ours[0]:.1f}x",
                f"{four / ours[2]:.1f}x",
            ]
            for name, (final, earliest, four) in results.items()
        ],
    )


if __name__ == "__main__":
    main()
