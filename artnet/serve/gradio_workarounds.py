"""Where the app works around Gradio (6.31): each workaround a small helper that says which behaviour it
answers and when it can go. artnet.serve.ui builds the page with them; nothing here knows ArtNet's layout.
"""

import contextlib
import hashlib
import io
import os

from artnet.files import atomic_path

# Gradio gives a Gallery a fixed height with a scroll bar and clips long captions to one line, so the
# overlays, the examples and the closest paintings would not show whole, nor their captions (layer names;
# true and predicted movement; movement, similarity and title). Can go when Gallery takes a height of
# "auto" and wraps captions.
GALLERY_CSS = """
:is(#overlays, #examples, #similar) .fixed-height { min-height: 0; max-height: none; }
:is(#overlays, #examples, #similar) .caption-label { max-width: 100%; font-size: var(--text-sm); }
:is(#examples, #similar) .caption-label { white-space: normal; font-size: var(--text-xs); }
"""

# Pillow's default, the quality of Gradio's own JPEG files.
JPEG_QUALITY = 75


def saved_jpeg(image, folder):
    """The path of `image` as a JPEG file in `folder`, named after its content as Gradio names its files.

    Gradio writes a picture over the file of the same content in place, so when two users get the same
    overlay (the same example, the same settings), one user's download is cut short while the other's is
    written; and it encodes a Gallery's pictures as WebP by default (about 60 ms for a 768 px overlay,
    longer than the network pass; JPEG takes about 3). This file is written under a temporary name and
    renamed into place. Can go when Gradio writes its cached files atomically.
    """
    encoded = io.BytesIO()
    image.save(encoded, format="JPEG", quality=JPEG_QUALITY)
    content = encoded.getvalue()
    path = os.path.join(folder, hashlib.sha256(content).hexdigest(), "overlay.jpeg")
    try:
        # Gradio's delete_cache ages files by ctime: one handed out again must look new.
        os.utime(path)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with atomic_path(path, suffix=".jpeg") as temporary:
            with open(temporary, "wb") as file:
                file.write(content)
    return path


def share_link_wanted(demo, share):
    """Whether to ask for a gradio.live link: for --share or GRADIO_SHARE=true, and never on a Space,
    which is public already and where Gradio refuses share links with an error."""
    return (share or os.environ.get("GRADIO_SHARE", "").lower() == "true") and not demo.space_id


def quiet_launch(demo, share, **options):
    """demo.launch() without Gradio's start-up lines, which speak of launch() arguments and explain a
    failed tunnel in a dozen lines: (local URL, share URL or None). Can go when launch(quiet=True) is
    quiet about both."""
    with contextlib.redirect_stdout(io.StringIO()):
        _, local_url, share_url = demo.launch(share=share, prevent_thread_lock=True, quiet=True, **options)
    return local_url, share_url
