"""The views of a painting that training and evaluation show the network."""

import numpy as np
from PIL import Image

from artnet.data.images import PAD_COLOR, square_image
from artnet.data.views import EVALUATION_VIEWS, SHAPE_VIEWS, VIEWS, centre, degraded, flipped, squashed, whole

from synthetic import painting


def wide(size=(200, 100)):
    return painting("checkers", seed=1, size=size)


def test_every_view_is_a_square_of_the_asked_size():
    for name, view in VIEWS.items():
        assert view(wide(), 64).size == (64, 64), name
    assert (
        set(EVALUATION_VIEWS) <= set(VIEWS)
        and set(SHAPE_VIEWS) <= set(EVALUATION_VIEWS)
        and "whole" in EVALUATION_VIEWS
    )


def test_the_whole_view_is_the_apps_padded_painting_and_the_others_show_no_padding():
    image = wide()
    assert np.array_equal(np.asarray(whole(image, 64)), np.asarray(square_image(image, 64)))
    padded = np.asarray(whole(image, 64))
    assert (padded[:8] == PAD_COLOR).all() and (padded[-8:] == PAD_COLOR).all()
    for view in (squashed, centre):
        pixels = np.asarray(view(image, 64))
        assert not (pixels[:8] == PAD_COLOR).all(axis=-1).any() and not (pixels[-8:] == PAD_COLOR).all(axis=-1).any()


def test_flipped_mirrors_the_whole_view():
    assert np.array_equal(np.asarray(flipped(wide(), 64)), np.asarray(whole(wide(), 64))[:, ::-1])


def test_centre_is_the_middle_square_and_squashed_the_whole_width():
    # Left half red, right half blue: the centre square shows both halves, the squashed view all of it.
    image = Image.new("RGB", (200, 100), (255, 0, 0))
    image.paste((0, 0, 255), (100, 0, 200, 100))
    middle = np.asarray(centre(image, 64))
    assert (middle[:, :28, 0] > 200).all() and (middle[:, 36:, 2] > 200).all()
    image.paste((0, 255, 0), (0, 0, 20, 100))  # a green strip at the left edge, outside the centre square
    assert not (np.asarray(centre(image, 64))[..., 1] > 200).any()
    assert (np.asarray(squashed(image, 64))[:, :5, 1] > 200).all()


def test_degraded_loses_the_fine_detail():
    fine = painting("noise", seed=2, size=(224, 224))
    sharp, soft = np.asarray(whole(fine, 224), float), np.asarray(degraded(fine, 224), float)
    assert np.abs(np.diff(soft, axis=1)).mean() < 0.8 * np.abs(np.diff(sharp, axis=1)).mean()
