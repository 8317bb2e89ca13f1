"""Publish the Gradio demo as a Hugging Face Space that serves one model at a fixed commit.

    python -m artnet.cli.space --space USER/NAME --model USER/REPO[@REVISION] [--private]

It creates the Space (Gradio SDK) if it is missing and uploads app.py, the artnet package, requirements.txt,
README.md, whose Space header then names the model, and the docs/ pages that README links to, in one commit. Before that commit it sets the Space
variable ARTNET_MODEL to the model's repo at the commit id that REVISION points to now, so the demo never
changes under its users when the model repo moves on; it prints the Space's URL.
"""

import os
import re
from pathlib import Path

from huggingface_hub import CommitOperationAdd, HfApi

from artnet.hub.pull import resolve_commit
from artnet.hub.push import check_can_push, deletions, open_repo, writing
from artnet.hub.repos import HubError
from artnet.model.folder import MODEL_VARIABLE

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CODE_FOLDER = "artnet"
DOCS_FOLDER = "docs"
TOP_LEVEL_FILES = ("app.py", "requirements.txt")
README = "README.md"
FRONT_MATTER = re.compile(r"\A---\n(?P<header>.*?\n)---\n", re.DOTALL)
MODELS_LINE = re.compile(r"^models:.*$", re.MULTILINE)


class SpaceError(HubError):
    """The Space cannot be published as asked. The message is one line that says what to do."""


def space_readme(readme, model_repo_id):
    """README.md with the `models:` line of its Space header naming `model_repo_id`; the rest unchanged."""
    header = FRONT_MATTER.match(readme)
    if header is None or not MODELS_LINE.search(header["header"]):
        raise SpaceError(f"{README} has no Space header with a `models:` line; restore it from git before publishing.")
    new_header = MODELS_LINE.sub(f"models:\n  - {model_repo_id}", header["header"], count=1)
    return f"---\n{new_header}---\n" + readme[header.end() :]


def space_files(model_repo_id, root=PROJECT_ROOT):
    """{path in the Space: content} of everything the Space runs and its page links to."""
    files = {name: (root / name).read_bytes() for name in TOP_LEVEL_FILES}
    shipped = [
        *(root / CODE_FOLDER).rglob("*.py"),
        *(path for path in (root / DOCS_FOLDER).iterdir() if path.is_file()),
    ]
    files.update({path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(shipped)})
    files[README] = space_readme((root / README).read_text(encoding="utf-8"), model_repo_id).encode("utf-8")
    return files


def publish(space_id, model_spec, private=False, token=None):
    """Create or update the Space `space_id` to serve `model_spec` pinned to its commit. Returns
    (the Space's URL, the pinned spec `repo@commit`, whether the model repo is private)."""
    if os.path.isdir(model_spec):
        raise SpaceError(
            f"A Space cannot read {model_spec!r} on this machine: push it first with "
            "`python -m artnet.cli.hub push FOLDER USER/REPO`, then give --model USER/REPO."
        )
    token = check_can_push(space_id, token)
    model_repo_id, commit_id = resolve_commit(model_spec, token)
    api = HfApi(token=token)
    files = space_files(model_repo_id)
    pinned = f"{model_repo_id}@{commit_id}"
    variable = {"key": MODEL_VARIABLE, "value": pinned, "description": "the model the demo serves, at a fixed commit"}
    retry = "Run the same command again; it updates the Space in place."
    with writing(f"publishing the Space {space_id}", retry):
        # The variable comes before the code: each commit starts a build, which must already see the model
        # it is to serve. A new Space gets it at creation, an existing one just before the commit.
        url, existing = open_repo(
            api, space_id, private, repo_type="space", space_sdk="gradio", space_variables=[variable]
        )
        if existing is not None:
            api.add_space_variable(space_id, variable["key"], variable["value"], description=variable["description"])
        operations = [CommitOperationAdd(path, content) for path, content in files.items()]
        # Modules and pages removed since the last publication must not linger in the Space.
        operations += deletions(existing, files, under=f"{CODE_FOLDER}/")
        operations += deletions(existing, files, under=f"{DOCS_FOLDER}/")
        api.create_commit(
            space_id,
            operations,
            repo_type="space",
            commit_message=f"ArtNet demo serving {pinned}",
            parent_commit=existing.sha if existing else None,
        )
        model_private = api.model_info(model_repo_id, revision=commit_id).private
    return url, pinned, model_private
