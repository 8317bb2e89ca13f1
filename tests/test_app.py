"""The live app through gradio_client, as a script that uses ArtNet's API would see it."""

import json
import os
import threading

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from conftest import SHARED, have_shared_data
from synthetic import STYLES, painting, wall_photo

SHARED_OUT_OF_SCOPE = os.path.join(SHARED, "out_of_scope")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

# How closely the app's answer to a painting matches a direct call's: the same pass, the same numbers.
ANSWER_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def client(live_app):
    return Client(live_app.url, verbose=False)


@pytest.fixture(scope="module")
def config(live_app):
    return json.loads((live_app.folder / "config.json").read_text())


@pytest.fixture(scope="module")
def good_painting(tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "painting.png"
    painting("blobs", size=(120, 90)).save(path)
    return path


def probabilities(label):
    """gradio_client's form of a gr.Label as {movement: probability}."""
    return {confidence["label"]: confidence["confidence"] for confidence in label["confidences"]}


def test_classify_returns_a_probability_for_every_movement_of_the_model(client, config, good_painting):
    result = client.predict(handle_file(good_painting), api_name="/classify")
    answer = probabilities(result)
    assert sorted(answer) == sorted(config["labels"])
    assert sum(answer.values()) == pytest.approx(1.0, abs=1e-4)
    assert result["label"] == max(answer, key=answer.get)


def test_similar_returns_the_closest_training_paintings_where_the_folder_has_their_index(
    client, live_app, good_painting
):
    if not (live_app.folder / "neighbours").is_dir():
        pytest.skip("the served model folder has no index of its training paintings")
    movements = set(json.loads((live_app.folder / "config.json").read_text())["labels"])
    matches = client.predict(handle_file(good_painting), api_name="/similar")
    assert len(matches) == 8
    similarities = [float(match["caption"].split(" · ")[1]) for match in matches]
    assert similarities == sorted(similarities, reverse=True) and all(-1 <= s <= 1 for s in similarities)
    assert all(match["caption"].split(" · ")[0] in movements for match in matches)
    assert all(Image.open(match["image"]).size[0] <= 96 for match in matches)


def captions(config, method):
    """The overlays' captions for a method: method, depth and layer, and which one is the most faithful."""
    best = config.get("most_faithful") or {}
    return [
        f"{method} · {layer['depth']} · {layer['name']}"
        + (" · most faithful" if (method, layer["name"]) == (best.get("method"), best.get("layer")) else "")
        for layer in config["gradcam_layers"]
    ]


def test_explain_returns_one_captioned_overlay_per_depth_at_the_paintings_shape(client, config, good_painting):
    overlays = client.predict(handle_file(good_painting), api_name="/explain")
    # Without a method: the most faithful one that the model folder names.
    assert [overlay["caption"] for overlay in overlays] == captions(config, config["most_faithful"]["method"])
    assert all(Image.open(overlay["image"]).size == (120, 90) for overlay in overlays)


def test_explain_draws_every_method_and_each_differently(client, config, good_painting):
    drawn = {}
    for method in ("Grad-CAM", "Grad-CAM++", "LayerCAM", "HiResCAM"):
        overlays = client.predict(handle_file(good_painting), None, 0.9, "jet", method, api_name="/explain")
        assert [overlay["caption"] for overlay in overlays] == captions(config, method)
        drawn[method] = np.concatenate([np.asarray(Image.open(o["image"]), dtype=float) for o in overlays], 1)
    assert all(np.abs(drawn["Grad-CAM"] - drawn[other]).mean() > 1 for other in ("Grad-CAM++", "LayerCAM", "HiResCAM"))


def test_explain_follows_the_movement_opacity_and_colormap(client, config, good_painting):
    def overlays(movement, opacity, colormap):
        """All the overlays side by side, as one array."""
        answer = client.predict(handle_file(good_painting), movement, opacity, colormap, api_name="/explain")
        return np.concatenate([np.asarray(Image.open(o["image"]).convert("RGB"), dtype=float) for o in answer], 1)

    first = config["labels"][0]
    original = np.asarray(Image.open(good_painting).convert("RGB"), dtype=float)
    originals = np.concatenate([original] * len(config["gradcam_layers"]), 1)
    # Overlays travel as JPEG, which softens the colour of sharp edges a little.
    assert np.abs(overlays(first, 0.0, "jet") - originals).mean() < 8
    assert np.abs(overlays(first, 0.9, "jet") - originals).mean() > 20
    # Some movements may have no evidence at all in a painting (all-zero maps), but not every one of them.
    strong = {movement: overlays(movement, 0.9, "jet") for movement in config["labels"]}
    assert any(np.abs(strong[first] - strong[other]).mean() > 1 for other in config["labels"][1:])
    assert np.abs(overlays(first, 0.9, "jet") - overlays(first, 0.9, "inferno")).mean() > 5


def test_clicking_an_example_shows_this_models_answer_for_it(client, live_app, config):
    index = json.loads((live_app.folder / "examples" / "index.json").read_text())
    assert index, "the model folder has no examples"
    for number, example in enumerate(index):
        answer = client.predict(number, api_name="/load_example")
        painting, true_movement, bars, description, movement, method, opacity, colormap, overlays, closest, said = (
            answer
        )
        assert (
            true_movement == example["label"]
            and Image.open(painting).size == Image.open(live_app.folder / "examples" / example["file"]).size
        )
        direct = client.predict(handle_file(live_app.folder / "examples" / example["file"]), api_name="/classify")
        assert probabilities(bars) == pytest.approx(probabilities(direct), abs=1e-5)
        assert movement == bars["label"] and f"### {movement}" in description
        assert said.startswith("## ") and "[The numbers](#about-section)" in said
        assert (method, opacity, colormap) == (config["most_faithful"]["method"], 0.5, "jet")
        assert len(overlays) == len(config["gradcam_layers"])
        has_index = (live_app.folder / "neighbours").is_dir()
        assert len(closest) == (8 if has_index else 0)


def out_of_scope_test_images(live_app):
    """{category: the first few out-of-scope test images of the served model's split}: the shared images for
    the real model, the generated ones beside the generated paintings otherwise."""
    from artnet.data.out_of_scope import find_out_of_scope, split_out_of_scope

    metrics = json.loads((live_app.folder / "metrics.json").read_text())
    folder = SHARED_OUT_OF_SCOPE if have_shared_data() else live_app.folder.parent / "out_of_scope"
    test = split_out_of_scope(find_out_of_scope(folder), metrics["training"]["seed"])["test"]
    categories = {}
    for image in test:
        categories.setdefault(image.category, []).append(image.path)
    assert set(categories) == set(metrics["out_of_scope"]["test"]["per_category"])
    return {category: paths[:5] for category, paths in categories.items()}


def test_out_of_scope_images_and_paintings_get_the_right_kind_of_answer_over_http(client, live_app, config):
    """Every out-of-scope category of the test split, and the folder's examples (held-out paintings)."""
    flagged = {}
    for category, paths in out_of_scope_test_images(live_app).items():
        answers = [client.predict(handle_file(path), api_name="/answer") for path in paths]
        for answer in answers:
            # An out-of-scope answer is an answer: every field, the closest movement first.
            assert set(answer) == {
                "probabilities",
                "movements",
                "in_scope",
                "scope_score",
                "cropped",
                "corners",
                "in_words",
            }
            probabilities = answer["probabilities"]
            assert answer["movements"][0] == max(probabilities, key=probabilities.get)
            assert (answer["scope_score"] >= config["scope"]["threshold"]) == answer["in_scope"]
            if not answer["in_scope"]:
                assert answer["in_words"] == f"none of the movements (closest: {answer['movements'][0]})"
        flagged[category] = sum(not answer["in_scope"] for answer in answers)
    # The default recipe flags most images of every category, the near ones (earlier European painting) less.
    assert all(count >= 1 for count in flagged.values()), flagged
    assert sum(flagged.values()) >= 0.6 * sum(len(paths) for paths in out_of_scope_test_images(live_app).values())
    examples = json.loads((live_app.folder / "examples" / "index.json").read_text())
    kept = [
        client.predict(handle_file(live_app.folder / "examples" / example["file"]), api_name="/answer")["in_scope"]
        for example in examples
    ]
    assert sum(kept) >= 0.7 * len(kept)


def test_a_phone_photo_is_answered_for_the_painting_found_in_it_unless_whole_is_asked(client, config, tmp_path):
    path = tmp_path / "IMG_2041.jpg"
    photo, corners = wall_photo(painting("blobs", seed=2, size=(480, 360)), size=(900, 1200))
    photo.save(path, quality=90)
    # A model folder written before the way in classifies whole images, and says so.
    finds = bool((config.get("way_in") or {}).get("find_painting"))
    answer = client.predict(handle_file(path), api_name="/answer")
    assert answer["cropped"] == finds
    if finds:
        found = np.array(answer["corners"])
        # The painting, or the outer edge of its frame (2.5 % of the photo's width outside it).
        assert found.shape == (4, 2) and np.abs(found - corners).max() < 40, answer["corners"]
        overlays = client.predict(handle_file(path), api_name="/explain")
        size = Image.open(overlays[0]["image"]).size
        assert abs(size[0] / size[1] - 4 / 3) < 0.1 and size[0] < 700
    else:
        assert answer["corners"] is None
    whole = client.predict(handle_file(path), whole=True, api_name="/answer")
    assert (whole["cropped"], whole["corners"]) == (False, None)
    assert probabilities(client.predict(handle_file(path), whole=True, api_name="/classify")) == pytest.approx(
        whole["probabilities"], abs=ANSWER_TOLERANCE
    )
    overlays = client.predict(handle_file(path), None, 0.5, "jet", None, True, api_name="/explain")
    size = Image.open(overlays[0]["image"]).size
    assert size[0] / size[1] == pytest.approx(900 / 1200, abs=0.01)


@pytest.fixture(scope="module")
def bad_uploads(tmp_path_factory):
    """(file, what the message must say) for each kind of upload that a user gets wrong."""
    folder = tmp_path_factory.mktemp("bad_uploads")
    truncated = folder / "truncated.jpg"
    painting("noise", size=(200, 150)).save(truncated, quality=95)
    truncated.write_bytes(truncated.read_bytes()[:2000])
    (folder / "notes.png").write_bytes(b"These are my notes, not a painting.")
    (folder / "empty.jpg").write_bytes(b"")
    Image.new("RGB", (5, 40)).save(folder / "tiny.png")
    Image.new("L", (8200, 8000)).save(folder / "huge.png")  # 66 megapixels in a small file
    return [
        (folder / "notes.png", "not an image ArtNet can read"),
        (truncated, "truncated or corrupt"),
        (folder / "empty.jpg", "is empty"),
        (folder / "tiny.png", "too small"),
        (folder / "huge.png", "too large .* the limit is 64"),
    ]


@pytest.mark.parametrize("endpoint", ["/classify", "/explain", "/answer"])
def test_each_bad_upload_gets_its_message_and_the_next_request_works(
    client, endpoint, bad_uploads, good_painting, live_app
):
    for path, message in bad_uploads:
        with pytest.raises(AppError, match=message) as error:
            client.predict(handle_file(path), api_name=endpoint)
        assert "\n" not in str(error.value)
        assert client.predict(handle_file(good_painting), api_name="/classify")["confidences"]
    assert "Traceback" not in live_app.output()


def test_a_file_over_the_size_limit_is_refused_and_the_server_keeps_serving(client, good_painting, live_app, tmp_path):
    big = tmp_path / "scan.tif"
    big.write_bytes(os.urandom(51 * 1024 * 1024))
    with pytest.raises(ValueError, match="exceeds the maximum file size"):
        client.predict(handle_file(big), api_name="/classify")
    # A client that does not check first is stopped by the server.
    with open(big, "rb") as file:
        response = httpx.post(live_app.url + "gradio_api/upload", files={"files": file}, timeout=60)
    assert response.status_code == 413
    assert client.predict(handle_file(good_painting), api_name="/classify")["confidences"]


def test_wrong_choices_get_messages_that_name_the_choices(client, good_painting):
    with pytest.raises(AppError, match="Unknown class 'Baroque'; choose one of"):
        client.predict(handle_file(good_painting), "Baroque", api_name="/explain")
    with pytest.raises(AppError, match="Opacity must be between 0 and 1"):
        client.predict(handle_file(good_painting), None, 1.5, api_name="/explain")
    with pytest.raises(AppError, match="Unknown colormap 'rainbowz'"):
        client.predict(handle_file(good_painting), None, 0.5, "rainbowz", api_name="/explain")
    with pytest.raises(
        AppError, match="Unknown method 'ScoreCAM'; choose one of Grad-CAM, Grad-CAM\\+\\+, LayerCAM, HiResCAM[.]"
    ):
        client.predict(handle_file(good_painting), None, 0.5, "jet", "ScoreCAM", api_name="/explain")
    with pytest.raises(AppError, match="Add a painting first"):
        client.predict(None, api_name="/classify")


def test_eight_clients_sending_forty_requests_each_get_their_own_answers(client, live_app, tmp_path):
    # Paintings of the five styles, each of its own size, so that an overlay shows whose it is; and each
    # answered differently from all the others at the tolerance of the check below, so that an answer shows
    # whose it is too. A trained model can be all but certain about two paintings of a style (the same
    # answer to 1e-5), so up to ten are chosen from twenty.
    paintings, expected = [], []
    for number in range(20):
        path = tmp_path / f"painting_{number}.png"
        painting(STYLES[number % len(STYLES)], seed=number, size=(100 + 7 * number, 80 + 3 * number)).save(path)
        answer = probabilities(client.predict(handle_file(path), api_name="/classify"))
        if len(paintings) < 10 and all(
            max(abs(answer[label] - other[label]) for label in answer) > 2 * ANSWER_TOLERANCE for other in expected
        ):
            paintings.append(path)
            expected.append(answer)
    assert len(paintings) >= len(STYLES), "the model must answer at least five paintings differently for this test"

    jobs = [(number % len(paintings), "/classify" if number % 2 == 0 else "/explain") for number in range(40)]
    answers, errors = {}, []

    def one_user(user):
        own_client = Client(live_app.url, verbose=False)
        for job in range(user, len(jobs), 8):
            which, endpoint = jobs[job]
            try:
                answers[job] = own_client.predict(handle_file(paintings[which]), api_name=endpoint)
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(f"job {job}: {error!r}")

    users = [threading.Thread(target=one_user, args=(user,)) for user in range(8)]
    for user in users:
        user.start()
    for user in users:
        user.join()

    assert errors == []
    for job, (which, endpoint) in enumerate(jobs):
        if endpoint == "/classify":
            assert probabilities(answers[job]) == pytest.approx(expected[which], abs=ANSWER_TOLERANCE), f"job {job}"
        else:
            sizes = {Image.open(overlay["image"]).size for overlay in answers[job]}
            assert sizes == {Image.open(paintings[which]).size}, f"job {job}"
