"""The Hugging Face Hub: push a model folder as one commit, pull it back at a pinned revision.

Keras's own `hf://` saving rewrites README.md and pins no revision, so this module uses the
huggingface_hub API directly. Every failure a user can cause becomes a `HubError` whose one-line
message says what to do. Tokens come from the argument, then HF_TOKEN, then the login cache, and are
never printed.

    python -m artnet.hub push FOLDER USER/REPO [--private] [--tag NAME]
    python -m artnet.hub pull USER/REPO[@REVISION]
"""

import argparse
import contextlib
import os
import sys
from dataclasses import dataclass

import httpx2
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, constants, get_token, snapshot_download
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    IncompleteSnapshotError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import validate_repo_id

from artnet.errors import UserError
from artnet.model_card import render_model_card
from artnet.model_folder import (
    CARD_FILE, CONFIG_FILE, DEFAULT_MODEL_FOLDER, MODEL_FILE, MODEL_VARIABLE, SERVED_FILES, ModelFolderError, ModelSource,
    check_folder,
)

# What the app needs from a model repo; plots stay on the Hub for people to look at.
# huggingface_hub 2.x talks HTTP through httpx2: its TransportError covers a Hub out of reach and a
# connection dropped mid-transfer alike.
NETWORK_ERRORS = (httpx2.TransportError, OfflineModeIsEnabled)
# The Hub writes it into every new repo with its LFS rules; a push never owns it.
GITATTRIBUTES = ".gitattributes"
TOKEN_HELP = (
    "Create a token with write access at https://huggingface.co/settings/tokens and set HF_TOKEN to it "
    "(or run `hf auth login`)"
)


class HubError(UserError):
    """A Hub operation that cannot be done as asked. The message is one line meant for the user."""


@dataclass(frozen=True)
class PushResult:
    repo_id: str
    commit_id: str
    repo_url: str
    tag: str | None = None

    @property
    def spec(self):
        return f"{self.repo_id}@{self.commit_id}"


def parse_spec(spec):
    """`user/repo` or `user/repo@revision` -> (repo_id, revision or None). Raises HubError."""
    repo_id, _, revision = spec.strip().partition("@")
    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise HubError(
            f"{spec!r} is neither a model folder nor a Hub repo; give a folder, user/repo or user/repo@revision."
        ) from None
    if "/" not in repo_id:
        raise HubError(f"{spec!r} is not a folder, and a Hub model repo is named user/repo; give one of those.")
    return repo_id, revision or None


def resolve_token(token=None):
    """The token to use: the argument, else HF_TOKEN, else the login cache; None when there is none."""
    return token or get_token()


def check_can_push(repo_id, token=None, tag=None):
    """Make sure that a push to `repo_id` (with `tag`) can succeed, before any long work. Returns the token.

    It checks that there is a token, that the Hub accepts it, that it may write to the repo's namespace,
    and that the tag is still free.
    """
    parse_spec(repo_id)
    token = resolve_token(token)
    if not token:
        raise HubError(f"Pushing to {repo_id} needs a Hugging Face token. {TOKEN_HELP}.")
    api = HfApi(token=token)
    try:
        identity = api.whoami()
    except HfHubHTTPError as error:
        if _status(error) == 401:
            raise HubError(f"The Hub refused the Hugging Face token (invalid or expired). {TOKEN_HELP}.") from None
        raise HubError(f"The Hub could not check the token ({_status(error)}). Try again later.") from None
    except NETWORK_ERRORS:
        raise HubError(
            f"Cannot reach the Hub at {constants.ENDPOINT} to check the token. Connect to the network, or run "
            "without pushing and push the folder later with `python -m artnet.hub push FOLDER REPO`."
        ) from None
    namespace = repo_id.split("/")[0]
    writable = {identity.get("name")} | {org.get("name") for org in identity.get("orgs", [])}
    if namespace not in writable:
        raise HubError(
            f"The token belongs to {identity.get('name')}, who cannot write to {namespace}/. "
            f"Push to {identity.get('name')}/{repo_id.split('/')[1]} or use a token of {namespace}."
        )
    access = identity.get("auth", {}).get("accessToken", {})
    if access.get("role") == "read":
        raise HubError(f"The Hugging Face token is read-only. {TOKEN_HELP}.")
    if access.get("role") == "fineGrained":
        _check_fine_grained(api, access.get("fineGrained") or {}, repo_id)
    if tag and tag in _existing_tags(api, repo_id):
        raise HubError(f"{repo_id} already has a tag {tag!r}. Choose another --tag; tags are never moved.")
    return token


