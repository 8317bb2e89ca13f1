"""Start-up: from `python app.py` to the first page served and to the first answer, with the model folder
already on disk (as from the Hub cache), and where the time goes.

The end-to-end figures run app.py as a user does: the seconds until its page is served (`GET /` answers),
and until its first /classify is answered over plain HTTP, asked for the moment the page is served. With
`--baseline CHECKOUT`, the app.py of that checkout (an earlier ArtNet, e.g. from `git worktree add`) starts
too, in turns with this one, on the same model folder, so that both meet the same load. The breakdown
repeats this app.py's steps in a fresh process, each timed.

    python bench/startup.py [--model FOLDER] [--baseline CHECKOUT] [--runs 3]

The model folder defaults to models/artnet, what the Quick start trains (with its examples and closest
paintings); without one, a DenseNet-121 with random weights and neither.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

from timing import load_average, make_model_folder, print_table, setup_environment, write_paintings

setup_environment()

from artnet.model.folder import DEFAULT_MODEL_FOLDER  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START_SECONDS = 240
POLL_SECONDS = 0.05
# One client for every request: a new one per poll would build an SSL context each time, and take CPU
# from the app it waits for.
HTTP = httpx.Client(timeout=120)
STEPS = """
import json, sys, time
start = time.perf_counter(); marks = {}
from artnet.serve import ui
from artnet.model.folder import ModelSource
marks["import Gradio and the page"] = time.perf_counter()
from artnet.serve.classifier import Classifier, share_cpu_cores
marks["import TensorFlow"] = time.perf_counter()
share_cpu_cores(ui.MODEL_CONCURRENCY)
classifier = Classifier.from_folder(sys.argv[1], warm_up=False)
marks["load the model folder"] = time.perf_counter()
demo = ui.build_demo(classifier, ModelSource(sys.argv[1]))
marks["build the page: explain the examples in one pass (traces it)"] = time.perf_counter()
demo.launch(prevent_thread_lock=True, quiet=True, server_port=int(sys.argv[2]), **ui.launch_options(sys.argv[1]))
marks["launch the server: the page is served"] = time.perf_counter()
classifier.warm_up()
marks["after the page, in the background: trace the classifying pass"] = time.perf_counter()
demo.close()
print(json.dumps({"start": start, **marks}))
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def time_start(app, folder, painting, workdir):
    """(seconds until `python app` serves its page, seconds until it answers its first /classify)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": os.path.join(workdir, "gradio"),
    }
    command = [sys.executable, app, "--model", folder, "--host", "127.0.0.1", "--port", str(port)]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment
    )
    try:
        served = wait_for_page(process, url, started)
        classify(url, painting)
        return served - started, time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_for_page(process, url, started):
    while time.perf_counter() - started < START_SECONDS:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[1]} exited with code {process.returncode}")
        try:
            if HTTP.get(url + "/").status_code == 200:
                return time.perf_counter()
        except httpx.TransportError:
            pass
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"{process.args[1]} served no page within {START_SECONDS} s")


def classify(url, painting):
    """/classify over Gradio's HTTP API, as docs/api.md does with curl."""
    api = url + "/gradio_api"
    with open(painting, "rb") as file:
        uploaded = HTTP.post(f"{api}/upload", files={"files": file}).json()[0]
    payload = {"data": [{"path": uploaded, "meta": {"_type": "gradio.FileData"}}]}
    event = HTTP.post(f"{api}/call/classify", json=payload).json()["event_id"]
    answer = HTTP.get(f"{api}/call/classify/{event}").text
    if "event: complete" not in answer:
        raise RuntimeError(f"/classify did not answer: {answer[-500:]}")


def breakdown(folder):
    """[step, seconds, share] of this app.py's steps, timed in a fresh process, and the seconds to the page."""
    result = subprocess.run(
        [sys.executable, "-c", STEPS, folder, str(free_port())],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        env={**os.environ, "PYTHONPATH": ROOT, "GRADIO_ANALYTICS_ENABLED": "False"},
    )
    marks = json.loads(result.stdout.strip().splitlines()[-1])
    previous = start = marks.pop("start")
    total = marks[list(marks)[-1]] - start
    rows = []
    for step, moment in marks.items():
        rows.append([step, f"{moment - previous:.1f}", f"{(moment - previous) / total:.0%}"])
        previous = moment
    return rows + [["total", f"{total:.1f}", "100%"]]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=os.path.join(ROOT, DEFAULT_MODEL_FOLDER), help="a model folder")
    parser.add_argument("--baseline", help="another checkout of ArtNet, whose app.py is timed in turns with this one")
    parser.add_argument("--runs", type=int, default=3, help="starts of each app.py (default 3)")
    options = parser.parse_args()
    print(f"Start: {load_average()}")
    apps = {"this checkout": os.path.join(ROOT, "app.py")}
    if options.baseline:
        apps = {"baseline": os.path.join(os.path.abspath(options.baseline), "app.py"), **apps}
    with tempfile.TemporaryDirectory() as workdir:
        folder = options.model
        if not os.path.isdir(folder):
            print(f"No model folder at {folder}: a DenseNet-121 with random weights, no examples.")
            folder = make_model_folder(os.path.join(workdir, "model"))
        painting = write_paintings(workdir, 1)[0]
        times = {name: [] for name in apps}
        for _ in range(options.runs):
            for name, app in apps.items():
                times[name].append(time_start(app, folder, painting, workdir))
        steps = breakdown(folder)
    medians = {name: [statistics.median(column) for column in zip(*runs)] for name, runs in times.items()}
    reference = medians.get("baseline", medians["this checkout"])
    print(f"\n`python app.py --model {options.model}`, medians of {options.runs} starts each, in turns:\n")
    print_table(
        ["app.py", "page served, s", "first /classify answered, s", "page vs baseline", "answer vs baseline"],
        [
            [name, f"{page:.1f}", f"{answer:.1f}", f"{page / reference[0]:.2f}x", f"{answer / reference[1]:.2f}x"]
            for name, (page, answer) in medians.items()
        ],
    )
    print("\nWhere this app.py's time goes (the same steps, timed in a fresh process):\n")
    print_table(["step", "seconds", "share"], steps)
    print(f"\nEnd: {load_average()}")


if __name__ == "__main__":
    main()
