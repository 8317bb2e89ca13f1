"""`python -m artnet.cli.classify`'s throughput on real paintings, side by side in one run: the CLI's path
(paintings decoded in threads, classified in batches), one painting at a time through Classifier.classify,
and the bare network on batches already decoded in memory, the limit.

    python bench/classify.py [--model models/artnet] [--data ../shared/paintings] [--paintings 600]
"""

import argparse
import os
import time

from timing import load_average, print_table, setup_environment

setup_environment()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH = 32


class Discard:
    """The CLI's output, thrown away: the bench measures classifying, not writing."""

    def write(self, rows):
        pass

    def close(self):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=os.path.join(ROOT, "models", "artnet"))
    parser.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared", "paintings"))
    parser.add_argument("--paintings", type=int, default=600)
    arguments = parser.parse_args()
    print(f"bench/classify.py: {load_average()}")

    from artnet.serve.batch import classify_files, find_files
    from artnet.serve.classifier import Classifier

    files = find_files([arguments.data])
    files = files[:: max(1, len(files) // arguments.paintings)][: arguments.paintings]
    classifier = Classifier.from_folder(arguments.model)
    classifier.classify_batch([classifier.model_input(files[0])] * BATCH)  # traces the batch size

    start = time.perf_counter()
    classify_files(classifier, files, Discard(), BATCH, progress=False)
    cli = len(files) / (time.perf_counter() - start)

    start = time.perf_counter()
    for path in files:
        classifier.classify(path)
    one_at_a_time = len(files) / (time.perf_counter() - start)

    decoded = [classifier.model_input(path) for path in files]
    start = time.perf_counter()
    for first in range(0, len(decoded), BATCH):
        classifier.classify_batch(decoded[first : first + BATCH])
    network = len(files) / (time.perf_counter() - start)

    rows = [
        [
            f"`python -m artnet.cli.classify` (threads decode, batches of {BATCH})",
            f"{cli:.1f}",
            "1.00×",
            f"{cli / network:.2f}",
        ],
        [
            "one painting at a time (`Classifier.classify`)",
            f"{one_at_a_time:.1f}",
            f"{one_at_a_time / cli:.2f}×",
            f"{one_at_a_time / network:.2f}",
        ],
        [
            f"the bare network on decoded batches of {BATCH} (the limit)",
            f"{network:.1f}",
            f"{network / cli:.2f}×",
            "1.00",
        ],
    ]
    print(f"{len(files)} paintings from {arguments.data}, model {arguments.model}")
    print_table(["path", "paintings/s", "vs the CLI", "share of the limit"], rows)


if __name__ == "__main__":
    main()
