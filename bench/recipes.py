"""The training recipes tried on the real paintings, each through `python train.py`, side by side in one run.

    python bench/recipes.py [--data ../shared/paintings] [--weights ../shared/weights/mobilenet_0.75_imagenet_notop.weights.h5]
                            [--recipes N,...] [--feature-cache DIR]

Every recipe is train.py's defaults with the options in its row, on the same split (seed 42). The
features are computed once per trunk before the rows are timed, so "seconds" is the run with its
features cached: training, the cross-collection folds, evaluation and the model folder. Takes about
an hour on 2 cores; `--recipes` runs some rows beside the default's, and `--feature-cache` reuses the
cache of an earlier run on the same data (give --data as that run did).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from timing import add_shared_data_options, load_average, print_table, setup_environment

setup_environment()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

RECIPES = [
    ("reference head (GAP, dropout, BatchNorm), whole painting only", ["--head", "reference", "--views", "whole"]),
    ("reference head, the six views", ["--head", "reference"]),
    ("style head, whole painting only", ["--views", "whole"]),
    ("style head, whole, flipped, squashed, centre", ["--views", "whole,flipped,squashed,centre"]),
    ("style head, the six views (the default)", []),
    ("the default, balanced class weights", ["--class-weights", "balanced"]),
    ("the default, no label smoothing", ["--label-smoothing", "0"]),
    ("the default, 20 epochs", ["--epochs", "20", "--halve-learning-rate-every", "6"]),
    ("the default, every collection of a movement weighed alike", ["--collection-weights", "balanced"]),
    ("the default, statistics mixed across collections (MixStyle, p 0.5)", ["--mix-collections", "0.5"]),
    (
        "the default, statistics mixed (p 0.5) and collections weighed alike",
        ["--mix-collections", "0.5", "--collection-weights", "balanced"],
    ),
]


# The row of train.py's defaults, which every partial run measures too.
DEFAULT_ROW = next(number for number, (_, options) in enumerate(RECIPES) if not options)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_shared_data_options(parser)
    parser.add_argument(
        "--recipes",
        type=lambda value: [int(number) for number in value.split(",")],
        metavar="N,...",
        help="only these rows of the table, counted from 0, beside the default (default: every row)",
    )
    parser.add_argument(
        "--feature-cache", metavar="DIR", help="an existing feature cache to use (default: a new one, filled first)"
    )
    return parser.parse_args()


def train(arguments, options, workspace, name):
    """Seconds and metrics.json of `python train.py` with `options`."""
    output = os.path.join(workspace, name)
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
        arguments.feature_cache or os.path.join(workspace, "cache"),
        *options,
    ]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"train.py {' '.join(options)} failed: {result.stderr[-2000:]}")
    with open(os.path.join(output, "metrics.json"), encoding="utf-8") as file:
        return seconds, json.load(file)


def main():
    arguments = parse_arguments()
    print(f"bench/recipes.py: {load_average()}")
    workspace = tempfile.mkdtemp(prefix="artnet-bench-recipes-")
    # One short run per trunk computes its features, so that every timed row below starts with them cached.
    if not arguments.feature_cache:
        for head in ("reference", "style"):
            train(arguments, ["--head", head, "--epochs", "1", "--no-cross-collection"], workspace, f"warm-{head}")
    rows = []
    chosen = sorted({DEFAULT_ROW, *arguments.recipes}) if arguments.recipes else range(len(RECIPES))
    for number, (description, options) in ((number, RECIPES[number]) for number in chosen):
        seconds, metrics = train(arguments, options, workspace, f"recipe-{number}")
        test, tta = metrics["test"], metrics["test_tta"]
        rows.append(
            [
                description,
                f"{test['accuracy']:.1%}",
                f"{tta['accuracy']:.1%}",
                f"{test['macro_f1']:.3f}",
                f"{min(scores['recall'] for scores in test['per_class'].values()):.2f}",
                f"{metrics['cross_collection']['mean_accuracy']:.1%}",
                f"{metrics['shape']['changed_any']:.1%}",
                f"{metrics['collection_predictability']['mean_accuracy']:.1%}",
                f"{seconds:.0f}",
            ]
        )
    print_table(
        [
            "recipe",
            "test",
            "test (TTA)",
            "macro-F1",
            "lowest recall",
            "cross-collection",
            "shape changes",
            "collection probe",
            "seconds",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
