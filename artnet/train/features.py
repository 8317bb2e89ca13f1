"""The feature cache: what the frozen trunk of the network (artnet.model.network.split_at_training) makes of every
view of every painting, computed once, with a progress bar, and reused by every run that would compute
exactly the same.

A cache is a folder named by a key of everything that changes its content: the cache format, the trunk's
architecture and weights, the way in (artnet.data.way_in: the image size and how an image is prepared), the views, and each painting's path, size and modification
time. So a stale cache is never reused; a new one is computed beside it. It is written in a hidden
sibling folder and renamed into place once complete, with meta.json (which names its arrays and their
digests) written last, so a half-written cache is never taken for a complete one; the next run of the
same key deletes what a killed run left half-written. A cache whose arrays
do not match their digests is computed again, with one line that says so.

The arrays are .npy files opened as memory maps: a cache larger than memory lives on disk, and the
operating system keeps what it can in memory.
"""

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from artnet.data.images import ImageError
from artnet.data.views import VIEWS
from artnet.data.way_in import look
from artnet.files import write_json_atomically
from artnet.progress import progress_bar
from artnet.threads import in_order

logger = logging.getLogger(__name__)

CACHE_FORMAT = 3
META_FILE = "meta.json"
PARTIAL_SUFFIX = ".partial"
# Features are kept in float32, which makes the cached network compute what the saved one computes, unless
# that would take more than this on disk; then in float16.
FLOAT32_LIMIT_BYTES = 4 * 1024**3
# Paintings decoded and passed through the trunk together: enough to keep both cores busy, few enough that
# the early layers' activations stay small in memory.
PAINTINGS_PER_BATCH = 8


def default_cache_root():
    """$XDG_CACHE_HOME/artnet/features, else ~/.cache/artnet/features."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "artnet", "features")


@dataclass
class CachedFeatures:
    """The trunk's outputs for each painting (rows, in the order they were given) and view (columns)."""

    folder: str
    paths: list  # the painting of each row
    views: tuple
    arrays: list  # one per trunk output: (paintings, views, *shape)
    failures: dict  # path -> why it could not be decoded (its rows are zeros)

    def __post_init__(self):
        # Paths as the cache key has them: a run from another folder, or given the data folder's absolute
        # path, finds the same rows.
        self._row = {os.path.abspath(path): row for row, path in enumerate(self.paths)}
        self.failures = {os.path.abspath(path): reason for path, reason in self.failures.items()}

    def failed(self, painting):
        return os.path.abspath(painting.path) in self.failures

    def rows(self, paintings):
        """The rows of `paintings` that decoded, in their order."""
        return np.array([self._row[os.path.abspath(p.path)] for p in paintings if not self.failed(p)], dtype=np.int64)

    def view_index(self, view):
        return self.views.index(view)

    def take(self, rows, views):
        """The inputs of the top for these (row, view) pairs: one array per trunk output."""
        order = np.argsort(rows, kind="stable")
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        # Memory maps are read fastest in row order.
        return [np.asarray(array[rows[order], views[order]])[inverse] for array in self.arrays]


