"""Pull a model folder from the Hub at a pinned revision, or take a local one: what app.py and the commands
serve (`resolve_model`). Hub models are read from the huggingface_hub cache, with only the files the app
needs, and offline when they are there."""

import contextlib
import os
from collections.abc import Iterator

from huggingface_hub import HfApi, constants, snapshot_download
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    IncompleteSnapshotError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from artnet.errors import UserError
from artnet.hub.repos import NETWORK_ERRORS, HubError, parse_spec, resolve_token, server_message, shown, status
from artnet.model.folder import (
    CONFIG_FILE,
    DEFAULT_MODEL_FOLDER,
    MODEL_FILE,
    MODEL_VARIABLE,
    SERVED_FILES,
    ModelFolderError,
    ModelSource,
    check_folder,
)


def pull(spec: str | os.PathLike[str], token: str | None = None) -> ModelSource:
    """A local model folder for `spec`: a folder path, `user/repo` or `user/repo@revision`.

    Hub models are downloaded into (or, offline, read from) the huggingface_hub cache, with only the
    files the app needs. Returns a ModelSource. Raises HubError.
    """
    spec = os.fspath(spec)
    if os.path.isdir(spec):
        return ModelSource(folder=os.path.abspath(spec))
    if spec.startswith((".", "/", "~")) or spec.endswith("/") or spec.count("/") > 1:
        raise HubError(f"There is no model folder at {spec!r}. Check the path, or give a Hub repo as user/repo.")
    repo_id, revision = parse_spec(spec)
    shown_spec = shown(repo_id, revision)
    # With a folder `models/` here, `models/artnt` is more likely a mistyped path than a Hub repo.
    mistyped_path = spec if os.path.isdir(spec.split("/")[0]) else None
    with reading(repo_id, revision, token, mistyped_path):
        folder = snapshot_download(
            repo_id, revision=revision, allow_patterns=list(SERVED_FILES), token=resolve_token(token)
        )
    try:
        check_folder(folder)
    except ModelFolderError as error:
        if error.file == MODEL_FILE:
            raise HubError(
                f"{shown_spec} is incomplete: it has no {MODEL_FILE}. Push the whole folder written by train.py."
            ) from None
        raise HubError(
            f"{shown_spec} is not an ArtNet model repo: it has no valid {CONFIG_FILE}. Push a folder written by train.py."
        ) from None
    # A snapshot folder is named after the commit it holds.
    return ModelSource(folder=folder, repo_id=repo_id, revision=revision or "main", commit=os.path.basename(folder))


def resolve_commit(spec: str, token: str | None = None) -> tuple[str, str | None]:
    """`user/repo[@revision]` -> (repo_id, the commit id that revision points to now). Raises HubError."""
    repo_id, revision = parse_spec(spec)
    with reading(repo_id, revision, token):
        return repo_id, HfApi(token=resolve_token(token)).model_info(repo_id, revision=revision).sha


@contextlib.contextmanager
def reading(
    repo_id: str, revision: str | None = None, token: str | None = None, mistyped_path: str | None = None
) -> Iterator[None]:
    """Turn what can go wrong while reading `repo_id` at `revision` into a HubError that says what to do;
    `mistyped_path` is the spec when it may be a local path instead."""
    shown_spec = shown(repo_id, revision)
    # Offline, the Hub cannot say whether the repo exists; a likely path is named first all the same.
    path_first = f"There is no model folder at {mistyped_path!r}. As a Hub repo: " if mistyped_path else ""
    try:
        yield
    except RevisionNotFoundError:
        raise HubError(
            f"The model repo {repo_id} has no revision {revision!r}: use a branch, tag or commit id it has."
        ) from None
    except GatedRepoError:
        raise HubError(f"{repo_id} is gated: accept its conditions on the Hub, then set HF_TOKEN.") from None
    except RepositoryNotFoundError:
        if mistyped_path:
            raise HubError(
                f"There is no model folder at {mistyped_path!r}, and no model repo {repo_id} on the Hub that you can "
                "read. Check the path."
            ) from None
        raise HubError(
            f"There is no model repo {repo_id} on the Hub, or it is private and "
            + ("your token cannot read it." if resolve_token(token) else "no token is set: set HF_TOKEN.")
        ) from None
    except IncompleteSnapshotError:
        raise HubError(
            f"Cannot reach the Hub (offline or HF_HUB_OFFLINE=1) and {shown_spec} is only partly in the local cache. "
            "Connect once to finish the download, or give a local model folder."
        ) from None
    except LocalEntryNotFoundError:
        raise HubError(
            f"{path_first}Cannot reach the Hub (offline or HF_HUB_OFFLINE=1) and {shown_spec} is not in the local cache. "
            "Connect once to download it, or give a local model folder."
        ) from None
    except NETWORK_ERRORS:
        raise HubError(
            f"{path_first}Cannot reach the Hub at {constants.ENDPOINT} to read {shown_spec}. Check the network."
        ) from None
    except HfHubHTTPError as error:
        if status(error) == 401:
            raise HubError(
                f"The Hub refused the Hugging Face token (invalid or expired) while reading {shown_spec}. "
                "Fix HF_TOKEN, or unset it to read public repos."
            ) from None
        raise HubError(f"The Hub refused to send {shown_spec} ({status(error)}: {server_message(error)}).") from None


class ModelNotFoundError(UserError):
    """No model to serve. The message says how to get one."""


def resolve_model(spec: str | os.PathLike[str] | None) -> ModelSource:
    """The ModelSource named by `spec`: a local model folder, or a Hub repo pulled at its revision; without
    one, the folder that train.py writes. What app.py and the commands serve alike."""
    if spec is None:
        if os.path.isdir(DEFAULT_MODEL_FOLDER):
            return ModelSource(DEFAULT_MODEL_FOLDER)
        raise ModelNotFoundError(
            f"No model to serve: train one with `python train.py --data DIR` (it writes {DEFAULT_MODEL_FOLDER}), "
            f"or set {MODEL_VARIABLE}=user/repo@revision or pass --model."
        )
    return pull(spec)
