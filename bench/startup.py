"""Start-up: from `python app.py` to the first answered request, with the model already on disk (as
from the Hub cache), and where the time goes.

The end-to-end figure runs app.py as a user does and times it to its first /classify answer. The
breakdown repeats the steps app.py takes, each timed, in a fresh process of its own: importing the
libraries, loading the model folder, tracing and warming up both compiled passes, building the Blocks
and launching the server.

    python bench/startup.py
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from timing import load_average, make_model_folder, print_table, setup_environment, write_paintings

setup_environment()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

from gradio_client import Client, handle_file  # noqa: E402

from live_app import free_port, start_app  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS = """
import json, sys, time
start = time.perf_counter(); marks = {}
import tensorflow, gradio
from artnet.serve import ui
from artnet.serve.classifier import Classifier, share_cpu_cores
from artnet.model.network import load_folder
from artnet.model.folder import ModelSource
marks["import TensorFlow, Gradio, artnet"] = time.perf_counter()
share_cpu_cores(ui.MODEL_CONCURRENCY)
model, config = load_folder(sys.argv[1])
marks["load model.keras"] = time.perf_counter()
classifier = Classifier(model, config)
marks["trace and warm up both passes"] = time.perf_counter()
demo = ui.build_demo(classifier, ModelSource(sys.argv[1]))
marks["build the Blocks"] = time.perf_counter()
demo.launch(prevent_thread_lock=True, quiet=True, server_port=int(sys.argv[2]))
marks["launch the server"] = time.perf_counter()
demo.close()
print(json.dumps({"start": start, **marks}))
"""


def main():
    print(f"Start: {load_average()}")
    with tempfile.TemporaryDirectory() as workdir:
        folder = make_model_folder(os.path.join(workdir, "model"))
        painting = write_paintings(workdir, 1)[0]
        started = time.perf_counter()
        with start_app(folder, workdir) as app:
            serving = time.perf_counter()
            Client(app.url, verbose=False).predict(handle_file(painting), api_name="/classify")
            answered = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", STEPS, folder, str(free_port())],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
            env={**os.environ, "PYTHONPATH": ROOT},
        )
    marks = json.loads(result.stdout.strip().splitlines()[-1])
    previous, rows = marks.pop("start"), []
    total = marks[list(marks)[-1]] - previous
    for step, moment in marks.items():
        rows.append([step, f"{moment - previous:.1f}", f"{(moment - previous) / total:.0%}"])
        previous = moment
    print(
        f"\n`python app.py` until it serves: {serving - started:.1f} s; until the first /classify is answered: "
        f"{answered - started:.1f} s (the first request itself: {answered - serving:.2f} s)\n"
    )
    print("Where the time goes (the same steps, timed in a fresh process):\n")
    print_table(["step", "seconds", "share"], rows + [["total", f"{total:.1f}", "100%"]])
    print(f"\nEnd: {load_average()}")


if __name__ == "__main__":
    main()
