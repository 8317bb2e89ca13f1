"""The five art movements ArtNet predicts, and how Painter by Numbers style names merge into them.

This module is the source of truth for *training*. A trained model carries its own label list in its
config.json, and the app reads the labels from there, never from here.
"""

import re

MOVEMENTS = ("Cubism", "Impressionism", "Expressionism", "Realism", "Abstract")

STYLES_BY_MOVEMENT = {
    "Cubism": (
        "Cubism",
        "Tubism",
        "Cubo-Expressionism",
        "Mechanistic Cubism",
        "Analytical Cubism",
        "Cubo-Futurism",
        "Synthetic Cubism",
    ),
    "Impressionism": (
        "Impressionism",
        "Post-Impressionism",
        "Synthetism",
        "Divisionism",
        "Cloisonnism",
    ),
    "Expressionism": (
        "Expressionism",
        "Neo-Expressionism",
        "Figurative Expressionism",
        "Fauvism",
    ),
    "Realism": (
        "Realism",
        "Hyper-Realism",
        "Photorealism",
        "Analytical Realism",
        "Naturalism",
    ),
    "Abstract": (
        "Abstract Art",
        "New Casualism",
        "Post-Minimalism",
        "Orphism",
        "Constructivism",
        "Lettrism",
        "Neo-Concretism",
        "Suprematism",
        "Spatialism",
        "Conceptual Art",
        "Tachisme",
        "Post-Painterly Abstraction",
        "Neoplasticism",
        "Precisionism",
        "Hard Edge Painting",
    ),
}

DESCRIPTIONS = {
    "Cubism": (
        "Cubism breaks its subjects into geometric facets and shows them from several viewpoints at once. "
        "Picasso and Braque developed it in Paris around 1907-1914, flattening depth into interlocking planes."
    ),
    "Impressionism": (
        "Impressionism captures the passing effect of light and colour with visible, broken brushstrokes. "
        "Monet, Renoir and their followers often painted outdoors, favouring everyday scenes over finish."
    ),
    "Expressionism": (
        "Expressionism distorts form and colour to convey emotion rather than outward appearance. "
        "From Munch and the Fauves to Die Brücke, it uses bold, often clashing colour and agitated line."
    ),
    "Realism": (
        "Realism depicts ordinary subjects truthfully, without idealisation or drama. "
        "Courbet and his successors favoured careful observation, natural light and believable detail."
    ),
    "Abstract": (
        "Abstract art uses shape, colour, line and texture instead of recognisable subjects. "
        "It spans Kandinsky and Malevich to Mondrian's grids and the colour fields of the post-war era."
    ),
}


def normalise_style_name(name):
    """Lower-case a style name and drop spaces, hyphens and underscores, so that WikiArt's
    "Post_Impressionism" and Painter by Numbers' "Post-Impressionism" compare equal."""
    return re.sub(r"[\s\-_]+", "", name).casefold()


# A movement's own name maps to itself, so that a class folder named "Abstract" is understood too.
_MOVEMENT_BY_STYLE = {
    normalise_style_name(style): movement
    for movement, styles in STYLES_BY_MOVEMENT.items()
    for style in (movement, *styles)
}


def movement_of(style_name):
    """The movement that a style (or movement) name belongs to, or None when it is outside the five."""
    if not isinstance(style_name, str):
        return None
    return _MOVEMENT_BY_STYLE.get(normalise_style_name(style_name))
