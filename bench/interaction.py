"""What a user waits for on the page: a new painting or another movement (a network pass) against a
method, opacity or colormap change (overlays redrawn from the maps kept in the session, no network pass).

It drives the app's own event handlers (artnet/ui.py) in one process; they save every overlay as the
JPEG file that Gradio serves. The five kinds of event are interleaved.

    python bench/interaction.py [--repeats 15]
"""

import argparse
import os
import statistics
import tempfile

from timing import load_average, make_model_folder, print_table, setup_environment, timings_ms, write_paintings

setup_environment()

from artnet.serve.classifier import Classifier  # noqa: E402
from artnet.serve.ui import Handlers  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    options = parser.parse_args()
    print(f"Start: {load_average()}")
    with tempfile.TemporaryDirectory() as workdir:
        handlers = Handlers(
            Classifier.from_folder(make_model_folder(os.path.join(workdir, "model"))), os.path.join(workdir, "gradio")
        )
        painting = {"path": write_paintings(workdir, 1)[0]}
        labels = handlers.labels
        method = handlers.most_faithful["method"]
        *_, shown, _ = handlers.analyse(painting, method, 0.5, "jet")
        top = shown.explanation.class_name
        other = next(label for label in labels if label != top)
        other_method = next(name for name in handlers.methods if name != method)

        events = {
            "new painting (network pass)": lambda: handlers.analyse(painting, method, 0.5, "jet"),
            "another movement (network pass)": lambda: handlers.redraw(painting, other, method, 0.5, "jet", shown),
            "another method (no network pass)": lambda: handlers.redraw(painting, top, other_method, 0.5, "jet", shown),
            "opacity change (no network pass)": lambda: handlers.redraw(painting, top, method, 0.8, "jet", shown),
            "colormap change (no network pass)": lambda: handlers.redraw(painting, top, method, 0.5, "inferno", shown),
        }
        measured = {name: [] for name in events}
        for _ in range(options.repeats):
            for name, event in events.items():
                measured[name].extend(timings_ms(event, 1))
    medians = {name: statistics.median(values) for name, values in measured.items()}
    slowest = medians["new painting (network pass)"]
    print(f"\n1000 x 800 JPEG, DenseNet-121 at 224 x 224, 4 overlays of 768 px per event, {options.repeats} each\n")
    print_table(
        ["event", "median ms", "vs new painting"],
        [[name, f"{median:.0f}", f"{median / slowest:.2f}x"] for name, median in medians.items()],
    )
    print(f"\nEnd: {load_average()}")


if __name__ == "__main__":
    main()
