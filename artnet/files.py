"""Atomic file writes: a crash never leaves a half-written file under its final name."""

import contextlib
import json
import os
import tempfile

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yield a temporary path beside `path`; it replaces `path` only if the `with` block succeeds."""
    path = os.fspath(path)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=f".tmp{suffix}", dir=os.path.dirname(os.path.abspath(path))
    )
    os.close(descriptor)
    try:
        yield temporary
        # mkstemp creates files readable by the owner alone; give the result the usual permissions.
        os.chmod(temporary, 0o666 & ~_UMASK)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_json_atomically(path, data):
    with atomic_path(path) as temporary:
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(data, file, indent=2, ensure_ascii=False)
            file.write("\n")
