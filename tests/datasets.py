"""Generated training data in both layouts train.py reads, with the faults real data has: a corrupt
file, a style outside the five movements and (in the CSV layout) a row whose file is missing."""

import csv
import os

from synthetic import STYLES, out_of_scope_image, painting

# Each synthetic style stands for one movement, named as the data would name it: a movement, or a
# Painter by Numbers / WikiArt style name that artnet.styles merges into one.
CLASS_FOLDERS = {
    "stripes": "Cubism",
    "blobs": "Post_Impressionism",
    "checkers": "Expressionism",
    "gradients": "Realism",
    "noise": "Abstract Art",
}
MOVEMENT_OF_STYLE = {
    "stripes": "Cubism",
    "blobs": "Impressionism",
    "checkers": "Expressionism",
    "gradients": "Realism",
    "noise": "Abstract",
}
UNMAPPED_STYLE = "Baroque"
CORRUPT_BYTES = b"\xff\xd8\xff\xe0 this JPEG was cut off by a failed download"


def sizes(index):
    """Varied painting sizes and aspect ratios, portrait and landscape."""
    return [(96, 80), (80, 112), (128, 72), (72, 72)][index % 4]


def write_class_folders(root, per_style=20, seed=0):
    """DIR/<class>/*.jpg, plus a corrupt JPEG in Cubism/ and 3 paintings of an unmapped style."""
    for style, folder in CLASS_FOLDERS.items():
        os.makedirs(os.path.join(root, folder))
        for index in range(per_style):
            painting(style, seed=seed * 10_000 + STYLES.index(style) * 1000 + index, size=sizes(index)).save(
                os.path.join(root, folder, f"{style}_{index:03d}.jpg"), quality=92
            )
    with open(os.path.join(root, "Cubism", "corrupt.jpg"), "wb") as file:
        file.write(CORRUPT_BYTES)
    os.makedirs(os.path.join(root, UNMAPPED_STYLE))
    for index in range(3):
        painting("noise", seed=9000 + index).save(os.path.join(root, UNMAPPED_STYLE, f"{index}.jpg"))
    return root


# The generated out-of-scope folder's categories and how close each is to the movements.
OUT_OF_SCOPE_CATEGORIES = {"rings": ("Rings", "far"), "diagonals": ("Diagonal_bands", "near")}


def write_out_of_scope(root, per_category=12):
    """DIR/<category>/*.jpg of generated images that are none of the styles, with manifest.csv's kinds."""
    rows = []
    for number, (style, (folder, kind)) in enumerate(OUT_OF_SCOPE_CATEGORIES.items()):
        os.makedirs(os.path.join(root, folder))
        for index in range(per_category):
            file = f"{style}_{index:03d}.jpg"
            out_of_scope_image(style, seed=50_000 + number * 1000 + index, size=sizes(index)).save(
                os.path.join(root, folder, file), quality=92
            )
            rows.append({"file": f"{folder}/{file}", "category": folder.replace("_", " "), "kind": kind})
    with open(os.path.join(root, "manifest.csv"), "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=["file", "category", "kind"])
        writer.writeheader()
        writer.writerows(rows)
    return root


def write_painter_by_numbers(root, per_style=20, seed=0, table="all_data_info.csv"):
    """Kaggle's layout: train/ and test/ image folders and one CSV row per painting.

    Besides the paintings: a corrupt file, 2 rows of an unmapped style and 1 row whose file is missing.
    """
    filename_column = "new_filename" if table == "all_data_info.csv" else "filename"
    os.makedirs(os.path.join(root, "train"))
    os.makedirs(os.path.join(root, "test"))
    rows = []
    number = 0
    for style, movement_folder in CLASS_FOLDERS.items():
        style_name = movement_folder.replace("_", "-")
        for index in range(per_style):
            number += 1
            filename = f"{number}.jpg"
            folder = "test" if index % 5 == 0 else "train"
            painting(style, seed=seed * 10_000 + STYLES.index(style) * 1000 + index, size=sizes(index)).save(
                os.path.join(root, folder, filename), quality=92
            )
            rows.append({filename_column: filename, "style": style_name, "artist": f"Painter {index % 7}"})
    with open(os.path.join(root, "train", "corrupt.jpg"), "wb") as file:
        file.write(CORRUPT_BYTES)
    rows.append({filename_column: "corrupt.jpg", "style": "Cubism", "artist": "Nobody"})
    for index in range(2):
        filename = f"baroque_{index}.jpg"
        painting("noise", seed=9000 + index).save(os.path.join(root, "train", filename))
        rows.append({filename_column: filename, "style": UNMAPPED_STYLE, "artist": "Rubens"})
    rows.append({filename_column: "never_downloaded.jpg", "style": "Realism", "artist": "Courbet"})
    with open(os.path.join(root, table), "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=[filename_column, "style", "artist"])
        writer.writeheader()
        writer.writerows(rows)
    return root
