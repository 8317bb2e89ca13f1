"""find_painting, as a visitor sees it: the painting in a phone photo of it is found, with accurate corners, and
warped flat; an image that is already just a painting is left whole; nothing makes it raise or return a
degenerate quadrilateral.

The photos are composited here, seeded: a real painting (or a generated one) on a wall of one colour with a
faint texture, in a frame or not, tilted, lit unevenly, with noise and JPEG compression."""

import glob
import io
import math
import os

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from artnet.data.finding import FoundPainting, find_painting
from artnet.data.wall_photos import photographs

from conftest import SHARED_PAINTINGS, requires_shared_paintings

# Larger than the copy the search works on, as a phone's photo is.
PHOTO_SIDE = 800
# How far a found corner may lie from the true one, as a share of the photo's diagonal.
CORNER_TOLERANCE = 0.03


def real_paintings(count, seed, pattern="*.jpg"):
    """`count` paths of the shared paintings whose names match `pattern`, a seeded sample over all movements."""
    paths = sorted(glob.glob(os.path.join(SHARED_PAINTINGS, "*", pattern)))
    if count >= len(paths):
        return paths
    return [paths[i] for i in sorted(np.random.default_rng(seed).choice(len(paths), count, replace=False))]


def generated_painting(rng, size=(300, 220)):
    """A painting of random coloured ellipses and strokes on a dark ground: detail everywhere, and an edge
    against a light wall."""
    painting = Image.new("RGB", size, tuple(int(v) for v in rng.integers(0, 100, 3)))
    draw = ImageDraw.Draw(painting)
    width, height = size
    for _ in range(120):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        w, h = rng.uniform(5, width / 4), rng.uniform(5, height / 4)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x, y, x + w, y + h), fill=colour)
        else:
            draw.line((x, y, x + w, y + h), fill=colour, width=int(rng.integers(2, 8)))
    return painting


