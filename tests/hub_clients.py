"""Run Hub clients (ArtNet's commands, or Python code) in fresh processes pointed at a local Hub server.

huggingface_hub reads HF_ENDPOINT and its offline and Xet switches when it is imported, so each client
runs in its own process with its environment set before that import.
"""

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Any of these could point a client at another Hub, account, token (HF_TOKEN, HF_TOKEN_PATH, OIDC) or cache
# than the test's, and send a developer's real token to the local server: clients start without them.
HUB_VARIABLE_PREFIXES = ("HF_", "HUGGING_FACE_", "HUGGINGFACE_")
APP_VARIABLES = ("ARTNET_MODEL",)


@dataclass(frozen=True)
class HubClient:
    """How client processes reach one local Hub: its URL, a private HF_HOME and the server's mode."""

    endpoint: str
    home: Path
    lfs: bool

    def environment(self, token=None, offline=False, **extra):
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(HUB_VARIABLE_PREFIXES) and key not in APP_VARIABLES
        }
        environment.update(
            HF_ENDPOINT=self.endpoint,
            HF_HOME=str(self.home),
            HF_HUB_DISABLE_TELEMETRY="1",
            HF_HUB_DISABLE_PROGRESS_BARS="1",
            TF_CPP_MIN_LOG_LEVEL="2",
            PYTHONPATH=os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "tests")]),
        )
        if self.lfs:  # the local server speaks LFS, not Xet
            environment["HF_HUB_DISABLE_XET"] = "1"
        if token:
            environment["HF_TOKEN"] = token
        if offline:
            environment["HF_HUB_OFFLINE"] = "1"
        environment.update(extra)
        return environment

    def run(self, arguments, token=None, offline=False, timeout=300, cwd=REPO_ROOT, **extra):
        """Run `python ARGUMENTS` (a script or `-m module` and its options); returns the CompletedProcess."""
        return subprocess.run(
            [sys.executable, *map(str, arguments)],
            cwd=cwd,
            env=self.environment(token, offline, **extra),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def run_python(self, code, token=None, offline=False, timeout=300, **extra):
        """Run Python `code` in a fresh process; returns its stdout. Fails the test when the code fails."""
        completed = self.run(["-c", textwrap.dedent(code)], token, offline, timeout, **extra)
        assert completed.returncode == 0, f"client failed ({completed.returncode}):\n{completed.stderr[-4000:]}"
        return completed.stdout
