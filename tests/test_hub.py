"""Push a model folder to a local Hub-compatible server and pull it back, as a user would: through
`python -m artnet.cli.hub`, `python train.py` and app.py's loading path, each in a fresh process."""

import dataclasses
import json
import os

import pytest
import yaml

from hub_server import HubStorage, fine_grained_access
from synthetic import painting

PULLED = ("model.keras", "config.json", "README.md", "examples/index.json", "examples/blobs.jpg")


def model_folder_without_network(folder):
    """A model folder whose model.keras is a stand-in (bytes, not a network): enough for everything but
    loading, and fast. plots/ is pushed but never pulled."""
    folder.mkdir()
    (folder / "model.keras").write_bytes(b"PK\x03\x04\0" + os.urandom(40_000))
    config = {
        "format_version": 1,
        "labels": ["Cubism", "Abstract"],
        "image_size": 64,
        "backbone": "densenet121",
        "gradcam_layers": [{"name": "relu", "depth": "final"}],
    }
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "examples").mkdir()
    painting("blobs", seed=1, size=(64, 48)).save(folder / "examples" / "blobs.jpg")
    (folder / "examples" / "index.json").write_text(json.dumps([{"file": "blobs.jpg", "label": "Abstract"}]))
    (folder / "plots").mkdir()
    (folder / "plots" / "curves.png").write_bytes(b"\x89PNG\r\n\x1a\n\0")
    return folder


@pytest.fixture
def small_folder(tmp_path):
    return model_folder_without_network(tmp_path / "model")


def push(client, folder, repo="alice/artnet", *options, token="write-token"):
    """`python -m artnet.cli.hub push`; returns (commit id, URL) from its one line of output."""
    result = client.run(["-m", "artnet.cli.hub", "push", folder, repo, *options], token=token)
    assert result.returncode == 0, result.stderr
    assert token not in result.stdout + result.stderr
    words = result.stdout.split()
    return words[words.index("commit") + 1].rstrip("."), words[words.index("to") + 1]


def pull(client, spec, token="write-token", **environment):
    """`python -m artnet.cli.hub pull SPEC` -> the pulled folder."""
    result = client.run(["-m", "artnet.cli.hub", "pull", spec], token=token, **environment)
    assert result.returncode == 0, result.stderr
    assert not token or token not in result.stdout + result.stderr
    return result.stdout.strip()


def one_line_error(result):
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def card_metadata(readme_text):
    _, front_matter, body = readme_text.split("---\n", 2)
    return yaml.safe_load(front_matter), body


def head_files(server, repo_id, repo_type="model"):
    """{path: stored entry} of the files on the main branch of a repo of the local Hub."""
    repo = server.storage.load(repo_type, repo_id)
    return repo["commits"][repo["branches"]["main"]]["files"]


def pushed_card(server, repo_id="alice/artnet"):
    return server.storage.read_blob(head_files(server, repo_id)["README.md"]["sha256"]).decode()


def add_tokens_of_every_kind(server):
    """Tokens of alice beside conftest's write tokens: a read token and fine-grained ones."""
    server.add_token("read-token", "alice", {"displayName": "read", "role": "read"})
    server.add_token("fine-read-token", "alice", fine_grained_access(("user", "alice", ["repo.content.read"])))
    server.add_token(
        "fine-org-token", "alice", fine_grained_access(("org", "artists", ["repo.content.read", "repo.write"]))
    )
    server.add_token(
        "fine-write-token", "alice", fine_grained_access(("user", "alice", ["repo.content.read", "repo.write"]))
    )
    server.add_token("fine-global-token", "alice", fine_grained_access(global_permissions=["repo.write"]))
    server.add_token(
        "fine-repo-token", "alice", fine_grained_access(("model", "alice/artnet", ["repo.content.read", "repo.write"]))
    )


