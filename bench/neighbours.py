"""Similar paintings, measured on the real model: is the nearest training painting of the movement, as
often as the classifier is right? Side by side with the ImageNet backbone's whole-painting embedding
before training; how many test paintings have a training painting that is the same image; and what
similar() adds to a request.

    python bench/neighbours.py [--model models/artnet] [--data ../shared/paintings]
"""

import argparse
import os
import statistics
import time

from timing import load_average, print_table, setup_environment

setup_environment()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A painting and a copy of it shrunk to 160 px and re-encoded (the degraded view): "the same image".
SAME_IMAGE_SAMPLE = 300


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=os.path.join(ROOT, "models", "artnet"))
    parser.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared", "paintings"))
    arguments = parser.parse_args()
    print(f"bench/neighbours.py: {load_average()}")

    import keras
    import numpy as np

    from artnet.data.images import load_image
    from artnet.data.paintings import find_paintings, split_paintings
    from artnet.data.views import VIEWS
    from artnet.explain.neighbours import NeighbourIndex, agreement, normalised
    from artnet.model.folder import read_metrics
    from artnet.serve.classifier import Classifier

    classifier = Classifier.from_folder(arguments.model)
    training = read_metrics(arguments.model)["training"]
    train, _, test = split_paintings(
        find_paintings(arguments.data).paintings,
        training["validation_fraction"],
        training["test_fraction"],
        training["seed"],
    )
    model = classifier.model
    backbone_layer = classifier.gradcam_layers[-1]["name"]  # the backbone's final layer
    passes = keras.Model(
        model.input,
        [
            model.get_layer("logits").input,
            keras.layers.GlobalAveragePooling2D()(model.get_layer(backbone_layer).output),
        ],
    )

    def embed(paintings, view="whole"):
        trained, backbone = [], []
        for first in range(0, len(paintings), 64):
            pixels = np.stack(
                [
                    np.asarray(VIEWS[view](load_image(p.path), classifier.image_size), np.float32)
                    for p in paintings[first : first + 64]
                ]
            )
            a, b = passes.predict(pixels, verbose=0)
            trained.append(a)
            backbone.append(b)
        return normalised(np.concatenate(trained)), normalised(np.concatenate(backbone))

    train_trained, train_backbone = embed(train)
    test_trained, test_backbone = embed(test)
    entries = [{"movement": p.movement} for p in train]
    movements = [p.movement for p in test]
    rows = []
    for name, train_embeddings, test_embeddings in (
        ("trained head (what similar() searches)", train_trained, test_trained),
        ("ImageNet backbone, pooled, before training", train_backbone, test_backbone),
    ):
        index = NeighbourIndex(train_embeddings, entries, lambda row: b"")
        rows.append([name, f"{agreement(index, test_embeddings, movements):.1%}"])
    accuracy = read_metrics(arguments.model)["test"]["accuracy"]
    rows.append(["the classifier's own test accuracy", f"{accuracy:.1%}"])
    print_table(["embedding", "test paintings whose nearest training painting has their movement"], rows)

    # "The same image": a painting against its own degraded copy, in the backbone's space.
    sample = train[:: max(1, len(train) // SAME_IMAGE_SAMPLE)][:SAME_IMAGE_SAMPLE]
    _, copies = embed(sample, "degraded")
    originals = train_backbone[:: max(1, len(train) // SAME_IMAGE_SAMPLE)][:SAME_IMAGE_SAMPLE]
    same = np.sum(originals * copies, axis=1)
    threshold = float(np.percentile(same, 1))
    nearest = (test_backbone @ train_backbone.T).max(axis=1)
    duplicates = [
        (test[number].path, train[int(np.argmax(test_backbone[number] @ train_backbone.T))].path, float(value))
        for number, value in enumerate(nearest)
        if value >= threshold
    ]
    print(
        f"\nA painting and its own shrunk, re-encoded copy: cosine {np.median(same):.3f} median, {threshold:.3f} at the "
        f"1st percentile (the 'same image' threshold). Different paintings' nearest: {np.median(nearest):.3f} median."
    )
    print(f"{len(duplicates)} of {len(test)} test paintings have a training painting at or above it:")
    for test_path, train_path, value in sorted(duplicates, key=lambda item: -item[2]):
        print(
            f"  {value:.3f}  {os.path.relpath(test_path, arguments.data)}  ~  {os.path.relpath(train_path, arguments.data)}"
        )

    paintings = [p.path for p in test[:40]]
    for path in paintings[:2]:
        classifier.explain(path)
    # Interleaved, painting by painting, so that the machine's drift during the run falls on both alike.
    alone, both = [], []
    for path in paintings:
        alone += _timed(lambda path: classifier.explain(path), [path])
        both += _timed(lambda path: classifier.similar_to(classifier.explain(path).embedding), [path])
    alone, both = statistics.median(alone), statistics.median(both)
    print()
    print_table(
        ["request", "median ms", "ratio"],
        [
            ["classify + explain", f"{alone:.1f}", "1.00×"],
            ["classify + explain + similar", f"{both:.1f}", f"{both / alone:.2f}×"],
        ],
    )


def _timed(function, paths):
    timings = []
    for path in paths:
        start = time.perf_counter()
        function(path)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


if __name__ == "__main__":
    main()
