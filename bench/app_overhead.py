"""What the app adds to a network pass: the end-to-end latency of /classify and /explain through
gradio_client and through Gradio's plain HTTP API (what `curl` does), against calling the Classifier
directly, interleaved call by call in one run.

The app (`python app.py`) serves a 224 x 224 DenseNet-121 model folder on 127.0.0.1; the benchmark process
loads the same folder into its own Classifier. All three get the same 1000 x 800 JPEG paintings, and both
clients download the overlays that /explain returns.

    python bench/app_overhead.py [--requests 30]
"""

import argparse
import os
import sys
import tempfile

from timing import (
    load_average,
    make_model_folder,
    percentile,
    print_table,
    setup_environment,
    timings_ms,
    write_paintings,
)

setup_environment()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

import httpx  # noqa: E402
from gradio_client import Client, handle_file  # noqa: E402
from http_api import call  # noqa: E402

from artnet.serve.classifier import Classifier  # noqa: E402

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
        with start_app(folder, workdir) as app, httpx.Client() as http:
            client = Client(app.url, verbose=False)
            ways = {
                "classify": (
                    lambda path: classifier.classify(path),
                    lambda path: call(http, app.url, "classify", path),
                    lambda path: client.predict(handle_file(path), api_name="/classify"),
                ),
                "explain, 4 depths": (
                    lambda path: explain_and_render(classifier, path),
                    lambda path: call(http, app.url, "explain", path, None, 0.5, "jet"),
                    lambda path: client.predict(handle_file(path), api_name="/explain"),
                ),
            }
            for calls in ways.values():  # the first calls set up connections and caches
                for way in calls:
                    way(paintings[0])
            measured = {name: ([], [], []) for name in ways}
            for index in range(options.requests):
                path = paintings[index % len(paintings)]
                for name, calls in ways.items():
                    for timings, way in zip(measured[name], calls):
                        timings.extend(timings_ms(lambda way=way, path=path: way(path), 1))
    rows = []
    for name, (direct_ms, http_ms, client_ms) in measured.items():
        direct = percentile(direct_ms, 0.5)
        rows.append(
            [
                name,
                f"{direct:.0f}",
                *(f"{percentile(app_ms, 0.5):.0f}" for app_ms in (http_ms, client_ms)),
                *(f"{percentile(app_ms, 0.95):.0f}" for app_ms in (direct_ms, http_ms, client_ms)),
                *(f"{percentile(app_ms, 0.5) / direct:.2f}x" for app_ms in (http_ms, client_ms)),
            ]
        )
    print(
        f"\n{options.requests} interleaved calls each, 1000 x 800 JPEG, DenseNet-121 at 224 x 224; end: {load_average()}\n"
    )
    print_table(
        [
            "endpoint",
            "direct p50 ms",
            "HTTP API p50 ms",
            "gradio_client p50 ms",
            "direct p95 ms",
            "HTTP API p95 ms",
            "gradio_client p95 ms",
            "HTTP API / direct p50",
            "gradio_client / direct p50",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