def test_push_then_pull_by_tag_and_by_commit_gives_the_same_files(hub, small_folder, tmp_path):
    server, client = hub
    commit, url = push(client, small_folder, "alice/artnet", "--tag", "v1")
    assert url == f"{server.url}/alice/artnet"
    assert len(commit) == 40 and server.storage.load("model", "alice/artnet")["tags"] == {"v1": commit}

    by_tag = pull(client, "alice/artnet@v1")
    by_commit = pull(dataclasses.replace(client, home=tmp_path / "another_cache"), f"alice/artnet@{commit}")
    for folder in (by_tag, by_commit):
        assert os.path.basename(folder) == commit
        pulled = sorted(
            os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/")
            for root, _, names in os.walk(folder)
            for name in names
        )
        assert pulled == sorted(PULLED)  # the app's files; plots/ stays on the Hub
        for name in set(PULLED) - {"README.md"}:  # the card is rendered afresh for the repo
            assert open(os.path.join(folder, name), "rb").read() == (small_folder / name).read_bytes(), name
    metadata, body = card_metadata(open(os.path.join(by_tag, "README.md")).read())
    assert (metadata["library_name"], metadata["pipeline_tag"]) == ("keras", "image-classification")
    assert "not been evaluated" in body and "alice/artnet" in body

    stored = server.storage.load("model", "alice/artnet")["commits"][commit]["files"]
    assert stored["model.keras"]["lfs"] is client.lfs  # binary files went through LFS in LFS mode only
    assert stored["config.json"]["lfs"] is False


def test_a_second_push_is_a_new_commit_and_the_old_one_still_pulls(start_hub, small_folder):
    server, client = start_hub()
    first, _ = push(client, small_folder, "alice/artnet", "--tag", "v1")
    (small_folder / "model.keras").write_bytes(b"PK\x03\x04\0 retrained")
    second, _ = push(client, small_folder, "alice/artnet")
    assert second != first
    assert open(os.path.join(pull(client, "alice/artnet@v1"), "model.keras"), "rb").read() != b"PK\x03\x04\0 retrained"
    assert open(os.path.join(pull(client, "alice/artnet"), "model.keras"), "rb").read() == b"PK\x03\x04\0 retrained"


def test_a_push_removes_what_the_folder_no_longer_has_in_the_same_commit(hub, small_folder):
    server, client = hub
    (small_folder / "metrics.json").write_text(json.dumps({"test": {"accuracy": 0.9}}))
    painting("stripes", seed=2, size=(64, 48)).save(small_folder / "examples" / "stripes.jpg")
    first, _ = push(client, small_folder, "alice/artnet", "--tag", "v1")
    (small_folder / "metrics.json").unlink()
    (small_folder / "examples" / "stripes.jpg").unlink()
    second, _ = push(client, small_folder, "alice/artnet")

    repo = server.storage.load("model", "alice/artnet")
    assert repo["commits"][second]["parent"] == first  # one commit: the additions and the deletions together
    assert sorted(head_files(server, "alice/artnet")) == sorted(
        [
            ".gitattributes",
            "README.md",
            "config.json",
            "model.keras",
            "examples/index.json",
            "examples/blobs.jpg",
            "plots/curves.png",
        ]
    )
    latest, tagged = pull(client, "alice/artnet"), pull(client, "alice/artnet@v1")
    assert not os.path.exists(os.path.join(latest, "metrics.json"))
    assert not os.path.exists(os.path.join(latest, "examples", "stripes.jpg"))
    assert "not been evaluated" in open(os.path.join(latest, "README.md")).read()
    assert os.path.isfile(os.path.join(tagged, "metrics.json"))  # the earlier commit keeps what it had


def test_a_second_push_asking_for_private_says_that_the_public_repo_stays_public(start_hub, small_folder):
    server, client = start_hub()
    push(client, small_folder, "alice/artnet")
    result = client.run(
        ["-m", "artnet.cli.hub", "push", small_folder, "alice/artnet", "--private"], token="write-token"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        "note: alice/artnet already exists and stays public: --private only applies "
        f"to a new repo. Change its visibility at {server.url}/alice/artnet/settings."
    )
    assert server.storage.load("model", "alice/artnet")["private"] is False


def test_an_incomplete_metrics_json_gives_a_card_of_what_it_has(start_hub, small_folder):
    server, client = start_hub()
    (small_folder / "metrics.json").write_text(
        json.dumps({"test": {"accuracy": 0.5}, "counts": {"layout": "one folder per class"}})
    )
    push(client, small_folder, "alice/artnet")
    metadata, body = card_metadata(pushed_card(server))
    assert {"type": "accuracy", "value": 0.5, "name": "Test accuracy (whole painting)"} in metadata["model-index"][0][
        "results"
    ][0]["metrics"]
    assert "| whole painting | n/a | 50.00 % | n/a |" in body
    assert "| Cubism | n/a | n/a | n/a |" in body and "Source: one folder per class." in body


