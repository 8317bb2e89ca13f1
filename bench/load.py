"""The app under load: 1, 4 and 16 concurrent gradio_client users, with and without Gradio batching, and a
leak check.

For each number of users, a fixed number of /classify requests is shared between them. The table gives
throughput, latency percentiles, errors and the server's peak memory (RSS, sampled every 0.2 s), for
app.py as it serves (no batching) and for bench/batched_app.py, the same app whose classify endpoint
batches the waiting requests into one network pass (`batch=True`, `max_batch_size`). Before that, the
network alone at batch 1, 4 and 16 shows what a batch can save at most.

    python bench/load.py [--requests 48] [--max-batch-size 16] [--leak 500]
"""

import argparse
import os
import sys
import tempfile
import threading
import time

from timing import (
    in_threads,
    load_average,
    make_model_folder,
    median_ms,
    percentile,
    print_table,
    setup_environment,
    write_paintings,
)

setup_environment()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

import numpy as np  # noqa: E402
import psutil  # noqa: E402
import tensorflow as tf  # noqa: E402
from gradio_client import Client, handle_file  # noqa: E402

from artnet.model.network import load_folder  # noqa: E402

from live_app import start_app  # noqa: E402

USERS = (1, 4, 16)
BATCHES = (1, 4, 16)
BATCHED_APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "batched_app.py")


class PeakMemory:
    """The peak RSS of a process and its children, sampled in a thread."""

    def __init__(self, pid):
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def current(self):
        processes = [self.process, *self.process.children(recursive=True)]
        return sum(process.memory_info().rss for process in processes)

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.current())
            time.sleep(0.2)

    def __enter__(self):
        self.peak = self.current()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run_users(url, paintings, users, requests, api_name="/classify"):
    """`requests` calls of `api_name` shared by `users` threads, each with its own Client."""
    clients = [Client(url, verbose=False) for _ in range(users)]
    latencies, errors = [], []

    def user(index):
        for request in range(index, requests, users):
            start = time.perf_counter()
            try:
                clients[index].predict(handle_file(paintings[request % len(paintings)]), api_name=api_name)
                latencies.append((time.perf_counter() - start) * 1000)
            except Exception as error:  # noqa: BLE001 - counted and reported in the table
                errors.append(repr(error))

    seconds = in_threads(user, users)
    return len(latencies) / seconds, latencies, errors


def batch_costs(folder):
    """Per-image milliseconds of the compiled network at each batch size."""
    model, config = load_folder(folder)
    size = config["image_size"]
    forward = tf.function(lambda pixels: model(pixels, training=False))
    costs = {}
    for batch in BATCHES:
        pixels = tf.constant(np.random.default_rng(0).uniform(0, 255, (batch, size, size, 3)), tf.float32)
        forward(pixels)
        costs[batch] = median_ms(lambda pixels=pixels: forward(pixels).numpy(), 5) / batch
    return costs


def load_rows(url, pid, paintings, requests, api_name):
    """One table row per number of users: throughput, its ratio to one user, latencies, errors, peak RSS."""
    run_users(url, paintings, 2, 4, api_name)  # warm the server's upload and queue paths
    rows, baseline = [], None
    for users in USERS:
        with PeakMemory(pid) as memory:
            throughput, latencies, errors = run_users(url, paintings, users, requests, api_name)
        baseline = baseline or throughput
        rows.append(
            [
                str(users),
                f"{throughput:.2f}",
                f"{throughput / baseline:.2f}x",
                *(f"{percentile(latencies, share):.0f}" for share in (0.5, 0.95, 0.99)),
                str(len(errors)),
                f"{memory.peak / 2**20:.0f}",
            ]
        )
    return rows


def leak_check(url, pid, paintings, requests):
    """(requests so far, RSS MiB, errors) after each fifth of `requests` calls from 4 users."""
    samples, done = [], 0
    while done < requests:
        chunk = min(requests // 5, requests - done)
        _, _, errors = run_users(url, paintings, 4, chunk)
        done += chunk
        samples.append((done, PeakMemory(pid).current() / 2**20, len(errors)))
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=48, help="classify requests at each number of users")
    parser.add_argument("--max-batch-size", type=int, default=16, help="the batched app's max_batch_size")
    parser.add_argument("--leak", type=int, default=500, help="requests of the leak check (0: skip it)")
    options = parser.parse_args()
    print(f"Start: {load_average()}")
    with tempfile.TemporaryDirectory() as workdir:
        folder = make_model_folder(os.path.join(workdir, "model"))
        paintings = write_paintings(workdir, 8)
        costs = batch_costs(folder)
        print("\nThe network alone (compiled forward pass, 224 x 224):\n")
        print_table(
            ["batch", "ms per image", "vs batch 1"],
            [[str(batch), f"{cost:.0f}", f"{costs[1] / cost:.2f}x"] for batch, cost in costs.items()],
        )

        rows = []
        with start_app(folder, workdir) as app:
            rows += [
                ["app.py (no batching)", *row]
                for row in load_rows(app.url, app.pid, paintings, options.requests, "/classify")
            ]
            samples = leak_check(app.url, app.pid, paintings, options.leak) if options.leak else []
        batched = f"batch=True, max_batch_size={options.max_batch_size}"
        with start_app(folder, workdir, BATCHED_APP, "--max-batch-size", str(options.max_batch_size)) as app:
            rows += [
                [batched, *row] for row in load_rows(app.url, app.pid, paintings, options.requests, "/classify_batched")
            ]
        print(f"\n{options.requests} classify requests per row, 1000 x 800 JPEGs\n")
        print_table(
            ["serving", "users", "requests/s", "vs 1 user", "p50 ms", "p95 ms", "p99 ms", "errors", "peak RSS MiB"],
            rows,
        )
        if samples:
            print(f"\nLeak check: {options.leak} /classify requests from 4 users to app.py, RSS after each fifth\n")
            print_table(["requests", "RSS MiB", "errors"], [[str(n), f"{rss:.0f}", str(e)] for n, rss, e in samples])
            print(f"\nGrowth from the first fifth to the end: {samples[-1][1] - samples[0][1]:+.0f} MiB")
    print(f"\nEnd: {load_average()}")


if __name__ == "__main__":
    main()
