"""Photos of paintings on a museum wall, to look at: draws photos of real paintings (artnet.data.wall_photos)
with a seed, saves them as one contact sheet, and prints the time per photo.

    python bench/wall_photos.py [OUTPUT.png] [--count 16] [--seed 0] [--data ../shared/paintings]

Each photo on the sheet has the painting's corners marked with small red dots, to check them by eye.
"""

import argparse
import os
import time

from timing import load_average, median_ms, setup_environment

setup_environment()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Each photo's longer side on the sheet: large enough to see frames and labels, small enough to open.
THUMBNAIL_SIDE = 480
COLUMNS = 4


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", nargs="?", default="/tmp/wall_photos.png")
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared", "paintings"))
    arguments = parser.parse_args()
    print(f"bench/wall_photos.py: {load_average()}")

    import numpy as np
    from PIL import Image, ImageDraw

    from artnet.data.images import IMAGE_EXTENSIONS, load_image
    from artnet.data.wall_photos import photograph, photographs

    paths = sorted(
        os.path.join(folder, name)
        for folder, _, names in os.walk(arguments.data)
        for name in names
        if name.lower().endswith(IMAGE_EXTENSIONS)
    )
    chosen = np.random.default_rng(arguments.seed).choice(len(paths), arguments.count, replace=False)
    paintings = [load_image(paths[index]) for index in chosen]

    photos = photographs(paintings, arguments.seed)
    rng = np.random.default_rng(arguments.seed)
    repeats = 3 * arguments.count
    # The CPU time too: on a shared machine the wall-clock time says as much about the neighbours.
    started = time.process_time()
    milliseconds = median_ms(lambda: photograph(paintings[int(rng.integers(len(paintings)))], rng), repeats)
    cpu_milliseconds = (time.process_time() - started) * 1000 / repeats
    print(
        f"{milliseconds:.0f} ms per photo of {max(photos[0].image.size)} px (median of {repeats}), "
        f"{cpu_milliseconds:.0f} ms of CPU time (mean, all threads)"
    )

    rows = -(-len(photos) // COLUMNS)
    sheet = Image.new("RGB", (COLUMNS * THUMBNAIL_SIDE, rows * THUMBNAIL_SIDE), (255, 255, 255))
    for index, photo in enumerate(photos):
        thumbnail = photo.image.copy()
        thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
        scale = thumbnail.width / photo.image.width
        draw = ImageDraw.Draw(thumbnail)
        for x, y in photo.corners * scale:
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=(255, 0, 0))
        left = index % COLUMNS * THUMBNAIL_SIDE + (THUMBNAIL_SIDE - thumbnail.width) // 2
        top = index // COLUMNS * THUMBNAIL_SIDE + (THUMBNAIL_SIDE - thumbnail.height) // 2
        sheet.paste(thumbnail, (left, top))
    sheet.save(arguments.output)
    print(f"{len(photos)} photos: {arguments.output}")


if __name__ == "__main__":
    main()
