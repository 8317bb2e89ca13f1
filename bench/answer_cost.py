"""What a new painting costs the page, in this checkout and in another: the page's analysis of a painting
(the answer, the bars, the maps of every method and depth, the closest paintings; one network pass), by the
app's own handler, on one model folder.

    python bench/answer_cost.py --baseline CHECKOUT [--model FOLDER] [--paintings DIR] [--rounds 3] [--repeats 10]

CHECKOUT is an earlier ArtNet (e.g. from `git worktree add /tmp/old <commit>`). Each side runs in a process
of its own, importing its own `artnet`, in turns, `--rounds` times; each process analyses the same
paintings `--repeats` times after one warm-up round. The table gives the medians and the ratio to the
baseline. Without --paintings, the first test paintings of the model folder's examples/ are used.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

from timing import load_average, print_table, setup_environment

setup_environment()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Run in a child process whose working folder is the checkout measured: its `artnet` is imported.
MEASURE = """
import json, os, sys, tempfile, time
sys.path.insert(0, os.getcwd())
from artnet.serve.classifier import Classifier
from artnet.serve.handlers import Handlers
model, repeats, paintings = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
handlers = Handlers(Classifier.from_folder(model), tempfile.mkdtemp())
method = handlers.most_faithful["method"]
for path in paintings:
    handlers.analyse_again({"path": path}, method, 0.5, "jet")
timings = []
for _ in range(repeats):
    for path in paintings:
        started = time.perf_counter()
        handlers.analyse_again({"path": path}, method, 0.5, "jet")
        timings.append(1000 * (time.perf_counter() - started))
print(json.dumps(timings))
"""


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="the other checkout of ArtNet")
    parser.add_argument("--model", default=os.path.join(ROOT, "models", "artnet"))
    parser.add_argument("--paintings", help="a folder of paintings (default: the model folder's examples)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    return parser.parse_args()


def paintings(arguments):
    folder = arguments.paintings or os.path.join(arguments.model, "examples")
    names = sorted(name for name in os.listdir(folder) if name.lower().endswith((".jpg", ".jpeg", ".png")))
    return [os.path.join(folder, name) for name in names[:5]]


def measure(checkout, arguments, files):
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, os.path.abspath(arguments.model), str(arguments.repeats), *files],
        cwd=checkout,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    if result.returncode != 0:
        sys.exit(f"{checkout}: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    arguments = parse_arguments()
    files = paintings(arguments)
    print(f"bench/answer_cost.py: {load_average()}; {len(files)} paintings x {arguments.repeats} per round")
    sides = {"baseline": os.path.abspath(arguments.baseline), "this checkout": ROOT}
    timings = {side: [] for side in sides}
    for _ in range(arguments.rounds):
        for side, checkout in sides.items():
            timings[side] += measure(checkout, arguments, files)
    medians = {side: statistics.median(values) for side, values in timings.items()}
    print_table(
        ["checkout", "analysis of a painting, median ms", "vs baseline"],
        [[side, f"{median:.0f}", f"{median / medians['baseline']:.2f}x"] for side, median in medians.items()],
    )
    print(f"End: {load_average()}")


if __name__ == "__main__":
    main()
