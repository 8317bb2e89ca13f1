"""The way in: an upload of any size and a training painting reach the network through the same steps, as the
model folder declares them; a photo of a painting on a wall is cropped to the painting."""

import glob
import io
import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from artnet.data.way_in import TRAINING_COPY_QUALITY, WayIn, look, training_copy

from conftest import SHARED_PAINTINGS, requires_shared_paintings

SIDE = 224


def shared_painting(index=0, movement="Realism"):
    return sorted(glob.glob(os.path.join(SHARED_PAINTINGS, movement, "*.jpg")))[index]


def png_bytes(image):
    encoded = io.BytesIO()
    image.save(encoded, format="PNG")
    return encoded.getvalue()


@requires_shared_paintings
def test_a_large_upload_reaches_the_network_as_the_training_copy_of_the_same_painting_does():
    copy = Image.open(shared_painting()).convert("RGB")
    # A visitor's file of the same painting: four times larger, never compressed.
    upload = png_bytes(copy.resize((copy.width * 4, copy.height * 4), Image.Resampling.BICUBIC))
    way_in = WayIn(SIDE)
    seen = look(upload, way_in)
    assert max(seen.model_copy.size) == SIDE and not seen.cropped
    assert seen.image.size == (copy.width * 4, copy.height * 4), "the page shows the upload at its own size"
    as_uploaded = seen.model_input(SIDE)
    as_trained = look(shared_painting(), way_in).model_input(SIDE)
    # Without the way in (a folder from before it), the upload reaches the network shrunk but not compressed.
    unprepared = look(upload, WayIn(SIDE, jpeg_quality=None, find_painting=False)).model_input(SIDE)
    # The high-frequency texture the style statistics read: the way in brings it to the training copy's.
    assert texture_gap(as_uploaded, as_trained) < 0.5 * texture_gap(unprepared, as_trained)


def texture_gap(first, second):
    """How much the fine detail (the image less its blur) of two model inputs differs, in grey levels."""

    def detail(pixels):
        grey = pixels.mean(axis=2)
        blurred = (grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:]) / 4
        return grey[1:-1, 1:-1] - blurred

    return float(np.abs(np.abs(detail(first)).mean() - np.abs(detail(second)).mean()))


def test_the_training_copy_is_at_most_the_side_never_enlarged_and_through_jpeg():
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 256, (300, 600, 3), dtype=np.uint8))
    shrunk = training_copy(noise, SIDE, TRAINING_COPY_QUALITY)
    assert shrunk.size == (SIDE, 112) and shrunk.mode == "RGB"
    small = Image.fromarray(rng.integers(0, 256, (50, 80, 3), dtype=np.uint8))
    kept = training_copy(small, SIDE, TRAINING_COPY_QUALITY)
    assert kept.size == (80, 50)
    # Through JPEG: noise loses detail, while without a quality the pixels stay as they were.
    assert np.abs(np.asarray(kept, np.float32) - np.asarray(small, np.float32)).mean() > 5
    assert np.array_equal(np.asarray(training_copy(small, SIDE, None)), np.asarray(small))


def test_a_folder_declares_its_way_in_and_a_folder_from_before_it_is_served_as_it_was_trained():
    declared = {"image_size": 260, "way_in": json.loads(json.dumps(WayIn(260).as_config()))}
    assert WayIn.from_config(declared) == WayIn(260, TRAINING_COPY_QUALITY, True)
    before = WayIn.from_config({"image_size": 224})
    assert before == WayIn(224, jpeg_quality=None, find_painting=False)
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)
    seen = look(pixels, before)
    assert np.array_equal(np.asarray(seen.model_copy), pixels) and not seen.cropped


@requires_shared_paintings
def test_a_photo_of_a_painting_on_a_wall_is_cropped_to_the_painting_unless_the_whole_image_is_asked_for():
    from artnet.data.wall_photos import photograph

    painting = Image.open(shared_painting(3, "Impressionism")).convert("RGB")
    photo = photograph(painting, np.random.default_rng(7))
    seen = look(photo.image, WayIn(SIDE))
    assert seen.cropped
    diagonal = float(np.hypot(*photo.image.size))
    assert np.abs(np.array(seen.corners) - photo.corners).max() < 0.05 * diagonal
    whole = look(photo.image, WayIn(SIDE), whole=True)
    assert not whole.cropped and whole.image.size == photo.image.size


@pytest.mark.slow
@requires_shared_paintings
def test_the_classifier_answers_for_the_painting_it_found_and_says_where(untrained_model_folder, tmp_path):
    from artnet.data.wall_photos import photograph
    from artnet.serve.classifier import Classifier

    folder = tmp_path / "model"
    shutil.copytree(untrained_model_folder, folder)
    config = json.loads((folder / "config.json").read_text())
    config["way_in"] = WayIn(int(config["image_size"])).as_config()
    (folder / "config.json").write_text(json.dumps(config))
    classifier = Classifier.from_folder(folder)
    painting = Image.open(shared_painting(5, "Cubism")).convert("RGB")
    photo = photograph(painting, np.random.default_rng(3))
    answer = classifier.answer(photo.image)
    assert answer.cropped and answer.as_dict()["corners"] == answer.corners and len(answer.corners) == 4
    explanation = classifier.explain(photo.image)
    left, top, right, bottom = explanation.content_box
    # The maps are drawn over the crop: the painting's shape, not the photo's.
    crop_ratio = (right - left) / (bottom - top)
    assert crop_ratio == pytest.approx(painting.width / painting.height, rel=0.1)
    assert explanation.answer.corners == answer.corners
    assert not classifier.answer(photo.image, whole=True).cropped
