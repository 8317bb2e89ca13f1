"""Where the app works around Gradio (6.31): each workaround a small helper that says which behaviour it
answers and when it can go. artnet.serve.ui builds the page with them; nothing here knows ArtNet's layout.
"""

import contextlib
import hashlib
import io
import os

from artnet.files import atomic_path

# Gradio gives a Gallery a fixed height with a scroll bar, lays each caption over its thumbnail and clips it
# to one line, and floats the gallery's label over the first row: the overlays, the examples and the
# closest paintings would not show whole, the paintings would hide under their captions (true and
# predicted movement; movement, similarity and title), and the captions would be cut, the large
# overlay's too on a phone. Its columns never shrink below 100 px either, so on a phone a row of five
# runs off the screen. Here each caption sits under its thumbnail, wrapped, the label above the grid, and
# a phone gets three columns and a smaller caption under the large overlay (there is no room to wrap it).
# Can go when Gallery takes a height of "auto", offers captions beside or under the images and
# responsive columns.
GALLERY_CSS = """
:is(#overlays, #examples, #similar) .fixed-height { min-height: 0; max-height: none; }
:is(#overlays, #examples, #similar) > label[data-testid="block-label"] { position: static; }
:is(#overlays, #examples, #similar) .grid-container {
    padding-top: 0; grid-template-columns: repeat(var(--grid-cols), minmax(0, 1fr));
}
@media (max-width: 640px) {
    :is(#examples, #similar) .grid-container { grid-template-columns: repeat(3, minmax(0, 1fr)); }
    #overlays .preview .caption { font-size: var(--text-xs); }
}
:is(#overlays, #examples, #similar) .thumbnail-lg {
    aspect-ratio: auto; height: auto; display: flex; flex-direction: column; justify-content: flex-start;
}
:is(#overlays, #examples, #similar) .thumbnail-lg > img { aspect-ratio: 1; height: auto; flex: none; }
:is(#overlays, #examples, #similar) .thumbnail-lg .caption-label {
    position: static; max-width: 100%; border: none; border-radius: 0; background: none; opacity: 1;
    white-space: normal; font-size: var(--text-xs); line-height: var(--line-xs);
}
"""

# Gradio focuses a Gallery's selected thumbnail whenever its preview opens, and focus scrolls the page to
# it: a page that opens on an analysed example would open scrolled down to the overlays, and a dropped
# painting would carry the visitor away from its bars. Focus there still moves, without the scroll. Can go
# when Gallery focuses with preventScroll.
GALLERY_HEAD = """<script>
(() => {
    const focus = HTMLElement.prototype.focus;
    HTMLElement.prototype.focus = function (options) {
        const thumbnail = this.classList && this.classList.contains("thumbnail-small");
        return focus.call(this, thumbnail ? { ...options, preventScroll: true } : options);
    };
})();
</script>"""

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


def trailing_inputs_optional(demo, api_names):
    """Let a plain HTTP call of one of the endpoints `api_names` (POST /gradio_api/call/NAME) leave out its
    last parameters, which its handler then gets as None (its default), as gradio_client and /call/v2/NAME
    fill them in.

    Gradio refuses a call with fewer values than the endpoint has inputs ("didn't receive enough input
    values"), so a parameter added at the end of an endpoint, such as `whole`, would break every HTTP
    script written before it. The values are padded in place before Gradio's check, which preprocess_data
    runs on the list it goes on to read. Can go when Gradio fills in missing trailing inputs itself.
    """
    names = set(api_names)
    validate = demo.validate_inputs

    def padded(block_fn, inputs):
        missing = len(block_fn.inputs) - len(inputs)
        if missing > 0 and block_fn.api_name in names and isinstance(inputs, list):
            inputs.extend([None] * missing)
        validate(block_fn, inputs)

    demo.validate_inputs = padded
