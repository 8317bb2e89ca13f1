"""The photos of paintings on a museum wall that measure ArtNet on phone photos: the same for the same seed,
the painting where the corners say and at the share of the photo it should be, any painting's shape."""

import glob
import os

import cv2
import numpy as np
from PIL import Image

from artnet.data.images import load_image
from artnet.data.wall_photos import LARGEST_HIDDEN_SHARE, _add_visitor, photograph, photographs

from conftest import SHARED_PAINTINGS, requires_shared_paintings

# Small photos keep the tests fast; the scene is drawn the same way at any size.
SIDE = 640
# No wall, frame, visitor or label is this colour, and no light turns them into it.
MAGENTA = (230, 20, 230)


def patchwork(seed=0, size=(300, 200)):
    """A painting of large random patches: unmistakable when the photo is warped back, whatever the light."""
    patches = np.random.default_rng(seed).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    return Image.fromarray(patches).resize(size, Image.Resampling.NEAREST)


def flat(size=(300, 200), colour=MAGENTA):
    return Image.new("RGB", size, colour)


def pixels(photo):
    return np.asarray(photo.image)


def warped_back(photo, corners, size):
    """The photo inside `corners`, warped to a painting of `size`."""
    width, height = size
    target = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    return cv2.warpPerspective(pixels(photo), cv2.getPerspectiveTransform(np.float32(corners), target), size)


def correlation(first, second):
    return np.corrcoef(np.asarray(first, np.float64).ravel(), np.asarray(second, np.float64).ravel())[0, 1]


def area(corners):
    x, y = np.asarray(corners, np.float64).T
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def is_magenta(colour):
    red, green, blue = np.asarray(colour, np.float64)
    return red - green > 60 and blue - green > 60


def colour_at(photo, point):
    """The mean colour of the 3 x 3 pixels around `point` (x, y), which the JPEG's noise cannot tip."""
    x, y = np.round(point).astype(int)
    return pixels(photo)[y - 1 : y + 2, x - 1 : x + 2].reshape(-1, 3).mean(axis=0)


def in_photo(photo, point):
    return 1 <= point[0] < photo.image.width - 1 and 1 <= point[1] < photo.image.height - 1


def share_of_photo(photo):
    return area(photo.corners) / (photo.image.width * photo.image.height)


def test_the_same_seed_gives_the_same_photos_bit_for_bit_and_another_seed_others():
    paintings = [patchwork(0), patchwork(1), patchwork(0)]
    first, again, other = (photographs(paintings, seed, SIDE) for seed in (7, 7, 8))
    for photo, repeat in zip(first, again):
        assert np.array_equal(pixels(photo), pixels(repeat)) and np.array_equal(photo.corners, repeat.corners)
    for photo, different in zip(first, other):
        assert not np.array_equal(photo.corners, different.corners)
    assert not np.array_equal(first[0].corners, first[2].corners), "one painting twice gets two photos"
    # A photo depends on the seed and its place in the list, not on the paintings after it.
    assert np.array_equal(pixels(photographs(paintings[:1], 7, SIDE)[0]), pixels(first[0]))


def test_a_photo_is_an_rgb_phone_jpeg_of_the_asked_longest_side():
    rng = np.random.default_rng(0)
    for longest_side in (SIDE, 1000):
        for _ in range(4):
            photo = photograph(patchwork(), rng, longest_side)
            width, height = photo.image.size
            assert photo.image.mode == "RGB" and photo.image.format == "JPEG"
            assert max(width, height) == longest_side and min(width, height) == round(longest_side * 3 / 4)
            assert photo.corners.dtype == np.float32 and photo.corners.shape == (4, 2)


def test_warping_the_photo_back_by_its_corners_gives_the_painting():
    paintings = [patchwork(seed) for seed in range(4)]
    for seed in range(3):
        for photo, painting in zip(photographs(paintings, seed, SIDE), paintings):
            assert correlation(warped_back(photo, photo.corners, painting.size), painting) > 0.85
            # Corners a tenth of the painting off would not pass: the check can fail.
            shifted = photo.corners + 0.1 * (photo.corners[1] - photo.corners[0])
            assert correlation(warped_back(photo, shifted, painting.size), painting) < 0.5


@requires_shared_paintings
def test_warping_the_photo_back_gives_a_real_painting():
    paths = sorted(glob.glob(os.path.join(SHARED_PAINTINGS, "*", "*.jpg")))[::1000]
    paintings = [load_image(path) for path in paths]
    found = []
    for photo, painting in zip(photographs(paintings, 0, SIDE), paintings):
        right = correlation(warped_back(photo, photo.corners, painting.size), painting)
        shifted = photo.corners + 0.1 * (photo.corners[1] - photo.corners[0])
        assert right > correlation(warped_back(photo, shifted, painting.size), painting)
        found.append(right)
    assert np.median(found) > 0.9