def turned_rectangle(width, height, yaw, pitch, roll):
    """The corners of a width x height rectangle turned by yaw and pitch (degrees) away from a camera whose
    focal length is the rectangle's diagonal, and rolled in the picture: clockwise from top left, centred."""
    corners = np.array([[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], float) * [width / 2, height / 2, 0]
    y, p = math.radians(yaw), math.radians(pitch)
    turn_yaw = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    turn_pitch = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    turned = corners @ (turn_pitch @ turn_yaw).T
    focal = math.hypot(width, height)
    projected = turned[:, :2] * (focal / (focal + turned[:, 2:]))
    r = math.radians(roll)
    return projected @ np.array([[math.cos(r), math.sin(r)], [-math.sin(r), math.cos(r)]])


def photo_of(painting, rng, long_side=PHOTO_SIDE, tilt=15, roll=3, frame=None):
    """A phone photo of `painting` hung on a wall, and the true corners (4, 2) of the painting and of its
    frame's outer edge (the same when it has none) in the photo's pixels, clockwise from top left.

    The painting covers 30-80 % of the photo (less where a tall painting would not fit), turned up to `tilt`
    degrees away from the camera about each axis and rolled up to `roll` degrees; its frame is `frame` times
    its longer side wide, by default none in a quarter of the photos and 1.5-5 % in the others. The wall is
    one colour with a faint blotchy texture, lit unevenly, and the photo has noise and JPEG compression."""
    painting = painting.convert("RGB")
    width, height = painting.size
    if frame is None:
        frame = 0 if rng.random() < 0.25 else rng.uniform(0.015, 0.05)
    frame = math.ceil(frame * max(width, height))
    # A frame of any colour: one close to the wall's leaves only the painting's own edge to find.
    framed = Image.new("RGB", (width + 2 * frame, height + 2 * frame), tuple(int(v) for v in rng.integers(0, 256, 3)))
    framed.paste(painting, (frame, frame))
    # The painting's corners inside the framed image, in its own pixels.
    inner = np.float32(
        [[frame, frame], [frame + width, frame], [frame + width, frame + height], [frame, frame + height]]
    )
    outer = np.float32([[0, 0], [framed.width, 0], [framed.width, framed.height], [0, framed.height]])

    photo_size = (long_side, long_side * 3 // 4) if width >= height else (long_side * 3 // 4, long_side)
    photo_w, photo_h = photo_size
    turned = turned_rectangle(framed.width, framed.height, *rng.uniform(-tilt, tilt, 2), rng.uniform(-roll, roll))
    # Scaled so that the painting covers 30-80 % of the photo, or as much as fits inside with a margin.
    area_share = rng.uniform(0.3, 0.8)
    painting_area = cv2.contourArea(turned.astype(np.float32)) * (width * height) / (framed.width * framed.height)
    scale = math.sqrt(area_share * photo_w * photo_h / painting_area)
    extent = turned.max(axis=0) - turned.min(axis=0)
    scale = min(scale, 0.9 * photo_w / extent[0], 0.9 * photo_h / extent[1])
    placed = turned * scale
    room = np.array(photo_size) - (placed.max(axis=0) - placed.min(axis=0))
    placed = placed - placed.min(axis=0) + rng.uniform(0.2, 0.8, 2) * room
    matrix = cv2.getPerspectiveTransform(outer, placed.astype(np.float32))

    wall_colour = rng.integers(40, 240, 3).astype(np.float32)
    texture = cv2.resize(
        rng.normal(0, 1, (photo_h * 20 // long_side, photo_w * 20 // long_side)).astype(np.float32), photo_size
    )
    wall = np.clip(wall_colour + rng.uniform(0, 6) * texture[..., None], 0, 255).astype(np.uint8)
    warped = cv2.warpPerspective(np.asarray(framed), matrix, photo_size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full(framed.size[::-1], 255, np.uint8), matrix, photo_size, flags=cv2.INTER_LINEAR)
    alpha = mask[..., None] / 255.0
    photo = warped * alpha + wall * (1 - alpha)

    # Light falling off across the wall, from a random side.
    direction = rng.normal(0, 1, 2)
    direction /= np.linalg.norm(direction)
    xs, ys = np.meshgrid(np.linspace(-0.5, 0.5, photo_w), np.linspace(-0.5, 0.5, photo_h))
    light = 1 + rng.uniform(0.1, 0.35) * (xs * direction[0] + ys * direction[1])
    photo = photo * light[..., None] + rng.normal(0, rng.uniform(1, 5), photo.shape)
    encoded = io.BytesIO()
    Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).save(encoded, "JPEG", quality=int(rng.integers(70, 93)))
    photo = Image.open(encoded)
    photo.load()
    return photo, cv2.perspectiveTransform(inner[None], matrix)[0], cv2.perspectiveTransform(outer[None], matrix)[0]


def on_a_wall(count, seed, **options):
    """`count` (photo, painting's corners, frame's corners) of shared paintings, seeded."""
    rng = np.random.default_rng(seed)
    return [photo_of(Image.open(path), rng, **options) for path in real_paintings(count, seed)]


def corner_error(found, truth, size):
    """The largest distance between corresponding corners, as a share of the photo's diagonal."""
    return float(np.linalg.norm(found - truth, axis=1).max() / math.hypot(*size))


def is_accurate(found, painting, frame, size):
    """Found, at the painting's edge or at its frame's outer edge."""
    return (
        found is not None
        and min(corner_error(found.corners, painting, size), corner_error(found.corners, frame, size))
        <= CORNER_TOLERANCE
    )


def wall(size=(640, 480), colour=(180, 170, 150)):
    """A plain wall lit unevenly, with a little noise: what is around a painting in a photo."""
    rng = np.random.default_rng(10)
    light = np.linspace(0.85, 1.1, size[0])[None, :, None]
    pixels = np.asarray(colour, np.float32) * light + rng.normal(0, 2, (size[1], size[0], 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def painted_shape(outline, seed=0):
    """The wall with a generated painting inside `outline`, a list of (x, y)."""
    photo = wall()
    mask = Image.new("L", photo.size)
    ImageDraw.Draw(mask).polygon([tuple(map(float, point)) for point in outline], fill=255)
    photo.paste(generated_painting(np.random.default_rng(seed), photo.size), mask=mask)
    return photo


# --- An image that is already just a painting is left whole ---


@requires_shared_paintings
def test_real_paintings_are_left_whole():
    paths = real_paintings(400, seed=1)
    cropped = [os.path.basename(path) for path in paths if find_painting(Image.open(path)) is not None]
    assert len(cropped) <= 0.02 * len(paths), cropped


@requires_shared_paintings
@pytest.mark.parametrize("pattern", ["*mondrian*", "*rothko*", "*black-square*", "*window*", "*interior*"])
def test_a_paintings_own_rectangles_are_not_a_frame(pattern):
    paths = real_paintings(1000, seed=0, pattern=pattern)
    assert paths, pattern
    assert [os.path.basename(path) for path in paths if find_painting(Image.open(path)) is not None] == []


@requires_shared_paintings
@pytest.mark.parametrize("colour", [(255, 255, 255), (238, 232, 215), (0, 0, 0), (128, 128, 128)])
@pytest.mark.parametrize("border", [0.03, 0.15])
def test_a_download_with_a_plain_border_is_left_whole(colour, border):
    for path in real_paintings(25, seed=2):
        painting = Image.open(path).convert("RGB")
        bordered = ImageOps.expand(painting, round(border * max(painting.size)), colour)
        assert find_painting(bordered) is None, os.path.basename(path)


def test_a_plain_quadrilateral_on_a_wall_is_left_whole():
    """Only a quadrilateral with detail inside is taken for a painting on a wall: a Black Square or a
    Rothko's colour field is never cut out of its own ground."""
    outline = [(150, 100), (500, 120), (490, 390), (140, 370)]
    photo = wall()
    ImageDraw.Draw(photo).polygon(outline, fill=(25, 25, 30))
    # The camera's noise over both, as in a photo.
    noise = np.random.default_rng(14).normal(0, 2, (photo.height, photo.width, 3))
    photo = Image.fromarray(np.clip(np.asarray(photo) + noise, 0, 255).astype(np.uint8))
    assert find_painting(photo) is None
    assert find_painting(painted_shape(outline)) is not None


def test_a_painting_that_fills_the_image_up_to_a_hairline_is_left_whole():
    """A quadrilateral along the image's own border is the image's edge, not a painting's on a wall."""
    photo = wall()
    photo.paste(generated_painting(np.random.default_rng(13), (636, 440)), (2, 20))
    assert find_painting(photo) is None
    # Moved in from the sides, it is a painting on a wall.
    photo.paste(wall().crop((0, 0, 40, 480)), (0, 0))
    photo.paste(wall().crop((600, 0, 640, 480)), (600, 0))
    assert find_painting(photo) is not None


# --- A photo of a painting on a wall is found ---


@requires_shared_paintings
def test_photos_of_paintings_on_a_wall_are_found_with_accurate_corners():
    photos = on_a_wall(40, seed=3)
    found = [is_accurate(find_painting(photo), painting, frame, photo.size) for photo, painting, frame in photos]
    assert np.mean(found) >= 0.9, f"{sum(found)} of {len(found)} found within {CORNER_TOLERANCE:.0%}"


@requires_shared_paintings
def test_a_painting_in_a_frame_is_found_inside_it():
    photos = on_a_wall(12, seed=4, frame=0.05)
    inside = [
        (found := find_painting(photo)) is not None and corner_error(found.corners, painting, photo.size) < 0.01
        for photo, painting, _ in photos
    ]
    assert sum(inside) >= 10


@requires_shared_paintings
def test_a_photo_taken_head_on_is_found():
    """An upright painting in a photo is told from a download's plain margin by the light falling off across
    the wall."""
    photos = on_a_wall(12, seed=5, tilt=0, roll=0)
    found = [is_accurate(find_painting(photo), painting, frame, photo.size) for photo, painting, frame in photos]
    assert sum(found) >= 10


def test_a_12_megapixel_photo_gives_the_painting_at_the_resolution_it_has_there():
    rng = np.random.default_rng(6)
    photo, painting, _ = photo_of(generated_painting(rng), rng, long_side=1000, frame=0)
    # Enlarged to a phone's 4000 x 3000: pixel centres scale about the image's corner.
    scale = 4000 / photo.width
    photo = photo.resize((4000, round(photo.height * scale)), Image.Resampling.BILINEAR)
    painting = (painting + 0.5) * scale - 0.5
    found = find_painting(photo)
    assert found is not None and corner_error(found.corners, painting, photo.size) <= CORNER_TOLERANCE
    top, right, bottom, left = np.linalg.norm(np.roll(painting, -1, axis=0) - painting, axis=1)
    assert found.image.size == pytest.approx(((top + bottom) / 2, (left + right) / 2), rel=0.05)


@requires_shared_paintings
def test_the_painting_comes_out_flat_in_its_own_proportions():
    rng = np.random.default_rng(7)
    painting = Image.open(real_paintings(1, seed=8)[0]).convert("RGB")
    photo, _, _ = photo_of(painting, rng, frame=0.04)
    found = find_painting(photo)
    assert isinstance(found, FoundPainting) and found.image.mode == "RGB"
    assert found.image.width / found.image.height == pytest.approx(painting.width / painting.height, rel=0.05)
    flat = np.asarray(found.image.convert("L").resize(painting.size), np.float32)
    original = np.asarray(painting.convert("L"), np.float32)
    assert np.corrcoef(flat.ravel(), original.ravel())[0, 1] > 0.8


def test_corners_are_float32_clockwise_from_top_left():
    rng = np.random.default_rng(9)
    photo, painting, _ = photo_of(generated_painting(rng), rng, roll=10, frame=0)
    found = find_painting(photo)
    assert found.corners.dtype == np.float32 and found.corners.shape == (4, 2)
    assert corner_error(found.corners, painting, photo.size) <= CORNER_TOLERANCE
    # With y pointing down, a clockwise outline has a positive shoelace sum.
    x, y = found.corners[:, 0], found.corners[:, 1]
    assert np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y) > 0


# --- Robustness: never raises, never returns a degenerate quadrilateral ---


@pytest.mark.parametrize(
    "outline",
    [
        [(280, 200), (360, 200), (360, 280), (280, 280)],  # 2 % of the photo
        [(100, 80), (540, 400), (540, 80), (100, 400)],  # a bow tie, crossing itself
        [(40, 230), (600, 230), (600, 250), (40, 250)],  # a sliver
        [(60, 100), (300, 100), (600, 400), (360, 400)],  # corners of 45 and 135 degrees
    ],
    ids=["small", "bow-tie", "sliver", "skewed"],
)
def test_a_degenerate_quadrilateral_is_not_a_painting(outline):
    assert find_painting(painted_shape(outline)) is None


def test_whatever_is_found_is_a_large_convex_quadrilateral_inside_the_image():
    rng = np.random.default_rng(11)
    rectangle = np.float32([(120, 90), (520, 90), (520, 390), (120, 390)])
    found = 0
    for seed in range(40):
        # A rectangle's corners moved at random, a little or a lot; some outlines cross themselves.
        outline = rectangle + rng.normal(0, rng.choice([5, 40, 120]), rectangle.shape)
        photo = painted_shape(outline[[0, 2, 1, 3]] if rng.random() < 0.3 else outline, seed)
        result = find_painting(photo)
        if result is not None:
            found += 1
            corners = result.corners
            assert cv2.isContourConvex(corners)
            assert cv2.contourArea(corners) >= 0.15 * photo.width * photo.height
            assert (corners >= 0).all() and (corners <= [photo.width - 1, photo.height - 1]).all()
    # The rectangles moved a little are paintings, so the checks above ran.
    assert found


@pytest.mark.parametrize("size", [(8, 8), (31, 200), (32, 32), (10000, 40), (40, 10000), (3000, 20)])
def test_tiny_and_extremely_long_images_are_left_whole(size):
    assert find_painting(Image.new("RGB", size, (90, 60, 30))) is None


@pytest.mark.parametrize("mode", ["1", "L", "LA", "La", "P", "PA", "RGBA", "RGBa", "CMYK", "YCbCr", "I", "I;16", "F"])
def test_an_image_of_any_mode_is_searched(mode):
    photo = painted_shape([(150, 100), (500, 110), (490, 390), (160, 380)])
    if mode == "I;16":
        converted = Image.fromarray(np.asarray(photo.convert("L"), np.uint16) * 257)
    elif mode in ("La", "RGBa"):
        converted = photo.convert(mode[:-1] + "A").convert(mode)
    elif mode == "PA":
        converted = photo.convert("P").convert("PA")
    else:
        converted = photo.convert(mode)
    found = find_painting(converted)
    # Found in every mode that Pillow converts to RGB faithfully: black and white keeps too little of the
    # wall's light to tell it from a plain margin, and Pillow clips 16-bit values to white. The app gives
    # find_painting what load_image made of a file, always RGB.
    assert found is not None or mode in ("1", "I;16")
    assert found is None or found.image.mode == "RGB"


def test_noise_and_flat_colour_are_left_whole():
    rng = np.random.default_rng(12)
    assert find_painting(Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8))) is None
    assert find_painting(Image.new("RGB", (640, 480), (200, 190, 170))) is None
    assert find_painting(wall()) is None


@requires_shared_paintings
def test_photos_from_the_wall_photo_generator_are_found():
    """The measurement's own photos (a museum wall lit unevenly, carved frames, a visitor or a label beside
    the painting, a phone's sharpening) with a seed of their own: the painting, or at worst its frame, is
    found in most of them, and the painting inside its frame in many."""
    paintings = [Image.open(path).convert("RGB") for path in real_paintings(24, seed=11)]
    photos = photographs(paintings, seed=1011, longest_side=960)
    found = [find_painting(photo.image) for photo in photos]
    at_painting = [
        result is not None and corner_error(result.corners, photo.corners, photo.image.size) <= CORNER_TOLERANCE
        for result, photo in zip(found, photos)
    ]
    assert sum(result is not None for result in found) >= 15, f"{sum(r is not None for r in found)} of 24 found"
    assert sum(at_painting) >= 8, f"{sum(at_painting)} of 24 found at the painting's edge"
