"""Naming and reaching a Hub repo: `user/repo[@revision]` specs, the token, and the one-line `HubError`
that every failure a user can cause becomes. Tokens come from the argument, then HF_TOKEN, then the login
cache, and are never printed."""

import httpx2
from huggingface_hub import get_token
from huggingface_hub.errors import HFValidationError, OfflineModeIsEnabled
from huggingface_hub.utils import validate_repo_id

from artnet.errors import UserError

# huggingface_hub 2.x talks HTTP through httpx2: its TransportError covers a Hub out of reach and a
# connection dropped mid-transfer alike.
NETWORK_ERRORS = (httpx2.TransportError, OfflineModeIsEnabled)
TOKEN_HELP = (
    "Create a token with write access at https://huggingface.co/settings/tokens and set HF_TOKEN to it "
    "(or run `hf auth login`)"
)


class HubError(UserError):
    """A Hub operation that cannot be done as asked. The message is one line meant for the user."""


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


def shown(repo_id, revision):
    return f"{repo_id}@{revision}" if revision else repo_id


def status(error):
    response = getattr(error, "response", None)
    return getattr(response, "status_code", "error")


def server_message(error):
    return getattr(error, "server_message", None) or str(error).splitlines()[0]