def cache_key(trunk, way_in, views, paintings, dtype):
    """A digest of everything the cached arrays depend on."""
    digest = hashlib.sha256()
    prepared = {"image_size": way_in.side, **way_in.as_config()}
    digest.update(
        json.dumps({"format": CACHE_FORMAT, "way_in": prepared, "views": list(views), "dtype": dtype}).encode()
    )
    if trunk is not None:
        digest.update(json.dumps(trunk.get_config(), sort_keys=True, default=str).encode())
        for weight in trunk.weights:
            digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    for painting in paintings:
        status = os.stat(painting.path)
        digest.update(f"{os.path.abspath(painting.path)}\0{status.st_size}\0{status.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def load_or_build(trunk, paintings, views, way_in, root, *, progress=True):
    """The CachedFeatures of `paintings` (Painting objects) under `views`, each painting prepared by `way_in`
    (artnet.data.way_in.WayIn), from `root` if a complete cache with the same key is there, else computed
    now and left there for the next run."""
    layout = _Layout(trunk, tuple(views), way_in, len(paintings))
    key = cache_key(trunk, way_in, layout.views, paintings, layout.dtype)
    folder = os.path.join(root, key)
    if os.path.isdir(folder):
        try:
            cached = _load(folder, key)
            logger.info(f"Using the cached features in {folder}.")
            return cached
        except CacheError as error:
            logger.warning(f"The feature cache in {folder} is unusable ({error}); computing it again.")
            shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(root, exist_ok=True)
    _remove_abandoned(root, key)
    partial = tempfile.mkdtemp(prefix=f".{key}.{os.getpid()}.", suffix=PARTIAL_SUFFIX, dir=root)
    started = time.monotonic()
    try:
        _build(partial, key, layout, paintings, progress)
        try:
            os.rename(partial, folder)
        except OSError:
            # Another run finished the same cache first: theirs is as good as ours.
            shutil.rmtree(partial, ignore_errors=True)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    seconds = time.monotonic() - started
    views = len(paintings) * len(layout.views)
    # The speed of this machine, by which a reader scales every time that the docs give.
    logger.info(
        f"Cached the features of {len(paintings)} paintings x {len(layout.views)} views in {folder} in {seconds:.0f} s "
        f"({1000 * seconds / max(views, 1):.1f} s per 1,000 views)."
    )
    return _load(folder, key)


def _remove_abandoned(root, key):
    """Delete the half-written caches of this key whose run was killed: their process is gone."""
    for name in os.listdir(root):
        parts = name.split(".")
        if (
            name.startswith(f".{key}.")
            and name.endswith(PARTIAL_SUFFIX)
            and parts[2].isdigit()
            and not _alive(int(parts[2]))
        ):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class CacheError(Exception):
    """A cache folder that cannot be used as it is."""


@dataclass(frozen=True)
class _Layout:
    """What a cache holds: the trunk's outputs (or the pixels, without a trunk) for each view of each
    painting, one array per output."""

    trunk: object
    views: tuple
    way_in: object  # WayIn
    paintings: int

    @property
    def image_size(self):
        return self.way_in.side

    @property
    def shapes(self):
        if self.trunk is None:
            return [(self.image_size, self.image_size, 3)]
        return [tuple(int(size) for size in output.shape[1:]) for output in self.trunk.outputs]

    @property
    def dtype(self):
        if self.trunk is None:
            return "uint8"
        values = sum(int(np.prod(shape)) for shape in self.shapes)
        return "float32" if self.paintings * len(self.views) * values * 4 <= FLOAT32_LIMIT_BYTES else "float16"


def _array_file(index):
    return f"features_{index}.npy"


def _build(folder, key, layout, paintings, progress):
    """Compute every array into `folder`, then its meta.json."""
    arrays = [
        np.lib.format.open_memmap(
            os.path.join(folder, _array_file(index)),
            mode="w+",
            dtype=layout.dtype,
            shape=(len(paintings), len(layout.views), *shape),
        )
        for index, shape in enumerate(layout.shapes)
    ]
    failures = _compute(arrays, layout, paintings, progress)
    for array in arrays:
        array.flush()
    del arrays
    write_json_atomically(
        os.path.join(folder, META_FILE),
        {
            "key": key,
            "format": CACHE_FORMAT,
            "paths": [os.path.abspath(painting.path) for painting in paintings],
            "views": list(layout.views),
            "arrays": [
                {
                    "file": _array_file(index),
                    "shape": [len(paintings), len(layout.views), *shape],
                    "dtype": layout.dtype,
                    "blake2b": _digest(os.path.join(folder, _array_file(index))),
                }
                for index, shape in enumerate(layout.shapes)
            ],
            "failures": failures,
        },
    )


def _compute(arrays, layout, paintings, progress):
    """Fill `arrays` row by row, a few paintings at a time, decoded in threads; {path: why} of the
    paintings that could not be decoded (their rows stay zeros)."""
    compute = _compiled(layout)

    def decode(painting):
        try:
            # A training painting is a file of the painting itself, never a photo of it: taken whole, so that
            # the cache does not depend on how the finder tells a photo from a painting.
            image = look(painting.path, layout.way_in, whole=True).model_copy
            return np.stack(
                [np.asarray(VIEWS[view](image, layout.image_size), dtype=np.uint8) for view in layout.views]
            ), None
        except (ImageError, OSError) as error:
            return None, str(error)

    failures = {}
    bar = progress_bar(len(paintings), "Computing features", "painting", enabled=progress)
    decoded = in_order(decode, paintings, window=4 * PAINTINGS_PER_BATCH)
    for start in range(0, len(paintings), PAINTINGS_PER_BATCH):
        rows, pixels = [], []
        for row in range(start, min(start + PAINTINGS_PER_BATCH, len(paintings))):
            views, failure = next(decoded)
            if failure is None:
                rows.append(row)
                pixels.append(views)
            else:
                failures[os.path.abspath(paintings[row].path)] = failure
        if rows:
            for array, output in zip(arrays, compute(np.concatenate(pixels))):
                array[rows] = output.reshape(len(rows), len(layout.views), *output.shape[1:])
        bar.update(min(PAINTINGS_PER_BATCH, len(paintings) - start))
    bar.close()
    return failures


def _compiled(layout):
    """uint8 views -> the list of arrays a cache row holds: the trunk's outputs, or the pixels themselves."""
    if layout.trunk is None:
        return lambda pixels: [pixels]
    import tensorflow as tf

    signature = [tf.TensorSpec([None, layout.image_size, layout.image_size, 3], tf.uint8)]
    # An intermediate output of one view never depends on another view in the batch: run them together.
    trunk = tf.function(
        lambda pixels: layout.trunk(tf.cast(pixels, tf.float32), training=False), input_signature=signature
    )
    return lambda pixels: [output.numpy() for output in _as_list(trunk(pixels))]


def _as_list(outputs):
    """A model's outputs as a list, whether it has one or several."""
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _load(folder, key):
    try:
        with open(os.path.join(folder, META_FILE), encoding="utf-8") as file:
            meta = json.load(file)
    except FileNotFoundError:
        raise CacheError(f"no {META_FILE}") from None
    except (OSError, ValueError) as error:
        raise CacheError(f"{META_FILE} is not readable JSON: {error}") from None
    if not isinstance(meta, dict) or meta.get("key") != key or meta.get("format") != CACHE_FORMAT:
        raise CacheError(f"{META_FILE} describes another cache")
    arrays = []
    for entry in meta["arrays"]:
        path = os.path.join(folder, entry["file"])
        try:
            if _digest(path) != entry["blake2b"]:
                raise CacheError(f"{entry['file']} does not match its digest")
            array = np.load(path, mmap_mode="r")
        except (OSError, ValueError) as error:
            raise CacheError(f"{entry['file']}: {error}") from None
        if list(array.shape) != entry["shape"] or str(array.dtype) != entry["dtype"]:
            raise CacheError(
                f"{entry['file']} holds {array.dtype} {array.shape}, not {entry['dtype']} {entry['shape']}"
            )
        arrays.append(array)
    return CachedFeatures(
        folder=folder, paths=meta["paths"], views=tuple(meta["views"]), arrays=arrays, failures=meta["failures"]
    )


def _digest(path):
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