def test_the_corners_are_the_painting_s_own_inside_any_frame():
    """Just inside each corner the photo shows the painting (a magenta no wall or frame has), and just
    outside it the frame or the wall; a visitor may hide one corner."""
    for photo in photographs([flat()] * 12, 3, SIDE):
        corners = photo.corners.astype(np.float64)
        centre = corners.mean(axis=0)
        assert is_magenta(colour_at(photo, centre))
        reach = 0.05 * np.linalg.norm(corners[2] - corners[0])
        towards_centre = (centre - corners) / np.linalg.norm(centre - corners, axis=1, keepdims=True)
        inside = [is_magenta(colour_at(photo, corner + reach * way)) for corner, way in zip(corners, towards_centre)]
        outside = [corner - reach * way for corner, way in zip(corners, towards_centre)]
        assert sum(inside) >= 3, inside
        assert not any(is_magenta(colour_at(photo, point)) for point in outside if in_photo(photo, point))


def test_the_painting_covers_30_to_80_percent_of_the_photo():
    rng = np.random.default_rng(1)
    shares = []
    for aspect in (0.5, 0.75, 1.0, 1.33, 2.0):
        for _ in range(6):
            photo = photograph(flat((round(300 * aspect), 300)), rng, SIDE)
            shares.append(share_of_photo(photo))
    # Up to float rounding: the layout aims at the bounds exactly.
    assert 0.30 - 1e-6 <= min(shares) and max(shares) <= 0.80 + 1e-6, (min(shares), max(shares))
    assert max(shares) - min(shares) > 0.2, "the photos vary in how close they are taken"


@requires_shared_paintings
def test_real_paintings_cover_30_to_80_percent_of_the_photo():
    paths = sorted(glob.glob(os.path.join(SHARED_PAINTINGS, "*", "*.jpg")))[::500]
    # Of the shapes a 4:3 photo can show at 30 % or more with any frame.
    paintings = [painting for painting in map(load_image, paths) if 0.5 <= painting.width / painting.height <= 2]
    for photo in photographs(paintings, 2, SIDE):
        assert 0.30 - 1e-6 <= share_of_photo(photo) <= 0.80 + 1e-6


def test_a_tiny_and_a_panoramic_painting_make_photos_too():
    for size in ((16, 16), (4000, 300)):
        for photo in photographs([flat(size)] * 4, 5, SIDE):
            width, height = photo.image.size
            assert photo.image.mode == "RGB" and max(width, height) == SIDE
            corners = photo.corners
            assert (corners >= 0).all() and (corners[:, 0] <= width).all() and (corners[:, 1] <= height).all()
            assert is_magenta(colour_at(photo, corners.mean(axis=0)))
            span = corners.max(axis=0) - corners.min(axis=0)
            if size == (4000, 300):
                # As wide as the photo allows: a long painting is not shrunk to a sliver.
                assert span[0] > 0.7 * width and 6 < span[0] / span[1] < 25


def test_the_photos_vary_in_wall_orientation_and_frame():
    photos = photographs([flat((300, 300))] * 16, 11, SIDE)
    top_left = np.array([pixels(photo)[:20, :20].reshape(-1, 3).mean(axis=0) for photo in photos])
    assert np.ptp(top_left, axis=0).max() > 100, "walls of different colours"
    assert len({photo.image.size for photo in photos}) == 2, "both ways up"
    # Just outside the painting's top-left corner: frames (and walls, where there is none) of many kinds.
    beside = np.array([colour_at(photo, photo.corners[0] - 6) for photo in photos])
    assert np.ptp(beside, axis=0).max() > 100


def test_a_visitor_hides_at_most_a_tenth_of_the_painting():
    # A painting at the smallest share, low in the photo, where a visitor would hide much of it.
    corners = np.float32([[180, 150], [460, 145], [465, 470], [175, 470]])
    painting = np.zeros((480, 640), np.uint8)
    cv2.fillConvexPoly(painting, np.round(corners).astype(np.int32), 1)
    hidden = []
    for seed in range(20):
        photo = _add_visitor(np.full((480, 640, 3), 255, np.float32), corners, np.random.default_rng(seed))
        dark = photo.mean(axis=-1) < 128
        hidden.append((dark & (painting == 1)).sum() / painting.sum())
        assert dark.any(), "a visitor is in the photo"
    assert max(hidden) <= LARGEST_HIDDEN_SHARE + 0.02 and max(hidden) > 0.02, hidden