def _check_fine_grained(api, permissions, repo_id):
    """Refuse a fine-grained token (whoami's auth.accessToken.fineGrained) that may not push to `repo_id`.

    It may where repo.write is granted globally, to the repo's user or organisation, or to the repo
    itself, which must then exist: creating a repo takes the right to write to its namespace.
    """
    namespace = repo_id.split("/")[0]
    granted = {
        (scope.get("entity", {}).get("type"), scope.get("entity", {}).get("name"))
        for scope in permissions.get("scoped", [])
        if "repo.write" in scope.get("permissions", [])
    }
    if "repo.write" in permissions.get("global", []) or {("user", namespace), ("org", namespace)} & granted:
        return
    if ("model", repo_id) in granted:
        if api.repo_exists(repo_id):
            return
        raise HubError(
            f"The fine-grained Hugging Face token may write to {repo_id} alone, which does not exist yet. Create it "
            f"on the Hub first, or give the token write access to {namespace}/ at https://huggingface.co/settings/tokens."
        )
    raise HubError(
        f"The fine-grained Hugging Face token may not write to the repos of {namespace}/. Give it write access to "
        f"them at https://huggingface.co/settings/tokens, or use a token with the write role."
    )


def _existing_tags(api, repo_id):
    try:
        return {ref.name for ref in api.list_repo_refs(repo_id).tags}
    except RepositoryNotFoundError:
        return set()


def push(model_folder, repo_id, token=None, private=False, revision_tag=None, commit_message=None):
    """Upload a model folder to `repo_id` in one commit, with a freshly rendered model card, creating
    the repo if it is missing, and tag that commit. Returns a PushResult."""
    token = check_can_push(repo_id, token, revision_tag)
    model_folder = os.fspath(model_folder)
    try:
        config = check_folder(model_folder)
    except ModelFolderError as error:
        if error.file == MODEL_FILE:
            raise HubError(f"{model_folder} has no {MODEL_FILE}: it is incomplete. Train it again before pushing.") from None
        raise HubError(str(error)) from None

    files = {relative: os.path.join(model_folder, relative) for relative in _folder_files(model_folder) if relative != CARD_FILE}
    # Rendered before anything reaches the Hub, so that a card that cannot be written leaves no empty repo.
    files[CARD_FILE] = render_model_card(model_folder, repo_id=repo_id).encode("utf-8")

    api = HfApi(token=token)
    retry = f"The model folder {model_folder} is intact; push it again with `python -m artnet.hub push`."
    with writing(f"pushing to {repo_id}", retry):
        repo_url, existing = open_repo(api, repo_id, private)
        # The repo mirrors the folder: a file the folder no longer has (metrics.json, an old example) goes.
        operations = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=content) for path, content in files.items()]
        operations += deletions(existing, files)
        commit = api.create_commit(
            repo_id,
            operations,
            commit_message=commit_message or f"ArtNet {config.get('backbone', 'model')}: {len(config['labels'])} movements",
            parent_commit=existing.sha if existing else None,
        )
        if revision_tag:
            api.create_tag(repo_id, tag=revision_tag, revision=commit.oid)
    return PushResult(repo_id=repo_id, commit_id=commit.oid, repo_url=repo_url, tag=revision_tag)


def open_repo(api, repo_id, private, repo_type=None, **create_options):
    """Create `repo_id` if it is missing, with `private` and `create_options`. Returns (its URL, its info
    before this push, None for a new repo).

    An existing repo keeps its visibility; asked to be private while it is public, it says so on stderr.
    """
    try:
        existing = api.repo_info(repo_id, repo_type=repo_type)
    except RepositoryNotFoundError:
        existing = None
    url = str(api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True, **create_options))
    if existing is not None and private and not existing.private:
        print(f"note: {repo_id} already exists and stays public: --private only applies to a new repo. "
              f"Change its visibility at {url}/settings.", file=sys.stderr)
    return url, existing


def deletions(existing, kept, under=""):
    """A CommitOperationDelete for each file under `under` of `existing` (a repo's info, None for a new
    repo) that is not in `kept`, but .gitattributes."""
    files = [sibling.rfilename for sibling in existing.siblings or []] if existing else []
    return [CommitOperationDelete(path) for path in files
            if path.startswith(under) and path not in kept and path != GITATTRIBUTES]


@contextlib.contextmanager
def writing(action, retry):
    """Turn the Hub's refusals and network failures during `action` ("pushing to user/repo") into a
    HubError; `retry` says how to try again."""
    try:
        yield
    except NETWORK_ERRORS:
        raise HubError(f"Lost the connection to the Hub while {action}. {retry}") from None
    except HfHubHTTPError as error:
        raise HubError(f"The Hub refused {action} ({_status(error)}: {_server_message(error)}).") from None


