"""Finding, splitting and decoding training data, in both layouts, with the faults real data has."""

import collections
import os

import pytest
from PIL import ImageEnhance

from artnet.data.near_copies import near_copy_groups
from artnet.data.paintings import DataError, Painting, find_paintings, split_paintings
from artnet.styles import MOVEMENTS

from datasets import UNMAPPED_STYLE, write_class_folders, write_painter_by_numbers
from synthetic import painting

PER_STYLE = 10


def test_class_folders_map_movement_and_style_names_and_count_what_is_left_out(tmp_path):
    source = find_paintings(write_class_folders(tmp_path, per_style=PER_STYLE))
    assert source.layout == "one folder per class"
    assert source.labels == list(MOVEMENTS)
    # "Post_Impressionism" is a style merged into Impressionism; "Abstract Art" into Abstract.
    counts = source.counts()
    assert counts == {**{movement: PER_STYLE for movement in MOVEMENTS}, "Cubism": PER_STYLE + 1}
    assert source.skipped == {"unmapped style": 3}
    assert source.unmapped_styles == {UNMAPPED_STYLE: 3}


@pytest.mark.parametrize("table", ["all_data_info.csv", "train_info.csv"])
def test_painter_by_numbers_reads_either_kaggle_table_across_train_and_test(tmp_path, table):
    source = find_paintings(write_painter_by_numbers(tmp_path, per_style=PER_STYLE, table=table))
    assert source.layout == f"Painter by Numbers ({table})"
    assert source.counts() == {**{movement: PER_STYLE for movement in MOVEMENTS}, "Cubism": PER_STYLE + 1}
    assert {os.path.basename(os.path.dirname(p.path)) for p in source.paintings} == {"train", "test"}
    assert source.skipped == {"unmapped style": 2, "missing file": 1}
    assert source.unmapped_styles == {UNMAPPED_STYLE: 2}


def one_line(error):
    message = str(error.value)
    assert "\n" not in message
    return message


def test_bad_data_folders_say_what_is_wrong(tmp_path):
    with pytest.raises(DataError) as error:
        find_paintings(tmp_path / "nowhere")
    assert "There is no data folder at" in one_line(error)

    (tmp_path / "empty" / "Cubism").mkdir(parents=True)
    with pytest.raises(DataError) as error:
        find_paintings(tmp_path / "empty")
    assert "No usable paintings" in one_line(error) and "DIR/Cubism/*.jpg" in one_line(error)

    (tmp_path / "one" / "Cubism").mkdir(parents=True)
    for index in range(4):
        painting("stripes", seed=index).save(tmp_path / "one" / "Cubism" / f"{index}.png")
    with pytest.raises(DataError) as error:
        find_paintings(tmp_path / "one")
    assert "only has paintings of Cubism" in one_line(error)

    (tmp_path / "wrong_table").mkdir()
    (tmp_path / "wrong_table" / "all_data_info.csv").write_text("new_filename,genre\n1.jpg,portrait\n")
    with pytest.raises(DataError) as error:
        find_paintings(tmp_path / "wrong_table")
    assert "all_data_info.csv has no column style" in one_line(error)


def test_a_movement_with_too_few_paintings_to_split_is_named(tmp_path):
    source = find_paintings(write_class_folders(tmp_path, per_style=PER_STYLE))
    scarce = [p for p in source.paintings if p.movement != "Realism"] + [
        p for p in source.paintings if p.movement == "Realism"
    ][:2]
    with pytest.raises(DataError) as error:
        split_paintings(scarce)
    assert one_line(error).startswith("Realism has only 2 painting(s)")


def test_the_split_is_by_painting_stratified_and_seeded(tmp_path):
    paintings = find_paintings(write_class_folders(tmp_path, per_style=20)).paintings
    train, validation, test = split_paintings(paintings, 0.15, 0.15, seed=7)
    paths = [{p.path for p in split} for split in (train, validation, test)]
    assert not (paths[0] & paths[1] or paths[0] & paths[2] or paths[1] & paths[2])
    assert set().union(*paths) == {p.path for p in paintings}
    # Generated checkers and gradients repeat each other's pattern in other colours: near-copies, which
    # go to one split together and may take a split past its share by a group less one painting.
    groups = collections.Counter(near_copy_groups([p.path for p in paintings]))
    largest = {p.movement: 0 for p in paintings}
    for p, group in zip(paintings, near_copy_groups([p.path for p in paintings])):
        largest[p.movement] = max(largest[p.movement], groups[group])
    for split, share in ((validation, 0.15), (test, 0.15)):
        counts = collections.Counter(p.movement for p in split)
        assert set(counts) == set(MOVEMENTS)
        for movement, count in counts.items():
            if movement != "Cubism":
                assert round(20 * share) <= count < round(20 * share) + largest[movement], movement
    assert split_paintings(paintings, 0.15, 0.15, seed=7) == (train, validation, test)
    assert split_paintings(paintings, 0.15, 0.15, seed=8)[2] != test