def test_the_card_names_a_weights_file_without_where_it_lay(start_hub, small_folder):
    server, client = start_hub()
    weights = "/home/ada/private/weights/densenet121_notop.h5"
    (small_folder / "metrics.json").write_text(json.dumps({"training": {"backbone_weights": weights, "seed": 7}}))
    push(client, small_folder, "alice/artnet")
    card = pushed_card(server)
    assert "| backbone_weights | densenet121_notop.h5 |" in card
    assert "/home/ada" not in card


def test_a_connection_dropped_during_a_push_is_one_line(start_hub, small_folder):
    server, client = start_hub()
    server.hang_up_on.add("commit")
    result = client.run(["-m", "artnet.cli.hub", "push", small_folder, "alice/artnet"], token="write-token")
    assert one_line_error(result) == (
        f"error: Lost the connection to the Hub while pushing to alice/artnet. The model "
        f"folder {small_folder} is intact; push it again with `python -m artnet.cli.hub push`.\n"
    )


def test_a_pulled_model_loads_offline_from_the_cache_once_the_server_is_gone(start_hub, small_folder):
    server, client = start_hub()
    commit, _ = push(client, small_folder, "alice/artnet", "--tag", "v1")
    online = pull(client, "alice/artnet@v1")
    server.stop()
    loaded = client.run_python(
        """
        from artnet.cli.options import checked_model
        source = checked_model("alice/artnet@v1")
        print(source.folder, source.commit)
        """,
        offline=True,
    )
    assert loaded.split() == [online, commit]


@pytest.mark.parametrize(
    "spec, token, message",
    [
        (
            "alice/nothing",
            "write-token",
            "There is no model repo alice/nothing on the Hub, or it is private and your token cannot read it.",
        ),
        (
            "alice/artnet@v9",
            "write-token",
            "The model repo alice/artnet has no revision 'v9': use a branch, tag or commit id it has.",
        ),
        (
            "alice/secret",
            None,
            "There is no model repo alice/secret on the Hub, or it is private and no token is set: set HF_TOKEN.",
        ),
        (
            "alice/secret",
            "other-token",
            "There is no model repo alice/secret on the Hub, or it is private and your token cannot read it.",
        ),
        (
            "alice/artnet",
            "expired-token",
            "The Hub refused the Hugging Face token (invalid or expired) while reading alice/artnet.",
        ),
        ("alice/no-model", None, "alice/no-model is incomplete: it has no model.keras."),
        ("alice/no-config", None, "alice/no-config is not an ArtNet model repo: it has no valid config.json."),
    ],
)
def test_each_failure_to_pull_is_one_line_that_says_why(spec, token, message, start_hub, small_folder):
    server, client = start_hub()
    model_files = {path: (small_folder / path).read_bytes() for path in ("model.keras", "config.json")}
    server.add_repo("alice/artnet", "alice", model_files)
    server.add_repo("alice/secret", "alice", model_files, private=True)
    server.add_repo("alice/no-model", "alice", {"config.json": model_files["config.json"]})
    server.add_repo("alice/no-config", "alice", {"model.keras": model_files["model.keras"]})
    error = one_line_error(client.run(["-m", "artnet.cli.hub", "pull", spec], token=token))
    assert error.startswith(f"error: {message}")
    assert not token or token not in error


def test_a_mistyped_local_folder_is_reported_as_a_missing_folder(start_hub, tmp_path):
    _, client = start_hub()
    (tmp_path / "models" / "artnet").mkdir(parents=True)
    result = client.run(["-m", "artnet.cli.hub", "pull", "models/artnt"], token="write-token", cwd=tmp_path)
    assert one_line_error(result) == (
        "error: There is no model folder at 'models/artnt', and no model repo "
        "models/artnt on the Hub that you can read. Check the path.\n"
    )
    offline = client.run(["-m", "artnet.cli.hub", "pull", "models/artnt"], offline=True, cwd=tmp_path)
    assert one_line_error(offline).startswith(
        "error: There is no model folder at 'models/artnt'. As a Hub repo: Cannot reach the Hub"
    )


