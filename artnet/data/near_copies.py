"""Near-copies: the same painting in two reproductions, found from the pixels, so that a split keeps them on
one side and a test painting is never a training painting in another scan.

The collections re-publish WikiArt's images: one may have shrunk a painting, re-encoded it, squashed it to
a square or shifted its colours, and another keeps it as it was. Each painting is described by its
brightness on a 16 x 16 grid over the whole image, whatever its aspect (so a squashed copy gets the
original's grid), less its mean and scaled to unit length (so brightness and contrast shifts drop out).
Two paintings whose descriptors have a cosine of SAME_PAINTING or more are near-copies, and near-copies of
near-copies are one group.
"""

import numpy as np
from PIL import Image

from artnet.data.images import load_image
from artnet.errors import UserError

GRID = 16
# A painting against its own copies shrunk to 60 %, re-encoded at JPEG quality 60 or squashed to a square
# stays above this; the reproductions of one painting found in the shared paintings (two scans with other
# colours and crops) sit at or a little above it, and few pairs of different paintings reach it: those
# that do are works of one series, which it costs nothing to keep on one side together.
SAME_PAINTING = 0.94
# Rows of descriptors compared with all others at a time, which bounds the similarity matrix's memory.
BLOCK = 1024
# Decoding at a reduced size (JPEG's DCT scaling) is enough for the grid and much faster on large scans.
DECODE_SIZE = (4 * GRID, 4 * GRID)


def descriptor(image):
    """The unit-length, mean-free brightness grid of a PIL image; zeros for an image of one colour."""
    grid = np.asarray(image.convert("L").resize((GRID, GRID), Image.Resampling.BOX), np.float32).ravel()
    grid = grid - grid.mean()
    length = np.linalg.norm(grid)
    return grid / length if length > 1e-3 else np.zeros_like(grid)


def descriptors(paths):
    """(paintings, GRID * GRID) descriptors of image files; zeros for a file that cannot be read, which
    then matches nothing."""
    rows = np.zeros((len(paths), GRID * GRID), np.float32)
    for number, path in enumerate(paths):
        try:
            with Image.open(path) as opened:
                opened.draft("RGB", DECODE_SIZE)
                rows[number] = descriptor(load_image(opened))
        except (UserError, OSError, SyntaxError, ValueError):
            continue
    return rows


def near_copy_pairs(rows, threshold=SAME_PAINTING):
    """[(i, j, cosine)] with i < j for every pair of descriptors at or above `threshold`."""
    pairs = []
    for start in range(0, len(rows), BLOCK):
        similarities = rows[start : start + BLOCK] @ rows.T
        for offset, other in zip(*np.nonzero(similarities >= threshold)):
            first = start + int(offset)
            if first < other:
                pairs.append((first, int(other), float(similarities[offset, other])))
    return pairs


def group_numbers(count, pairs):
    """A group number for each of `count` items, the same for items joined by `pairs` directly or through
    others: the smallest member's index."""
    parent = list(range(count))

    def root(item):
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for first, second, *_ in pairs:
        a, b = root(first), root(second)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return [root(item) for item in range(count)]


def near_copy_groups(paths):
    """A group number for each image file: near-copies, directly or through others, share one."""
    return group_numbers(len(paths), near_copy_pairs(descriptors(paths)))
