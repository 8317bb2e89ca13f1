"""Similar paintings: the training paintings that the model finds closest to a painting, by the cosine
similarity of the embedding that its head's last layer sees. Exact search with numpy: one matrix product
over the whole index, which at the size of a model folder's index takes well under a millisecond.

numpy and Pillow alone: the Classifier gives the embedding from the pass that classifies, and
artnet.model.folder keeps the index on disk.
"""

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

# Thumbnails of the training paintings, this many pixels on the longer side at this JPEG quality: what a
# gallery of eight shows, small enough that an index of a few thousand paintings fits a Space.
THUMBNAIL_SIDE = 96
THUMBNAIL_QUALITY = 70
DEFAULT_K = 8


@dataclass(frozen=True)
class Match:
    """A training painting close to the one asked about."""

    movement: str
    title: str
    source: str | None
    similarity: float  # cosine, -1..1
    thumbnail: bytes  # JPEG


def normalised(embeddings):
    """Rows scaled to unit length (a zero row stays zero), as float32."""
    embeddings = np.asarray(embeddings, dtype=np.float32)
    norms = np.linalg.norm(embeddings, axis=-1, keepdims=True)
    return embeddings / np.where(norms > 0, norms, 1.0)


class NeighbourIndex:
    """Unit-length embeddings of the training paintings, with each one's movement, title, source and
    thumbnail (a function of its row that gives the JPEG bytes)."""

    def __init__(self, embeddings, entries, thumbnail):
        self.embeddings = normalised(embeddings)
        self.entries = list(entries)
        self._thumbnail = thumbnail
        if len(self.entries) != len(self.embeddings):
            raise ValueError(f"{len(self.embeddings)} embeddings but {len(self.entries)} entries.")

    def __len__(self):
        return len(self.entries)

    def nearest(self, embeddings, k=DEFAULT_K):
        """(rows, similarities), each (queries, k), most similar first."""
        similarities = normalised(embeddings) @ self.embeddings.T
        k = min(k, len(self.entries))
        rows = np.argpartition(-similarities, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(similarities, rows, axis=1), axis=1)
        rows = np.take_along_axis(rows, order, axis=1)
        return rows, np.take_along_axis(similarities, rows, axis=1)

    def matches(self, embedding, k=DEFAULT_K):
        """The k training paintings closest to one embedding, most similar first."""
        rows, similarities = self.nearest(np.asarray(embedding)[np.newaxis], k)
        return [
            Match(
                self.entries[row]["movement"],
                self.entries[row].get("title", ""),
                self.entries[row].get("source"),
                float(similarity),
                self._thumbnail(int(row)),
            )
            for row, similarity in zip(rows[0], similarities[0])
        ]


def thumbnail_jpeg(image):
    """A painting as the index shows it: THUMBNAIL_SIDE on its longer side, JPEG bytes."""
    small = image.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    encoded = io.BytesIO()
    small.save(encoded, format="JPEG", quality=THUMBNAIL_QUALITY)
    return encoded.getvalue()


def agreement(index, embeddings, movements):
    """The share of paintings whose nearest training painting has their movement."""
    if len(movements) == 0:
        return 0.0
    rows, _ = index.nearest(embeddings, k=1)
    return float(np.mean([index.entries[row]["movement"] == movement for row, movement in zip(rows[:, 0], movements)]))
