"""What a long step writes while it runs: in a log, a line every half minute and nothing more."""

import io

from artnet.progress import LogProgress, progress_bar


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_log_gets_a_line_every_interval_with_what_is_done_and_what_is_left(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("artnet.progress.time.monotonic", clock)
    log = io.StringIO()
    progress = LogProgress(100, "Computing features", "painting", log, interval=30)
    for _ in range(99):
        clock.now += 1.0
        progress.update()
    progress.close()
    lines = log.getvalue().splitlines()
    assert lines == [
        "Computing features: 30 of 100 paintings (30%), 30 s so far, about 70 s to go.",
        "Computing features: 60 of 100 paintings (60%), 60 s so far, about 40 s to go.",
        "Computing features: 90 of 100 paintings (90%), 90 s so far, about 10 s to go.",
    ]
    assert "\r" not in log.getvalue()


def test_a_short_step_or_a_disabled_bar_writes_nothing_to_a_log():
    log = io.StringIO()
    with progress_bar(1000, "Making thumbnails", "painting", stream=log) as bar:
        bar.update(1000)
    with progress_bar(10, "Quiet", "painting", enabled=False, stream=log) as bar:
        bar.update(10)
    assert log.getvalue() == ""