def test_with_the_network_down_and_nothing_cached_pulling_says_so(start_hub):
    server, client = start_hub()
    server.stop()
    error = one_line_error(client.run(["-m", "artnet.cli.hub", "pull", "alice/artnet@v1"]))
    assert "Cannot reach the Hub (offline or HF_HUB_OFFLINE=1) and alice/artnet@v1 is not in the local cache." in error
    offline = one_line_error(client.run(["-m", "artnet.cli.hub", "pull", "alice/artnet@v1"], offline=True))
    assert "is not in the local cache" in offline


def test_app_py_with_a_missing_hub_model_explains_in_one_line(start_hub):
    _, client = start_hub()
    result = client.run(["app.py", "--model", "alice/nothing@v1"])
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("app.py: There is no model repo alice/nothing on the Hub")


@pytest.mark.parametrize(
    "repo, token, message",
    [
        ("alice/artnet", None, "Pushing to alice/artnet needs a Hugging Face token. Create a token with write access"),
        ("alice/artnet", "expired-token", "The Hub refused the Hugging Face token (invalid or expired)."),
        ("alice/artnet", "other-token", "The token belongs to bob, who cannot write to alice/. Push to bob/artnet"),
        ("alice/tagged", "write-token", "alice/tagged already has a tag 'v1'. Choose another --tag"),
        ("alice/artnet", "read-token", "The Hugging Face token is read-only. Create a token with write access"),
        (
            "alice/artnet",
            "fine-read-token",
            "The fine-grained Hugging Face token may not write to the repos of alice/. "
            "Give it write access to them at https://huggingface.co/settings/tokens",
        ),
        ("alice/artnet", "fine-org-token", "The fine-grained Hugging Face token may not write to the repos of alice/."),
        (
            "alice/artnet",
            "fine-repo-token",
            "The fine-grained Hugging Face token may write to alice/artnet alone, which "
            "does not exist yet. Create it on the Hub first",
        ),
    ],
)
def test_each_refused_push_is_one_line_and_pushes_nothing(repo, token, message, start_hub, small_folder):
    server, client = start_hub()
    add_tokens_of_every_kind(server)
    tagged = server.add_repo("alice/tagged", "alice", {})
    server.storage.save(
        "model", "alice/tagged", {**server.storage.load("model", "alice/tagged"), "tags": {"v1": tagged}}
    )
    before = {name: server.storage.load("model", name) for name in ("alice/artnet", "alice/tagged")}
    result = client.run(["-m", "artnet.cli.hub", "push", small_folder, repo, "--tag", "v1"], token=token)
    assert one_line_error(result).startswith(f"error: {message}")
    assert not token or token not in result.stdout + result.stderr
    # No repo made, no commit added, no tag moved.
    assert {name: server.storage.load("model", name) for name in before} == before


@pytest.mark.parametrize("token", ["fine-write-token", "fine-global-token"])
def test_a_fine_grained_token_that_may_write_to_the_namespace_pushes(token, start_hub, small_folder):
    server, client = start_hub()
    add_tokens_of_every_kind(server)
    commit, _ = push(client, small_folder, "alice/artnet", token=token)
    assert server.storage.load("model", "alice/artnet")["branches"]["main"] == commit


def test_a_fine_grained_token_for_the_repo_alone_pushes_once_the_repo_exists(start_hub, small_folder):
    server, client = start_hub()
    add_tokens_of_every_kind(server)
    push(client, small_folder, "alice/artnet", token="write-token")
    commit, _ = push(client, small_folder, "alice/artnet", "--tag", "v2", token="fine-repo-token")
    assert server.storage.load("model", "alice/artnet")["tags"]["v2"] == commit


def test_an_incomplete_folder_is_not_pushed(start_hub, small_folder):
    server, client = start_hub()
    (small_folder / "model.keras").unlink()
    result = client.run(["-m", "artnet.cli.hub", "push", small_folder, "alice/artnet"], token="write-token")
    assert "has no model.keras: it is incomplete." in one_line_error(result)
    assert server.storage.load("model", "alice/artnet") is None


