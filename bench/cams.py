"""CAM methods' cost: ArtNet's four methods at four layers against Grad-CAM alone, and against tf-keras-vis.

Same MobileNet v1 (width 0.75) with the style head, as ArtNet builds it, same 224 x 224 input, on the
CPU, in one process. Every operation ends with maps at the input's size, as tf-keras-vis returns them.
The goal: Grad-CAM, Grad-CAM++, LayerCAM and HiResCAM at four layers, from ArtNet's one pass, cost at
most 1.3x Grad-CAM alone at those layers. tf-keras-vis takes one layer per call, so its four depths
cost four calls. ArtNet's rows are timed in turns, one call of each per round, then the peer's.

After the table, a sanity line: ArtNet's and tf-keras-vis's Grad-CAM++ and LayerCAM maps at the final
layer, for the same class, should agree (Pearson r), so that like is timed against like. At the
layer's 7 x 7 cells they do; at 224 x 224 they differ by how the maps are upsampled (scipy's zoom
aligns corners, ArtNet's PIL resize pixel centres).

    python bench/cams.py [--repeats 15] [--peer-repeats 5]
"""

import argparse
import os
import statistics

from timing import load_average, print_table, setup_environment, timings_ms

setup_environment()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras_vis  # noqa: E402
from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus  # noqa: E402
from tf_keras_vis.layercam import Layercam  # noqa: E402
from tf_keras_vis.utils.model_modifiers import ReplaceToLinear  # noqa: E402
from tf_keras_vis.utils.scores import CategoricalScore  # noqa: E402

from artnet.explain.cams import CAM_METHODS, BaseCAM  # noqa: E402
from artnet.explain.overlay import upsample_map  # noqa: E402
from artnet.model.backbones import get_backbone  # noqa: E402
from artnet.model.network import build_model  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEIGHTS = os.path.join(ROOT, "..", "shared", "weights", "mobilenet_0.75_imagenet_notop.weights.h5")
FOUR_LAYERS = tuple(layer["name"] for layer in get_backbone("mobilenet_0.75").gradcam_layers)
FINAL_LAYER = FOUR_LAYERS[-1:]
SIZE = 224


def side_by_side_ms(functions, repeats):
    """Median ms of each function, timed in turns (one call of each per round), so that drift in the
    machine's speed (other jobs, clocks) falls on all of them alike, not on whichever ran last."""
    timings = [[] for _ in functions]
    for _ in range(repeats):
        for function, row in zip(functions, timings):
            row += timings_ms(function, 1)
    return [statistics.median(row) for row in timings]


