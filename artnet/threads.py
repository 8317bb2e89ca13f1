"""Work done in threads and handed back in order, at most a window ahead, so that what the threads make
(decoded images) never piles up in memory. Pillow releases the GIL while it decodes and resizes, so
threads decode paintings in parallel."""

import collections
import os
from concurrent.futures import ThreadPoolExecutor


def in_order(function, items, window):
    """`function` of each item, in order, computed in threads at most `window` items ahead."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        pending = collections.deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
