"""Progress of a long step, as a person reads it: a bar redrawn in place on a terminal, and in a log (output
redirected to a file) a line every half minute, so that a log stays short and a silent step never looks hung."""

import sys
import time

# How often a log gets a line about a step still running, in seconds.
LOG_INTERVAL = 30


def progress_bar(total, description, unit, *, enabled=True, stream=None):
    """A bar for `total` items on stderr: call .update(n) as they are done, and close it (or use `with`)."""
    stream = stream or sys.stderr
    if enabled and stream.isatty():
        from tqdm import tqdm

        return tqdm(total=total, desc=description, unit=unit, file=stream, mininterval=0.5, dynamic_ncols=True)
    return LogProgress(total, description, unit, stream if enabled else None)


class LogProgress:
    """A line every LOG_INTERVAL seconds while items are done: 'Computing features: 320 of 5472 paintings
    (6%), 30 s so far, about 8 min to go.' Nothing for a step that ends sooner."""

    def __init__(self, total, description, unit, stream, interval=LOG_INTERVAL):
        self.total, self.description, self.unit, self.stream = total, description, unit, stream
        self.interval = interval
        self.done = 0
        self.started = self.last = time.monotonic()

    def update(self, count=1):
        self.done += count
        now = time.monotonic()
        if self.stream is None or now - self.last < self.interval or self.done >= self.total:
            return
        self.last = now
        elapsed = now - self.started
        left = elapsed * (self.total - self.done) / max(self.done, 1)
        print(
            f"{self.description}: {self.done} of {self.total} {self.unit}s ({self.done / self.total:.0%}), "
            f"{elapsed:.0f} s so far, about {_duration(left)} to go.",
            file=self.stream,
            flush=True,
        )

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()


def _duration(seconds):
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
