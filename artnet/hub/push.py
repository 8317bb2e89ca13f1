"""Push a model folder to a Hub model repo as one commit, with a freshly rendered model card.

Keras's own `hf://` saving rewrites README.md and pins no revision, so this module uses the huggingface_hub
API directly. Every check that can fail is made before any long work (`check_can_push`).
"""

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, constants
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from artnet.hub.card import render_model_card
from artnet.hub.repos import (
    NETWORK_ERRORS,
    TOKEN_HELP,
    HubError,
    parse_spec,
    resolve_token,
    server_message,
    status,
)
from artnet.model.folder import CARD_FILE, MODEL_FILE, ModelFolderError, check_folder

# The Hub writes it into every new repo with its LFS rules; a push never owns it.
GITATTRIBUTES = ".gitattributes"


@dataclass(frozen=True)
class PushResult:
    repo_id: str
    commit_id: str
    repo_url: str
    tag: str | None = None

    @property
    def spec(self) -> str:
        return f"{self.repo_id}@{self.commit_id}"


def check_can_push(repo_id: str, token: str | None = None, tag: str | None = None) -> str:
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
        if status(error) == 401:
            raise HubError(f"The Hub refused the Hugging Face token (invalid or expired). {TOKEN_HELP}.") from None
        raise HubError(f"The Hub could not check the token ({status(error)}). Try again later.") from None
    except NETWORK_ERRORS:
        raise HubError(
            f"Cannot reach the Hub at {constants.ENDPOINT} to check the token. Connect to the network, or run "
            "without pushing and push the folder later with `python -m artnet.cli.hub push FOLDER REPO`."
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


def push(
    model_folder: str | os.PathLike[str],
    repo_id: str,
    token: str | None = None,
    private: bool = False,
    revision_tag: str | None = None,
    commit_message: str | None = None,
) -> PushResult:
    """Upload a model folder to `repo_id` in one commit, with a freshly rendered model card, creating
    the repo if it is missing, and tag that commit. Returns a PushResult."""
    token = check_can_push(repo_id, token, revision_tag)
    model_folder = os.fspath(model_folder)
    try:
        config = check_folder(model_folder)
    except ModelFolderError as error:
        if error.file == MODEL_FILE:
            raise HubError(
                f"{model_folder} has no {MODEL_FILE}: it is incomplete. Train it again before pushing."
            ) from None
        raise HubError(str(error)) from None

    files = {
        relative: os.path.join(model_folder, relative)
        for relative in _folder_files(model_folder)
        if relative != CARD_FILE
    }
    # Rendered before anything reaches the Hub, so that a card that cannot be written leaves no empty repo.
    files[CARD_FILE] = render_model_card(model_folder, repo_id=repo_id).encode("utf-8")

    api = HfApi(token=token)
    retry = f"The model folder {model_folder} is intact; push it again with `python -m artnet.cli.hub push`."
    with writing(f"pushing to {repo_id}", retry):
        repo_url, existing = open_repo(api, repo_id, private)
        # The repo mirrors the folder: a file the folder no longer has (metrics.json, an old example) goes.
        operations = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=content) for path, content in files.items()]
        operations += deletions(existing, files)
        commit = api.create_commit(
            repo_id,
            operations,
            commit_message=commit_message
            or f"ArtNet {config.get('backbone', 'model')}: {len(config['labels'])} movements",
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
        print(
            f"note: {repo_id} already exists and stays public: --private only applies to a new repo. "
            f"Change its visibility at {url}/settings.",
            file=sys.stderr,
        )
    return url, existing


def deletions(existing, kept, under=""):
    """A CommitOperationDelete for each file under `under` of `existing` (a repo's info, None for a new
    repo) that is not in `kept`, but .gitattributes."""
    files = [sibling.rfilename for sibling in existing.siblings or []] if existing else []
    return [
        CommitOperationDelete(path)
        for path in files
        if path.startswith(under) and path not in kept and path != GITATTRIBUTES
    ]


@contextlib.contextmanager
def writing(action: str, retry: str) -> Iterator[None]:
    """Turn the Hub's refusals and network failures during `action` ("pushing to user/repo") into a
    HubError; `retry` says how to try again."""
    try:
        yield
    except NETWORK_ERRORS:
        raise HubError(f"Lost the connection to the Hub while {action}. {retry}") from None
    except HfHubHTTPError as error:
        raise HubError(f"The Hub refused {action} ({status(error)}: {server_message(error)}).") from None


def _folder_files(folder):
    """Relative paths of the files in a model folder, without hidden files (atomic-write leftovers)."""
    files = []
    for root, directories, names in os.walk(folder):
        directories[:] = sorted(d for d in directories if not d.startswith("."))
        for name in sorted(names):
            if not name.startswith("."):
                files.append(os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/"))
    return files
