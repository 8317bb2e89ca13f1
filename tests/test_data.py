"""Finding, splitting and decoding training data, in both layouts, with the faults real data has."""

import collections
import os

import numpy as np
import pytest
from PIL import Image

from artnet.data import (
    DataError,
    DecodeFailures,
    Painting,
    find_paintings,
    make_dataset,
    split_paintings,
    tta_views,
    training_views,
    whole_view,
)
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


def test_training_gives_the_whole_painting_and_five_full_resolution_crops(tmp_path):
    path = tmp_path / "wide.png"
    painting("checkers", size=(200, 100)).save(path)
    views = training_views(str(path), 64)
    assert views.shape == (6, 64, 64, 3) and views.dtype == np.uint8
    whole = whole_view(str(path), 64)
    assert np.array_equal(whole[0], views[0])
    # The crops are cut at full resolution: the 64 px corner crops show whole checker cells (8-14 px),
    # while the whole painting shrunk to 64 px blurs them.
    top_left, top_right = views[1], views[2]
    assert not np.array_equal(top_left, top_right)
    assert np.array_equal(top_left, np.asarray(painting("checkers", size=(200, 100)))[:64, :64])
    tta = tta_views(str(path), 64)
    assert tta.shape == (12, 64, 64, 3) and np.array_equal(tta[6], views[0][:, ::-1])


def test_the_pipeline_skips_and_counts_files_that_fail_to_decode(tmp_path):
    source = find_paintings(write_class_folders(tmp_path, per_style=3))
    failures = DecodeFailures()
    dataset = make_dataset(source.paintings, source.labels, 32, training_views, 8, failures, shuffle_seed=1)
    batches = list(dataset)
    pixels = np.concatenate([batch[0].numpy() for batch in batches])
    labels = np.concatenate([batch[1].numpy() for batch in batches])
    # 15 good paintings x 6 views; the corrupt JPEG gives none.
    assert pixels.shape == (90, 32, 32, 3) and pixels.max() > 1.0
    assert labels.sum(axis=0).tolist() == [18.0] * 5
    assert list(failures.paths) == [os.path.join(str(tmp_path), "Cubism", "corrupt.jpg")]
    assert "not an image" in failures.paths[os.path.join(str(tmp_path), "Cubism", "corrupt.jpg")]


def test_evaluation_keeps_each_paintings_views_together_and_in_order(tmp_path):
    # Every painting of its own flat colour, so that each view shows whose it is.
    paintings = []
    for index in range(12):
        path = tmp_path / f"{index}.png"
        Image.new("RGB", (90 + index, 70), (20 * index, 255 - 20 * index, 7 * index)).save(path)
        paintings.append(Painting(str(path), MOVEMENTS[index % len(MOVEMENTS)]))
    dataset = make_dataset(paintings, list(MOVEMENTS), 16, tta_views, 5, DecodeFailures())
    pixels = np.concatenate([batch[0].numpy() for batch in dataset])
    assert pixels.shape == (12 * 12, 16, 16, 3)
    # The centre pixel of each view: 12 views of painting 0, then 12 of painting 1, and so on.
    centres = pixels[:, 8, 8].reshape(12, 12, 3)
    for index, views in enumerate(centres):
        assert (views == (20 * index, 255 - 20 * index, 7 * index)).all(), f"painting {index}"


def test_evaluation_keeps_the_order_of_the_paintings(tmp_path):
    source = find_paintings(write_class_folders(tmp_path, per_style=3))
    good = [p for p in source.paintings if not p.path.endswith("corrupt.jpg")]
    dataset = make_dataset(good, source.labels, 32, whole_view, 4, DecodeFailures())
    labels = np.concatenate([batch[1].numpy() for batch in dataset]).argmax(axis=1)
    assert [source.labels[index] for index in labels] == [p.movement for p in good]
