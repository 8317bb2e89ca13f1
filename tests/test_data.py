"""Finding, splitting and decoding training data, in both layouts, with the faults real data has."""

import collections
import os

import pytest

from artnet.data.paintings import DataError, find_paintings, split_paintings
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
    for split, share in ((validation, 0.15), (test, 0.15)):
        counts = collections.Counter(p.movement for p in split)
        assert set(counts) == set(MOVEMENTS)
        assert all(count == round(20 * share) for movement, count in counts.items() if movement != "Cubism")
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
