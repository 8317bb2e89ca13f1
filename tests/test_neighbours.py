"""Similar paintings: exact cosine search, the index in the model folder, and the Classifier's answer from
the pass that classifies."""

import io
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from artnet.explain.neighbours import NeighbourIndex, agreement, normalised, thumbnail_jpeg
from artnet.model import folder as model_folder

from synthetic import painting


def index_of(embeddings, movements):
    thumbnails = [thumbnail_jpeg(painting("blobs", seed=number, size=(120, 80))) for number in range(len(movements))]
    entries = [
        {"movement": movement, "title": f"painting {number}", "source": "gallery"}
        for number, movement in enumerate(movements)
    ]
    return NeighbourIndex(embeddings, entries, thumbnails.__getitem__), entries, thumbnails


def test_the_nearest_paintings_are_the_most_cosine_similar_most_similar_first():
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(200, 16))
    index, _, _ = index_of(embeddings, ["Cubism"] * 200)
    query = rng.normal(size=16)
    matches = index.matches(query * 5.0, k=8)  # a longer vector, the same direction: the same answer
    expected = np.argsort(-(normalised(embeddings) @ normalised(query[None])[0]))[:8]
    assert [m.title for m in matches] == [f"painting {row}" for row in expected]
    assert [m.similarity for m in matches] == sorted((m.similarity for m in matches), reverse=True)
    assert matches[0].similarity == pytest.approx(
        float(normalised(embeddings)[expected[0]] @ normalised(query[None])[0])
    )
    assert Image.open(io.BytesIO(matches[0].thumbnail)).size == (96, 64)


def test_agreement_counts_the_paintings_whose_nearest_has_their_movement():
    index, _, _ = index_of(np.eye(3), ["Cubism", "Realism", "Abstract"])
    queries = np.array([[1, 0.1, 0], [0, 0, 1], [0.2, 1, 0], [1, 0, 0]])
    assert agreement(index, queries, ["Cubism", "Abstract", "Cubism", "Cubism"]) == 0.75


def test_the_model_folder_keeps_the_index_and_a_damaged_one_is_no_index(tmp_path):
    embeddings = normalised(np.random.default_rng(1).normal(size=(5, 4)))
    _, entries, thumbnails = index_of(embeddings, ["Cubism", "Realism", "Cubism", "Abstract", "Realism"])
    model_folder.write_neighbours(tmp_path, embeddings, entries, thumbnails)
    stored, read_entries, thumbnail = model_folder.read_neighbours(tmp_path)
    assert stored.dtype == np.float16 and np.allclose(stored, embeddings, atol=1e-3)
    assert read_entries == entries and thumbnail(3) == thumbnails[3]
    assert model_folder.read_neighbours(tmp_path / "elsewhere") is None
    (tmp_path / "neighbours" / "index.json").write_text(json.dumps(entries[:2]))
    assert model_folder.read_neighbours(tmp_path) is None


@pytest.mark.slow
def test_the_classifier_finds_neighbours_from_the_pass_that_classifies(untrained_model_folder, tmp_path):
    from artnet.serve.classifier import Classifier

    assert Classifier.from_folder(untrained_model_folder).neighbours is None
    folder = tmp_path / "with_index"
    shutil.copytree(untrained_model_folder, folder)
    plain = Classifier.from_folder(untrained_model_folder)
    images = [painting(style, seed=3, size=(90, 70)) for style in ("stripes", "blobs", "checkers", "noise")]
    embeddings = np.stack([plain.explain(image).embedding for image in images])
    _, entries, thumbnails = index_of(embeddings, ["Cubism", "Impressionism", "Expressionism", "Abstract"])
    model_folder.write_neighbours(folder, normalised(embeddings), entries, thumbnails)
    classifier = Classifier.from_folder(folder)
    # Each painting's nearest training painting is itself.
    for number, image in enumerate(images):
        best = classifier.similar(image, k=2)[0]
        assert best.title == f"painting {number}" and best.similarity == pytest.approx(1.0, abs=1e-2)
        assert classifier.similar_to(classifier.explain(image).embedding, k=1)[0].title == f"painting {number}"
