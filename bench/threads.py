"""TensorFlow's thread pools on a small CPU: requests per second of `Classifier.explain` (what the app runs
for a new painting) with one and with two requests at a time, for several intra-op and inter-op pool
sizes, and with and without XLA.

The app lets two requests run at once (artnet/ui.py, MODEL_CONCURRENCY). TensorFlow fixes its pools when
its runtime starts, so each setting runs in a fresh process of its own. The settings take turns, round
after round, and the table gives each one's median over the rounds, so that a noisy moment of the machine
does not decide a row.

    python bench/threads.py [--requests 20] [--rounds 3]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from timing import (
    in_threads,
    load_average,
    make_model_folder,
    percentile,
    print_table,
    setup_environment,
    write_paintings,
)

setup_environment()

# (intra-op threads, inter-op threads); 0 is TensorFlow's default, the number of cores for both.
POOLS = ((0, 0), (1, 1), (1, 2), (2, 1), (2, 2))
CONCURRENCY = (1, 2)


def measure(folder, painting, intra, inter, jit_compile, requests):
    """Runs in the worker process: {concurrency: (requests per second, p50 ms)}."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(intra)
    tf.config.threading.set_inter_op_parallelism_threads(inter)
    from artnet.serve.classifier import Classifier

    classifier = Classifier.from_folder(folder, jit_compile=jit_compile)
    classifier.explain(painting)
    results = {}
    for concurrency in CONCURRENCY:
        latencies = []

        def user(index, concurrency=concurrency, latencies=latencies):
            for _ in range(index, requests, concurrency):
                start = time.perf_counter()
                classifier.explain(painting)
                latencies.append((time.perf_counter() - start) * 1000)

        results[concurrency] = (requests / in_threads(user, concurrency), percentile(latencies, 0.5))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20, help="explain calls per setting and concurrency")
    parser.add_argument("--rounds", type=int, default=3, help="turns of every setting")
    parser.add_argument(
        "--worker", nargs=5, metavar=("FOLDER", "PAINTING", "INTRA", "INTER", "XLA"), help=argparse.SUPPRESS
    )
    options = parser.parse_args()
    if options.worker:
        folder, painting, intra, inter, xla = options.worker
        print(json.dumps(measure(folder, painting, int(intra), int(inter), xla == "1", options.requests)))
        return

    print(f"Start: {load_average()}")
    settings = [(intra, inter, False) for intra, inter in POOLS] + [(0, 0, True), (1, 2, True)]
    rounds = {setting: [] for setting in settings}
    with tempfile.TemporaryDirectory() as workdir:
        folder = make_model_folder(os.path.join(workdir, "model"))
        painting = write_paintings(workdir, 1)[0]
        for _ in range(options.rounds):
            for setting in settings:
                intra, inter, xla = setting
                result = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--requests",
                        str(options.requests),
                        "--worker",
                        folder,
                        painting,
                        str(intra),
                        str(inter),
                        "1" if xla else "0",
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                rounds[setting].append(
                    {int(k): v for k, v in json.loads(result.stdout.strip().splitlines()[-1]).items()}
                )
    rows = [
        (
            setting,
            {
                concurrency: [statistics.median(measured[concurrency][i] for measured in turns) for i in (0, 1)]
                for concurrency in CONCURRENCY
            },
        )
        for setting, turns in rounds.items()
    ]
    baseline = rows[0][1]
    print(
        f"\nClassifier.explain (4 depths), 1000 x 800 JPEG, DenseNet-121 at 224 x 224, {os.cpu_count()} cores, "
        f"{options.requests} requests per cell, medians of {options.rounds} rounds; end: {load_average()}\n"
    )
    headers = ["intra-op", "inter-op", "XLA"]
    for concurrency in CONCURRENCY:
        headers += [f"{concurrency} at a time: req/s", "p50 ms", "vs default"]
    table = []
    for (intra, inter, xla), measured in rows:
        cells = [str(intra or "default"), str(inter or "default"), "on" if xla else "off"]
        for concurrency in CONCURRENCY:
            throughput, p50 = measured[concurrency]
            cells += [f"{throughput:.2f}", f"{p50:.0f}", f"{throughput / baseline[concurrency][0]:.2f}x"]
        table.append(cells)
    print_table(headers, table)


if __name__ == "__main__":
    main()