def test_a_manifest_beside_the_class_folders_names_each_paintings_collection(tmp_path):
    data = write_class_folders(tmp_path / "data", per_style=2)
    rows = ["file,movement,source_repo"] + [
        f"{folder}/{name},x,{'alice/gallery' if index % 2 else 'bob/museum'}"
        for folder in ("Cubism", "Abstract Art")
        for index, name in enumerate(sorted(os.listdir(data / folder)))
    ]
    (data / "manifest.csv").write_text("\n".join(rows) + "\n")
    source = find_paintings(data)
    sources = collections.Counter((p.movement, p.source) for p in source.paintings)
    assert sources[("Abstract", "alice/gallery")] == 1 and sources[("Abstract", "bob/museum")] == 1
    assert sources[("Realism", None)] == 2  # not in the manifest: unknown
    assert source.sources == ["bob/museum", "alice/gallery"]
    assert source.name == "data: 11 paintings from 2 collections (bob/museum, alice/gallery)"
    assert find_paintings(data, name="My WikiArt sample").name == "My WikiArt sample"

    (data / "manifest.csv").write_text("path,collection\nCubism/a.jpg,x\n")
    with pytest.raises(DataError) as error:
        find_paintings(data)
    assert one_line(error).endswith("manifest.csv needs a file column and a source_repo or source column.")


def test_painter_by_numbers_is_named_as_such_and_a_plain_folder_by_its_name(tmp_path):
    assert (
        find_paintings(write_painter_by_numbers(tmp_path / "pbn", per_style=3)).name == "Painter by Numbers (WikiArt)"
    )
    assert find_paintings(write_class_folders(tmp_path / "mine", per_style=3)).name == "mine: 16 paintings"


def reproductions(original):
    """The same painting as other collections publish it: shrunk and re-encoded, squashed to a square,
    brighter and flatter."""
    shrunk = original.resize((original.width * 3 // 5, original.height * 3 // 5))
    brighter = ImageEnhance.Contrast(ImageEnhance.Brightness(original).enhance(1.2)).enhance(0.8)
    return {"shrunk.jpg": shrunk, "squashed.png": original.resize((224, 224)), "brighter.jpg": brighter}


def test_reproductions_of_a_painting_are_near_copies_and_other_paintings_are_not(tmp_path):
    original = painting("blobs", seed=1, size=(300, 200))
    original.save(tmp_path / "original.png")
    for name, copy in reproductions(original).items():
        copy.save(tmp_path / name, quality=60)
    for seed in range(2, 40):
        painting("blobs", seed=seed, size=(300, 200)).save(tmp_path / f"other_{seed}.png")
    (tmp_path / "unreadable.jpg").write_bytes(b"not an image")
    paths = sorted(str(path) for path in tmp_path.iterdir())
    groups = dict(zip(paths, near_copy_groups(paths)))
    copies = {str(tmp_path / name) for name in ("original.png", *reproductions(original))}
    assert {groups[path] for path in copies} == {groups[str(tmp_path / "original.png")]}
    others = [groups[path] for path in paths if path not in copies]
    assert len(set(others)) == len(others) and not set(others) & {groups[path] for path in copies}


def test_near_copies_in_two_collections_never_cross_the_split(tmp_path):
    """Each of 8 paintings per movement has a reproduction in another collection; whatever the seed, the
    two land in one split, and every split keeps its share of every movement."""
    paintings = []
    for number, movement in enumerate(MOVEMENTS):
        for index in range(30):
            folder = tmp_path / movement
            folder.mkdir(exist_ok=True)
            original = painting("blobs", seed=100 * number + index, size=(120 + index, 100))
            original.save(folder / f"museum_{index:02d}.png")
            paintings.append(Painting(str(folder / f"museum_{index:02d}.png"), movement, "museum"))
            if index < 8:
                original.resize((96, 96)).save(folder / f"gallery_{index:02d}.jpg", quality=60)
                paintings.append(Painting(str(folder / f"gallery_{index:02d}.jpg"), movement, "gallery"))
    for seed in range(12):
        train, validation, test = split_paintings(paintings, 0.15, 0.15, seed=seed)
        side = {
            os.path.basename(p.path) + p.movement: name
            for name, split in zip("tvs", (train, validation, test))
            for p in split
        }
        for movement in MOVEMENTS:
            for index in range(8):
                assert side[f"museum_{index:02d}.png{movement}"] == side[f"gallery_{index:02d}.jpg{movement}"]
        for split in (validation, test):
            counts = collections.Counter(p.movement for p in split)
            assert all(round(38 * 0.15) <= counts[movement] <= round(38 * 0.15) + 1 for movement in MOVEMENTS)
