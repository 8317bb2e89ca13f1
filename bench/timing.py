"""Small helpers shared by the benchmarks: medians of repeated calls and a Markdown table."""

import os
import statistics
import sys
import time


def setup_environment():
    """Quiet TensorFlow and make `artnet` and `bench` importable when a script runs as bench/x.py."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)


# What every machine of the project has beside the checkout: ../shared.
SHARED = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "shared")


def add_shared_data_options(parser):
    """--data and --weights, by default the real paintings and MobileNet's weights beside the checkout."""
    parser.add_argument("--data", default=os.path.join(SHARED, "paintings"))
    parser.add_argument(
        "--weights", default=os.path.join(SHARED, "weights", "mobilenet_0.75_imagenet_notop.weights.h5")
    )


def timings_ms(function, repeats):
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def median_ms(function, repeats):
    return statistics.median(timings_ms(function, repeats))


def print_table(headers, rows):
    """Print rows (lists of already formatted cells) as a Markdown table with right-aligned numbers."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    print("| " + " | ".join(f"{h:<{w}}" for h, w in zip(headers, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        cells = [f"{cell:<{w}}" if i == 0 else f"{cell:>{w}}" for i, (cell, w) in enumerate(zip(row, widths))]
        print("| " + " | ".join(cells) + " |")


def in_threads(user, count):
    """Run `user(index)` in `count` threads at once, index 0..count-1; the seconds until all are done."""
    import threading

    threads = [threading.Thread(target=user, args=(index,)) for index in range(count)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def percentile(values, share):
    """The `share` (0..1) percentile of `values`, interpolated between the two nearest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def make_model_folder(folder, image_size=224):
    """A real DenseNet-121 model folder with random weights: the served network's cost without its download."""
    from artnet.model.network import build_model, save_folder
    from artnet.styles import MOVEMENTS

    save_folder(build_model(len(MOVEMENTS), image_size, backbone_weights=None), folder, MOVEMENTS)
    return folder


def write_paintings(folder, count, size=(1000, 800)):
    """`count` JPEG paintings of random texture, each different, as a user would upload them."""
    import numpy as np
    from PIL import Image

    generator = np.random.default_rng(0)
    paths = []
    for index in range(count):
        pixels = generator.integers(0, 256, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
        path = os.path.join(folder, f"painting_{index}.jpg")
        Image.fromarray(pixels).resize(size).save(path, quality=90)
        paths.append(path)
    return paths


def load_average():
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
