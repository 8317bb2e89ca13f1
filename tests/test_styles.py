import re

import pytest

from artnet.styles import DESCRIPTIONS, MOVEMENTS, STYLES_BY_MOVEMENT, movement_of


def test_the_five_movements_come_in_a_fixed_order():
    assert MOVEMENTS == ("Cubism", "Impressionism", "Expressionism", "Realism", "Abstract")


@pytest.mark.parametrize(
    "style, movement",
    [
        ("Tubism", "Cubism"),
        ("Cubo-Futurism", "Cubism"),
        ("Synthetic Cubism", "Cubism"),
        ("Post-Impressionism", "Impressionism"),
        ("Cloisonnism", "Impressionism"),
        ("Fauvism", "Expressionism"),
        ("Figurative Expressionism", "Expressionism"),
        ("Photorealism", "Realism"),
        ("Naturalism", "Realism"),
        ("Abstract Art", "Abstract"),
        ("Hard Edge Painting", "Abstract"),
        ("Neoplasticism", "Abstract"),
        ("Post-Painterly Abstraction", "Abstract"),
    ],
)
def test_painter_by_numbers_styles_merge_into_their_movement(style, movement):
    assert movement_of(style) == movement


@pytest.mark.parametrize(
    "written",
    ["Post_Impressionism", "post-impressionism", "POST IMPRESSIONISM", "  Post  Impressionism ", "postimpressionism"],
)
def test_style_names_match_regardless_of_case_spaces_hyphens_and_underscores(written):
    assert movement_of(written) == "Impressionism"


def test_wikiart_folder_names_map():
    assert movement_of("Abstract_Expressionism") is None
    assert movement_of("Analytical_Cubism") == "Cubism"
    assert movement_of("Hard-Edge_Painting") == "Abstract"


def test_a_movement_name_maps_to_itself():
    for movement in MOVEMENTS:
        assert movement_of(movement) == movement


@pytest.mark.parametrize("style", ["Baroque", "Romanticism", "Pop Art", "Abstract Expressionism", "", None, 3])
def test_styles_outside_the_map_give_none(style):
    assert movement_of(style) is None


def test_every_style_belongs_to_exactly_one_movement():
    styles = [style for styles in STYLES_BY_MOVEMENT.values() for style in styles]
    assert len(styles) == 7 + 5 + 4 + 5 + 15
    assert len({s.lower() for s in styles}) == len(styles)
    assert set(STYLES_BY_MOVEMENT) == set(MOVEMENTS)


def test_each_movement_has_a_two_sentence_description():
    for movement in MOVEMENTS:
        sentences = re.findall(r"[^.!?]+[.!?]", DESCRIPTIONS[movement])
        assert len(sentences) == 2, DESCRIPTIONS[movement]
