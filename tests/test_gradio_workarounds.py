"""The helpers with which the app works around Gradio, each doing what its docstring promises."""

import os
import types

import numpy as np
from PIL import Image

from artnet.serve import gradio_workarounds as workarounds

from synthetic import painting


def test_an_overlay_is_saved_whole_once_per_content_and_looks_new_when_handed_out_again(tmp_path):
    image = painting("blobs", size=(64, 48))
    first = workarounds.saved_jpeg(image, tmp_path)
    assert np.abs(np.asarray(Image.open(first), float) - np.asarray(image, float)).mean() < 8
    os.utime(first, (0, 0))
    again = workarounds.saved_jpeg(image, tmp_path)
    assert again == first and os.stat(again).st_mtime > 0
    other = workarounds.saved_jpeg(painting("stripes", size=(64, 48)), tmp_path)
    assert other != first
    # Nothing half-written is left beside them.
    assert (
        sorted(name for folder in os.listdir(tmp_path) for name in os.listdir(tmp_path / folder))
        == ["overlay.jpeg"] * 2
    )


def test_a_share_link_is_asked_for_by_option_or_variable_and_never_on_a_space(monkeypatch):
    local, space = types.SimpleNamespace(space_id=None), types.SimpleNamespace(space_id="alice/artnet")
    monkeypatch.delenv("GRADIO_SHARE", raising=False)
    assert workarounds.share_link_wanted(local, True) and not workarounds.share_link_wanted(local, False)
    monkeypatch.setenv("GRADIO_SHARE", "True")
    assert workarounds.share_link_wanted(local, False)
    assert not workarounds.share_link_wanted(space, True)
