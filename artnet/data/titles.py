"""What a painting is called where the app shows it: the artist and the title where the file name gives
them (WikiArt's 'artist-name_title-of-work-1912' names), otherwise its style and its collection; never a
bare number or a code such as 'WikiArt_2_2719'.
"""

import os
import re

# WikiArt's slugs: lower-case words joined by hyphens.
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_YEAR = re.compile(r"1[2-9]\d\d|20\d\d")
# A repository named by letters alone is a dataset's own name (BathVisArtData/PeopleArt); other repository
# names are descriptions (wiki-art-selected-resized), and their owner names the collection better.
_DATASET_NAME = re.compile(r"[A-Za-z]+")


def painting_title(path):
    """'Artist Name, Title of work (1912)' from a WikiArt file name, 'Title of work (1912)' where the name
    starts with a year instead of an artist, or None where the name gives no title."""
    name = os.path.splitext(os.path.basename(path))[0].split("__")[-1]
    artist, _, work = name.partition("_")
    if not (_SLUG.fullmatch(artist) and _SLUG.fullmatch(work) and re.search(r"[a-z]", work)):
        return None
    words = work.split("-")
    # WikiArt numbers a title's namesakes after the year ('pilot-1913-1'): the number is no part of the title.
    if len(words) > 2 and words[-1].isdigit() and len(words[-1]) <= 2 and _YEAR.fullmatch(words[-2]):
        words.pop()
    year = words.pop() if len(words) > 1 and _YEAR.fullmatch(words[-1]) else None
    title = " ".join(words).capitalize() + (f" ({year})" if year else "")
    if _YEAR.fullmatch(artist) or not re.search(r"[a-z]", artist):
        return title
    return f"{artist.replace('-', ' ').title()}, {title}"


def collection_name(source):
    """A collection's short name from its source ('BathVisArtData/PeopleArt' -> 'PeopleArt',
    'jalpv1/wiki-art-selected-resized' -> 'jalpv1'), or None without one."""
    if not source:
        return None
    owner, _, repository = source.partition("/")
    return repository if _DATASET_NAME.fullmatch(repository) else owner


def painting_caption(path, movement, style=None, source=None):
    """What to show beside a painting whose movement is shown already: its title where the file name gives
    one, else its style (where it says more than the movement) and its collection; '' where nothing is known."""
    title = painting_title(path)
    if title:
        return title
    collection = collection_name(source)
    parts = [style if style and style != movement else None, f"{collection} collection" if collection else None]
    return " · ".join(part for part in parts if part)
