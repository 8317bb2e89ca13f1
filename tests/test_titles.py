"""What a painting is called beside its thumbnail: a title where the file name gives one, else its style
and collection, never a number or a code."""

import collections
import os

import pytest

from artnet.data.paintings import find_paintings
from artnet.data.titles import collection_name, painting_caption, painting_title

from datasets import write_class_folders


@pytest.mark.parametrize(
    "path, title",
    [
        ("Cubism/BathVisArtData__albert-gleizes_femme-cubiste-1921.jpg", "Albert Gleizes, Femme cubiste (1921)"),
        ("jalpv1__lee-krasner_untitled-1969.jpg", "Lee Krasner, Untitled (1969)"),
        ("BathVisArtData__kazimir-malevich_pilot-1913-1.jpg", "Kazimir Malevich, Pilot (1913)"),
        ("jalpv1__mary-fedden_still-life-2.jpg", "Mary Fedden, Still life 2"),
        ("BathVisArtData__umberto-boccioni_the-reaper.jpg", "Umberto Boccioni, The reaper"),
        ("KennethJAllen__1919_composition-with-grid-vii-1919.jpg", "Composition with grid vii (1919)"),
        ("eliogrande__WikiArt_2_2719.jpg", None),
        ("museum/2719.jpg", None),
        ("photos/IMG_2041.JPG", None),
        ("scans/2_10.png", None),
    ],
)
def test_titles_come_from_wikiart_file_names_and_a_code_is_no_title(path, title):
    assert painting_title(path) == title


def test_a_painting_without_a_title_is_named_by_its_style_and_collection():
    eliogrande = "eliogrande/TheEndlessTuning_WikiArt224"
    assert painting_caption(
        "Expressionism/eliogrande__WikiArt_2_2719.jpg", "Expressionism", "Expressionism", eliogrande
    ) == (
        "eliogrande collection"  # the movement is shown beside it already
    )
    assert painting_caption("x/eliogrande__WikiArt_2_7.jpg", "Impressionism", "Post-Impressionism", eliogrande) == (
        "Post-Impressionism · eliogrande collection"
    )
    assert painting_caption("x/2719.jpg", "Realism") == ""
    assert painting_caption("x/jalpv1__henri-matisse_marguerite-1906.jpg", "Expressionism", "Fauvism", "jalpv1/x") == (
        "Henri Matisse, Marguerite (1906)"
    )
    assert collection_name("BathVisArtData/PeopleArt") == "PeopleArt"
    assert collection_name("jalpv1/wiki-art-selected-resized") == "jalpv1"
    assert collection_name(None) is None


def test_the_style_comes_from_the_manifest_or_from_a_folder_named_by_a_style(tmp_path):
    data = write_class_folders(tmp_path / "data", per_style=2)
    cubism = sorted(os.listdir(data / "Cubism"))
    rows = ["file,movement,style,source_repo", f"Cubism/{cubism[0]},Cubism,Analytical Cubism,alice/gallery"]
    (data / "manifest.csv").write_text("\n".join(rows) + "\n")
    styles = collections.Counter((p.movement, p.style) for p in find_paintings(data).paintings)
    assert styles[("Cubism", "Analytical Cubism")] == 1
    assert styles[("Cubism", None)] == len(cubism) - 1  # not in the manifest, in a folder named by its movement
    assert styles[("Impressionism", "Post Impressionism")] == 2