def pearson(a, b):
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15, help="timed calls of each ArtNet operation")
    parser.add_argument("--peer-repeats", type=int, default=5, help="timed calls of each tf-keras-vis operation")
    options = parser.parse_args()

    keras.utils.set_random_seed(0)  # the head is random: the same head, class and maps on every run
    weights = WEIGHTS if os.path.exists(WEIGHTS) else None
    model = build_model(5, SIZE, backbone_weights=weights, backbone="mobilenet_0.75", head="style")
    print(f"backbone weights: {os.path.relpath(weights, ROOT) if weights else 'none (random)'}; head random")
    pixels = np.random.default_rng(0).uniform(0, 255, (1, SIZE, SIZE, 3)).astype(np.float32)
    top_class = int(np.argmax(model.predict(pixels, verbose=0)[0]))
    classes = np.array([top_class], dtype=np.int32)

    def artnet(cam):
        cam(pixels, classes)  # tracing happens once at start-up, as in the app

        def explain():
            maps = cam(pixels, classes).maps
            return {
                method: {name: upsample_map(m[0], (SIZE, SIZE)) for name, m in layers.items()}
                for method, layers in maps.items()
            }

        return explain

    score = CategoricalScore([top_class])
    peers = {
        "Grad-CAM++": GradcamPlusPlus(model, model_modifier=ReplaceToLinear(), clone=True),
        "LayerCAM": Layercam(model, model_modifier=ReplaceToLinear(), clone=True),
    }

    def peer(method, layers, **keywords):
        return lambda: {
            name: peers[method](score, pixels, penultimate_layer=name, seek_penultimate_conv_layer=False, **keywords)[0]
            for name in layers
        }

    final, peer_name = FINAL_LAYER[0], f"tf-keras-vis {tf_keras_vis.__version__}"

    def cam(method, layers):
        methods = CAM_METHODS.values() if method == "all 4 methods" else [CAM_METHODS[method]]
        return BaseCAM(model, layers, methods=methods)

    def where(layers):
        return final if layers == FINAL_LAYER else "4 layers"

    # (row, the row of ArtNet's that a peer row is set against, operation, repeats)
    ours = [
        ("Grad-CAM", FOUR_LAYERS),
        ("all 4 methods", FOUR_LAYERS),
        ("Grad-CAM++", FINAL_LAYER),
        ("LayerCAM", FINAL_LAYER),
        ("Grad-CAM++", FOUR_LAYERS),
        ("LayerCAM", FOUR_LAYERS),
    ]
    cams = [cam(method, layers) for method, layers in ours]
    rows = [
        (f"ArtNet {method}, {where(layers)}", None, artnet(explainer), options.repeats)
        for (method, layers), explainer in zip(ours, cams)
    ]
    # tf-keras-vis takes one layer per call: four layers cost four calls.
    peer_classes = {"Grad-CAM++": "GradcamPlusPlus", "LayerCAM": "Layercam"}
    rows += [
        (
            f"{peer_name} {peer_classes[method]}, {where(layers)}",
            ours.index((method, layers)),
            peer(method, layers),
            options.peer_repeats,
        )
        for method, layers in ours[2:]
    ]
    outputs = [explain() for _, _, explain, _ in rows]  # warm-up calls are not timed
    # ArtNet's rows in turns, then the peer's: a peer's eager call leaves garbage for the next call to pay.
    times = [
        ms
        for group in (rows[: len(ours)], rows[len(ours) :])
        for ms in side_by_side_ms([explain for _, _, explain, _ in group], group[0][3])
    ]
    load = load_average()

    print(
        f"\nCAMs on MobileNet v1 0.75 (style head), 224x224 input, maps upsampled to 224x224, "
        f"TensorFlow {tf.__version__}, {load}; medians in ms\n"
    )
    print_table(
        ["operation", "ms", "vs Grad-CAM, 4 layers", "peer / ArtNet, same method and layers"],
        [
            [name, f"{ms:.0f}", f"{ms / times[0]:.2f}x", "" if against is None else f"{ms / times[against]:.1f}x"]
            for (name, against, _, _), ms in zip(rows, times)
        ],
    )

    # Agreement at the final layer: upsampled, as timed; at the layer's own 7 x 7 cells; and with
    # tf-keras-vis's 7 x 7 map upsampled as ArtNet does it (PIL, pixel centres aligned), not by scipy's
    # zoom (corners aligned), which is what the 224 x 224 figure differs by.
    agreement = []
    for method, artnet_row, peer_row in (("Grad-CAM++", 2, 6), ("LayerCAM", 3, 7)):
        native = cams[artnet_row](pixels, classes).maps[method][final][0]
        peer_native = np.asarray(peer(method, FINAL_LAYER, expand_cam=False)()[final])
        upsampled = outputs[artnet_row][method][final]
        agreement.append(
            f"{method} r = {pearson(upsampled, outputs[peer_row][final]):.4f} at 224x224, "
            f"{pearson(native, peer_native):.4f} at 7x7, "
            f"{pearson(upsampled, upsample_map(peer_native, (SIZE, SIZE))):.4f} upsampled alike"
        )
    print(f"\nagreement with {peer_name} at {final}, class {top_class}: " + "; ".join(agreement))


if __name__ == "__main__":
    main()
