"""What the app adds to a network pass: gradio_client's end-to-end latency of /classify and /explain
against calling the Classifier directly, interleaved call by call in one run.

The app (`python app.py`) serves a 224 x 224 DenseNet-121 model folder on 127.0.0.1; the benchmark process
loads the same folder into its own Classifier. Both get the same 1000 x 800 JPEG paintings.

    python bench/app_overhead.py [--requests 30]
"""

import argparse
import os
import sys
import tempfile

from timing import load_average, make_model_folder, percentile, print_table, setup_environment, timings_ms, write_paintings

setup_environment()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

from gradio_client import Client, handle_file  # noqa: E402

from artnet.classifier import Classifier  # noqa: E402
from live_app import start_app  # noqa: E402


def explain_and_render(classifier, path):
    """What /explain computes: one explanation, then an overlay per depth."""
    explanation = classifier.explain(path)
    return [explanation.overlay(layer["name"]) for layer in classifier.gradcam_layers]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=30, help="timed calls of each kind, each side")
    options = parser.parse_args()
    print(f"Start: {load_average()}")
    with tempfile.TemporaryDirectory() as workdir:
        folder = make_model_folder(os.path.join(workdir, "model"))
        paintings = write_paintings(workdir, 5)
        classifier = Classifier.from_folder(folder)
        with start_app(folder, workdir) as app:
            client = Client(app.url, verbose=False)
            calls = {
                "classify": (lambda path: client.predict(handle_file(path), api_name="/classify"),
                             lambda path: classifier.classify(path)),
                "explain, 4 depths": (
                    lambda path: client.predict(handle_file(path), api_name="/explain"),
                    lambda path: explain_and_render(classifier, path),
                ),
            }
            for through_app, direct in calls.values():  # the first calls set up connections and caches
                through_app(paintings[0]), direct(paintings[0])
            measured = {name: ([], []) for name in calls}
            for index in range(options.requests):
                path = paintings[index % len(paintings)]
                for name, (through_app, direct) in calls.items():
                    measured[name][0].extend(timings_ms(lambda: through_app(path), 1))
                    measured[name][1].extend(timings_ms(lambda: direct(path), 1))
    rows = []
    for name, (app_ms, direct_ms) in measured.items():
        rows.append([name, f"{percentile(direct_ms, 0.5):.0f}", f"{percentile(app_ms, 0.5):.0f}",
                     f"{percentile(direct_ms, 0.95):.0f}", f"{percentile(app_ms, 0.95):.0f}",
                     f"{percentile(app_ms, 0.5) / percentile(direct_ms, 0.5):.2f}x"])
    print(f"\n{options.requests} interleaved calls each, 1000 x 800 JPEG, DenseNet-121 at 224 x 224; end: {load_average()}\n")
    print_table(["endpoint", "direct p50 ms", "app p50 ms", "direct p95 ms", "app p95 ms", "app/direct p50"], rows)


if __name__ == "__main__":
    main()