def test_train_py_with_a_wrong_token_stops_before_any_training(start_hub, tmp_path):
    _, client = start_hub()
    data = tmp_path / "data"
    for style, movement in (("stripes", "Cubism"), ("blobs", "Impressionism")):
        (data / movement).mkdir(parents=True)
        for seed in range(6):
            painting(style, seed=seed).save(data / movement / f"{seed}.jpg")
    output = tmp_path / "model"
    result = client.run(
        ["train.py", "--data", data, "--output", output, "--push-to-hub", "alice/artnet", "--epochs", "1"],
        token="bad",
        timeout=60,
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: The Hub refused the Hugging Face token (invalid or expired). Create a token with write "
        "access at https://huggingface.co/settings/tokens and set HF_TOKEN to it (or run `hf auth login`)."
    ]
    assert result.stderr.splitlines() == errors
    assert "Epoch" not in result.stdout + result.stderr and not output.exists()


@pytest.mark.slow
@pytest.mark.parametrize("model_fixture", ["trained_model_folder", "real_model_folder"])
def test_the_pulled_model_predicts_exactly_like_the_pushed_one_also_offline(start_hub, model_fixture, request):
    """For the reference DenseNet-121 trained on generated paintings, and the real MobileNet model."""
    server, client = start_hub(lfs=True)
    folder = request.getfixturevalue(model_fixture)
    commit, _ = push(client, folder, "alice/artnet", "--tag", "v1")
    pulled_folder = pull(client, "alice/artnet@v1")
    metadata, _ = card_metadata(open(os.path.join(pulled_folder, "README.md"), encoding="utf-8").read())
    accuracy = json.loads((folder / "metrics.json").read_text())["test"]["accuracy"]
    card_metrics = metadata["model-index"][0]["results"][0]["metrics"]
    assert {"type": "accuracy", "value": round(accuracy, 4), "name": "Test accuracy (whole painting)"} in card_metrics
    server.stop()
    compared = client.run_python(
        f"""
        from artnet.cli.options import checked_model
        from artnet.serve.classifier import Classifier
        from synthetic import painting

        image = painting("checkers", seed=7, size=(120, 90))
        source = checked_model("alice/artnet@{commit}")
        pulled = Classifier.from_folder(source.folder).classify(image)
        pushed = Classifier.from_folder({str(folder)!r}).classify(image)
        print(pulled == pushed, source.commit)
        """,
        offline=True,
    )
    assert compared.split()[-2:] == ["True", commit]


@pytest.mark.slow  # the uploaded tree loads the model
def test_publish_a_space_pinned_to_the_models_commit(start_hub, untrained_model_folder, tmp_path):
    server, client = start_hub()
    commit, _ = push(client, untrained_model_folder, "alice/artnet", "--tag", "v1")
    result = client.run(
        ["-m", "artnet.cli.space", "--space", "alice/artnet-demo", "--model", "alice/artnet@v1"], token="write-token"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"The Space serves alice/artnet@{commit}: {server.url}/spaces/alice/artnet-demo\n"
    assert "write-token" not in result.stdout + result.stderr

    space = server.storage.load("space", "alice/artnet-demo")
    assert space["sdk"] == "gradio" and space["private"] is False
    files = space["commits"][space["branches"]["main"]]["files"]
    project = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = [
        os.path.relpath(os.path.join(folder, name), project)
        for folder, _, names in os.walk(os.path.join(project, "artnet"))
        for name in names
        if name.endswith(".py")
    ]
    docs = [f"docs/{name}" for name in os.listdir(os.path.join(project, "docs"))]
    assert sorted(files) == sorted([".gitattributes", "README.md", "app.py", "requirements.txt", *code, *docs])
    # The uploaded tree alone, as the Space builds it, imports the app and serves the model.
    space_tree = tmp_path / "space"
    for path, entry in files.items():
        (space_tree / path).parent.mkdir(parents=True, exist_ok=True)
        (space_tree / path).write_bytes(server.storage.read_blob(entry["sha256"]))
    served = client.run(
        [
            "-c",
            "import app; classifier, source = app.load_classifier(app.parse_options([]).model); print(source.commit, *classifier.labels)",
        ],
        cwd=space_tree,
        ARTNET_MODEL=f"alice/artnet@{commit}",
        PYTHONPATH="",
    )
    assert served.returncode == 0, served.stderr[-3000:]
    assert served.stdout.split() == [
        commit,
        *json.loads((untrained_model_folder / "config.json").read_text())["labels"],
    ]
    assert server.storage.read_blob(files["app.py"]["sha256"]) == open(os.path.join(project, "app.py"), "rb").read()
    readme = server.storage.read_blob(files["README.md"]["sha256"]).decode()
    original = open(os.path.join(project, "README.md")).read()
    assert card_metadata(readme)[0]["models"] == ["alice/artnet"]
    assert readme.replace("models:\n  - alice/artnet\n", "models: []\n") == original
    assert space["variables"]["ARTNET_MODEL"]["value"] == f"alice/artnet@{commit}"
    # The build of the first code commit already sees the model: the Space never starts without it.
    assert space["commits"][space["branches"]["main"]]["variables"] == {"ARTNET_MODEL": f"alice/artnet@{commit}"}


def test_publishing_again_sets_the_new_model_before_the_new_code_and_keeps_the_spaces_visibility(
    start_hub, small_folder
):
    server, client = start_hub()
    first, _ = push(client, small_folder, "alice/artnet", "--tag", "v1")
    publish = ["-m", "artnet.cli.space", "--space", "alice/demo", "--model"]
    assert client.run([*publish, "alice/artnet@v1"], token="write-token").returncode == 0
    space = server.storage.load("space", "alice/demo")
    stale = {
        **head_files(server, "alice/demo", "space"),
        "artnet/removed.py": server.storage.file_entry(b"", lfs=False),
    }
    HubStorage.add_commit(space, "main", stale, "a module that artnet/ no longer has")
    server.storage.save("space", "alice/demo", space)
    (small_folder / "model.keras").write_bytes(b"PK\x03\x04\0 retrained")
    second, _ = push(client, small_folder, "alice/artnet", "--tag", "v2")

    result = client.run([*publish, "alice/artnet@v2", "--private"], token="write-token")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "note: alice/demo already exists and stays public: --private only applies to a new repo. "
        f"Change its visibility at {server.url}/spaces/alice/demo/settings.\n"
    )
    space = server.storage.load("space", "alice/demo")
    assert space["private"] is False and first != second
    assert space["commits"][space["branches"]["main"]]["variables"] == {"ARTNET_MODEL": f"alice/artnet@{second}"}
    assert "artnet/removed.py" not in head_files(server, "alice/demo", "space")


