"""Training on cached features against training through the whole network, on the real paintings.

    python bench/training.py [--data ../shared/paintings] [--weights ../shared/weights/mobilenet_0.75_imagenet_notop.weights.h5]

Measured side by side in one run: feature extraction per 1,000 views; a training step of the default
recipe on cached features against the same step through the whole network, and a step of the reference
DenseNet-121 policy; `python train.py` with its defaults from the command to the model folder, with the
features not yet cached and then cached, its wall time and peak memory; and the trained model's test
accuracy against the frozen-features probe (a logistic regression on the pooled features of the whole
painting) on the same split. Takes about a quarter of an hour on 2 cores.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from timing import add_shared_data_options, load_average, median_ms, print_table, setup_environment

setup_environment()

import numpy as np  # noqa: E402
import psutil  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXTRACTION_PAINTINGS = 500
BATCH = 256


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_shared_data_options(parser)
    return parser.parse_args()


def full_run(arguments, output, cache):
    """`python train.py` with its defaults: (seconds, peak resident memory of its process tree in bytes, metrics)."""
    command = [
        sys.executable,
        os.path.join(ROOT, "train.py"),
        "--data",
        arguments.data,
        "--backbone-weights",
        arguments.weights,
        "--output",
        output,
        "--feature-cache",
        cache,
    ]
    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    peak = 0
    while process.poll() is None:
        try:
            peak = max(peak, sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]))
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.2)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(f"train.py failed with exit code {process.returncode}")
    with open(os.path.join(output, "metrics.json"), encoding="utf-8") as file:
        return seconds, peak, json.load(file)


def main():
    arguments = parse_arguments()
    print(f"bench/training.py: {load_average()}")
    workspace = tempfile.mkdtemp(prefix="artnet-bench-training-")
    cache = os.path.join(workspace, "cache")
    cold = full_run(arguments, os.path.join(workspace, "cold"), cache)
    warm = full_run(arguments, os.path.join(workspace, "warm"), cache)

    import keras

    from artnet.data.images import load_image
    from artnet.data.paintings import find_paintings, split_paintings
    from artnet.data.views import VIEWS
    from artnet.model.network import apply_freeze_policy, build_model, split_at_training
    from artnet.train import fitting
    from artnet.train.evaluation import classification_metrics
    from artnet.train.features import load_or_build
    from artnet.train.options import TrainingOptions
    from artnet.train.shortcuts import linear_probe

    options = TrainingOptions()
    source = find_paintings(arguments.data)
    labels = source.labels
    model = apply_freeze_policy(
        build_model(len(labels), 224, arguments.weights, options.backbone, options.head),
        options.freeze,
        options.backbone,
    )
    trunk, top = split_at_training(model)

    sample = source.paintings[:: max(1, len(source.paintings) // EXTRACTION_PAINTINGS)][:EXTRACTION_PAINTINGS]
    start = time.perf_counter()
    features = load_or_build(trunk, sample, tuple(VIEWS), 224, os.path.join(workspace, "sample"), progress=False)
    per_thousand_views = (time.perf_counter() - start) / (len(sample) * len(VIEWS)) * 1000

    rng = np.random.default_rng(0)
    targets = keras.utils.to_categorical(rng.integers(0, len(labels), BATCH), len(labels))
    rows, views = rng.integers(0, len(sample), BATCH), rng.integers(0, len(VIEWS), BATCH)
    cached_batch = fitting.model_inputs(features.take(np.sort(rows), views))
    fitting.compile_top(top, options)
    cached_step = median_ms(lambda: top.train_on_batch(cached_batch, targets), 20)
    pixels = rng.uniform(0, 255, (BATCH, 224, 224, 3)).astype(np.float32)
    model.compile(optimizer=keras.optimizers.Adam(options.learning_rate), loss="categorical_crossentropy")
    model.train_on_batch(pixels, targets)  # traces
    whole_step = median_ms(lambda: model.train_on_batch(pixels, targets), 3)
    reference = apply_freeze_policy(build_model(len(labels), 224, None), "seed")
    reference.compile(optimizer=keras.optimizers.Adam(1e-4), loss="categorical_crossentropy")
    reference.train_on_batch(pixels[:32], targets[:32])
    reference_step = median_ms(lambda: reference.train_on_batch(pixels[:32], targets[:32]), 3)

    # The frozen-features probe: the pooled features of the whole painting, on train.py's split.
    train, _, test = split_paintings(source.paintings, options.validation_fraction, options.test_fraction, options.seed)
    pooled = keras.Model(model.input, keras.layers.GlobalAveragePooling2D()(model.get_layer("conv_pw_13_relu").output))
    probed = train + test
    pooled_features = np.concatenate(
        [
            pooled.predict(
                np.stack(
                    [
                        np.asarray(VIEWS["whole"](load_image(p.path), 224), np.float32)
                        for p in probed[start : start + 64]
                    ]
                ),
                verbose=0,
            )
            for start in range(0, len(probed), 64)
        ]
    )
    whole = dict(zip((p.path for p in probed), pooled_features))
    index = {label: number for number, label in enumerate(labels)}
    predict = linear_probe(
        np.stack([whole[p.path] for p in train]), np.array([index[p.movement] for p in train]), len(labels)
    )
    truth = np.array([index[p.movement] for p in test])
    probe = classification_metrics(truth, np.eye(len(labels))[predict(np.stack([whole[p.path] for p in test]))], labels)

    (cold_seconds, cold_memory, metrics), (warm_seconds, warm_memory, _) = cold, warm
    gib = 1024**3
    print_table(
        ["measurement", "value", "ratio"],
        [
            ["feature extraction, per 1,000 views (decoding included)", f"{per_thousand_views:.1f} s", ""],
            [f"training step, batch {BATCH}, on cached features", f"{cached_step:.1f} ms", "1.00×"],
            [
                f"training step, batch {BATCH}, through the whole network (frozen backbone)",
                f"{whole_step:.0f} ms",
                f"{whole_step / cached_step:.0f}×",
            ],
            [
                "training step, batch 32, DenseNet-121 reference (seed) policy",
                f"{reference_step / 1000:.1f} s",
                f"{reference_step / cached_step:.0f}×",
            ],
            ["`python train.py`, features not cached: wall time", f"{cold_seconds:.0f} s", "1.00×"],
            [
                "`python train.py`, features cached: wall time",
                f"{warm_seconds:.0f} s",
                f"{warm_seconds / cold_seconds:.2f}×",
            ],
            ["peak memory, not cached / cached", f"{cold_memory / gib:.1f} / {warm_memory / gib:.1f} GiB", ""],
            [
                "test accuracy, trained model (whole painting / test-time augmentation)",
                f"{metrics['test']['accuracy']:.1%} / {metrics['test_tta']['accuracy']:.1%}",
                "",
            ],
            [
                "test accuracy, frozen-features probe on the same split",
                f"{probe['accuracy']:.1%}",
                f"{metrics['test']['accuracy'] - probe['accuracy']:+.1%}",
            ],
            ["macro-F1, trained model / probe", f"{metrics['test']['macro_f1']:.3f} / {probe['macro_f1']:.3f}", ""],
        ],
    )


if __name__ == "__main__":
    main()
