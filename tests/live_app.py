"""Start `python app.py` as a user would, wait until it serves, and stop it afterwards."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

APP = Path(__file__).resolve().parent.parent / "app.py"
# Importing TensorFlow and Gradio, loading the model and tracing both passes: ~30 s on two cores.
START_SECONDS = 240


@dataclass(frozen=True)
class LiveApp:
    url: str
    folder: Path  # the model folder it serves
    log: Path  # its stdout and stderr
    pid: int  # the server's process, for benchmarks that watch its memory

    def output(self):
        return self.log.read_text(errors="replace")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def start_app(model_folder, workdir, script=APP, *options):
    """Run `script` (app.py, or a script that takes its options) in `workdir` (where Gradio keeps its
    example cache) with its uploads under `workdir`, and `options` added to its command line."""
    port = free_port()
    log = Path(workdir) / "app.log"
    environment = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": str(Path(workdir) / "gradio"),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        str(script),
        "--model",
        str(model_folder),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *options,
    ]
    with open(log, "w") as output:
        process = subprocess.Popen(command, cwd=workdir, stdout=output, stderr=subprocess.STDOUT, env=environment)
    app = LiveApp(f"http://127.0.0.1:{port}/", Path(model_folder), log, process.pid)
    try:
        _wait_until_serving(process, app)
        yield app
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(process, app):
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with code {process.returncode}:\n{app.output()}")
        # The line comes once launch() has run Gradio's start-up events (the queue among them).
        if "ArtNet is running at" in app.output():
            httpx.get(app.url + "config", timeout=10).raise_for_status()
            return
        time.sleep(0.5)
    raise TimeoutError(f"app.py did not serve {app.url} within {START_SECONDS} s:\n{app.output()}")
