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