def test_a_space_for_the_models_main_branch_is_pinned_to_its_commit_and_says_a_private_model_needs_a_secret(
    start_hub, small_folder
):
    server, client = start_hub()
    commit, _ = push(client, small_folder, "alice/artnet", "--private")
    result = client.run(
        ["-m", "artnet.cli.space", "--space", "alice/demo", "--model", "alice/artnet"], token="write-token"
    )
    assert result.returncode == 0, result.stderr
    assert server.storage.load("space", "alice/demo")["variables"]["ARTNET_MODEL"]["value"] == f"alice/artnet@{commit}"
    assert (
        result.stdout.splitlines()[1]
        == "alice/artnet is private: add a secret HF_TOKEN (a read token) in the Space's settings."
    )


@pytest.mark.parametrize(
    "space, model, token, message",
    [
        ("alice/demo", "alice/nothing", "write-token", "There is no model repo alice/nothing on the Hub"),
        ("alice/demo", "alice/artnet", "bad", "The Hub refused the Hugging Face token (invalid or expired)."),
        ("alice/demo", "tests", "write-token", "A Space cannot read 'tests' on this machine: push it first"),
    ],
)
def test_each_failure_to_publish_a_space_is_one_line(space, model, token, message, start_hub, small_folder):
    server, client = start_hub()
    server.add_repo("alice/artnet", "alice", {"config.json": (small_folder / "config.json").read_bytes()})
    result = client.run(["-m", "artnet.cli.space", "--space", space, "--model", model], token=token)
    assert one_line_error(result).startswith(f"error: {message}")
    assert token not in result.stdout + result.stderr
    assert server.storage.load("space", "alice/demo") is None


def test_the_card_of_a_run_that_learned_nothing_says_so_at_the_top(small_folder):
    from artnet.hub.card import render_model_card

    warning = "The validation accuracy never rose clearly above chance (best 20.0%, chance 20.0%): check the data."
    (small_folder / "metrics.json").write_text(json.dumps({"test": {"accuracy": 0.2}, "warnings": [warning]}))
    card = render_model_card(small_folder)
    assert f"> **Warning:** {warning}" in card
    assert card.index("Warning:") < card.index("## Use it")
    (small_folder / "metrics.json").write_text(json.dumps({"test": {"accuracy": 0.9}, "warnings": []}))
    assert "Warning" not in render_model_card(small_folder)