def _folder_files(folder):
    """Relative paths of the files in a model folder, without hidden files (atomic-write leftovers)."""
    files = []
    for root, directories, names in os.walk(folder):
        directories[:] = sorted(d for d in directories if not d.startswith("."))
        for name in sorted(names):
            if not name.startswith("."):
                files.append(os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/"))
    return files


def pull(spec, token=None):
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
    shown = _shown(repo_id, revision)
    # With a folder `models/` here, `models/artnt` is more likely a mistyped path than a Hub repo.
    mistyped_path = spec if os.path.isdir(spec.split("/")[0]) else None
    with reading(repo_id, revision, token, mistyped_path):
        folder = snapshot_download(repo_id, revision=revision, allow_patterns=list(SERVED_FILES), token=resolve_token(token))
    try:
        check_folder(folder)
    except ModelFolderError as error:
        if error.file == MODEL_FILE:
            raise HubError(f"{shown} is incomplete: it has no {MODEL_FILE}. Push the whole folder written by train.py.") from None
        raise HubError(f"{shown} is not an ArtNet model repo: it has no valid {CONFIG_FILE}. Push a folder written by train.py.") from None
    # A snapshot folder is named after the commit it holds.
    return ModelSource(folder=folder, repo_id=repo_id, revision=revision or "main", commit=os.path.basename(folder))


def resolve_commit(spec, token=None):
    """`user/repo[@revision]` -> (repo_id, the commit id that revision points to now). Raises HubError."""
    repo_id, revision = parse_spec(spec)
    with reading(repo_id, revision, token):
        return repo_id, HfApi(token=resolve_token(token)).model_info(repo_id, revision=revision).sha


@contextlib.contextmanager
def reading(repo_id, revision=None, token=None, mistyped_path=None):
    """Turn what can go wrong while reading `repo_id` at `revision` into a HubError that says what to do;
    `mistyped_path` is the spec when it may be a local path instead."""
    shown = _shown(repo_id, revision)
    # Offline, the Hub cannot say whether the repo exists; a likely path is named first all the same.
    path_first = f"There is no model folder at {mistyped_path!r}. As a Hub repo: " if mistyped_path else ""
    try:
        yield
    except RevisionNotFoundError:
        raise HubError(f"The model repo {repo_id} has no revision {revision!r}: use a branch, tag or commit id it has.") from None
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
            f"Cannot reach the Hub (offline or HF_HUB_OFFLINE=1) and {shown} is only partly in the local cache. "
            "Connect once to finish the download, or give a local model folder."
        ) from None
    except LocalEntryNotFoundError:
        raise HubError(
            f"{path_first}Cannot reach the Hub (offline or HF_HUB_OFFLINE=1) and {shown} is not in the local cache. "
            "Connect once to download it, or give a local model folder."
        ) from None
    except NETWORK_ERRORS:
        raise HubError(f"{path_first}Cannot reach the Hub at {constants.ENDPOINT} to read {shown}. Check the network.") from None
    except HfHubHTTPError as error:
        if _status(error) == 401:
            raise HubError(
                f"The Hub refused the Hugging Face token (invalid or expired) while reading {shown}. "
                "Fix HF_TOKEN, or unset it to read public repos."
            ) from None
        raise HubError(f"The Hub refused to send {shown} ({_status(error)}: {_server_message(error)}).") from None


def _shown(repo_id, revision):
    return f"{repo_id}@{revision}" if revision else repo_id


def _status(error):
    response = getattr(error, "response", None)
    return getattr(response, "status_code", "error")


# The README's Quick start trains on the paintings and weights that lie beside a checkout of the project.
SHARED_PAINTINGS = os.path.join("..", "shared", "paintings")
SHARED_TRAINING_COMMAND = (f"python train.py --data {SHARED_PAINTINGS} --backbone-weights "
                           f"{os.path.join('..', 'shared', 'weights', 'mobilenet_0.75_imagenet_notop.weights.h5')}")


class ModelNotFoundError(UserError):
    """No model to serve. The message says how to get one."""


def resolve_model(spec):
    """The ModelSource named by `spec`: a local model folder, or a Hub repo pulled at its revision; without
    one, the folder that train.py writes. What app.py and `python -m artnet.classify` serve alike."""
    if spec is None:
        if os.path.isdir(DEFAULT_MODEL_FOLDER):
            return ModelSource(DEFAULT_MODEL_FOLDER)
        shared = (f"; with the shared paintings beside this checkout: `{SHARED_TRAINING_COMMAND}`"
                  if os.path.isdir(SHARED_PAINTINGS) else "")
        raise ModelNotFoundError(
            f"No model to serve: train one with `python train.py --data DIR` (it writes {DEFAULT_MODEL_FOLDER}{shared}), "
            f"or set {MODEL_VARIABLE}=user/repo@revision or pass --model."
        )
    return pull(spec)


def _server_message(error):
    return getattr(error, "server_message", None) or str(error).splitlines()[0]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m artnet.hub", description="Push or pull an ArtNet model folder.")
    commands = parser.add_subparsers(dest="command", required=True)
    push_parser = commands.add_parser("push", help="upload a model folder to a Hub model repo")
    push_parser.add_argument("folder")
    push_parser.add_argument("repo", help="user/repo")
    push_parser.add_argument("--private", action="store_true", help="create the repo private")
    push_parser.add_argument("--tag", help="tag the commit, e.g. v1")
    pull_parser = commands.add_parser("pull", help="download a model repo into the cache and print its folder")
    pull_parser.add_argument("spec", help="user/repo or user/repo@revision")
    options = parser.parse_args(argv)
    try:
        if options.command == "push":
            result = push(options.folder, options.repo, private=options.private, revision_tag=options.tag)
            print(f"Pushed {options.folder} to {result.repo_url} at commit {result.commit_id}"
                  + (f" (tag {result.tag})" if result.tag else "") + f". Serve it with: python app.py --model {result.spec}")
        else:
            source = pull(options.spec)
            print(source.folder)
    except HubError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
