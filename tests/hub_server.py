"""A Hugging Face Hub-compatible server on the standard library, for tests.

The real Hub is out of reach from the test machines and no self-hosted Hub exists on PyPI, so this speaks
the routes that huggingface_hub 2.x calls for what ArtNet does: whoami, repo creation, the commit API
(preupload + NDJSON commit, regular and LFS files), tags, refs, repo info, tree listings, file resolution
(HEAD and GET, with the headers and X-Error-Code values of the real Hub), the LFS batch API with basic
transfer, and Space variables. Xet transfer is not spoken: in LFS mode clients need HF_HUB_DISABLE_XET=1.
Tokens are write tokens unless `add_token` describes them otherwise (read, fine-grained): whoami reports
what a token may do, as the Hub does, and nothing else checks it. To play a connection dropped midway, a
test names the handlers whose requests get no answer in `hang_up_on`.

Storage is a directory: `objects/` holds blobs by sha256, `repos/<type>s/<namespace>/<name>.json` holds a
repo's settings, branches, tags and commits (each commit a full snapshot: path -> blob; a Space's commit
also records the variables its build runs with). Start it with
`HubServer(storage, tokens).start()`, or from a shell:

    python tests/hub_server.py --storage DIR --token T=USER [--token T2=USER2] [--lfs] [--port N]
"""

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

# What the real Hub commits first into a new repo.
INITIAL_GITATTRIBUTES = b"*.keras filter=lfs diff=lfs merge=lfs -text\n*.h5 filter=lfs diff=lfs merge=lfs -text\n"
# Like the Hub: in LFS mode, binary files and big ones go through LFS, text stays in git.
LFS_THRESHOLD_BYTES = 10 * 1024 * 1024
# Never touched by a test; the format the Hub's clients parse ('%Y-%m-%dT%H:%M:%S.%fZ').
LAST_MODIFIED = "2026-01-01T00:00:00.000Z"
COMMIT_ID = re.compile(r"^[0-9a-f]{40}$")
REPO_TYPES = {"models": "model", "spaces": "space", "datasets": "dataset"}
URL_PREFIXES = {"model": "", "space": "spaces/", "dataset": "datasets/"}
# whoami's auth.accessToken for a classic write token, the kind every token given to HubServer is.
WRITE_ACCESS = {"displayName": "test token", "role": "write"}


class HubHTTPError(Exception):
    """An answer other than 2xx, with the headers the Hub's clients map to their exceptions."""

    def __init__(self, status, message, error_code=None, extra_headers=None, extra_body=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.body = {"error": message, **(extra_body or {})}
        self.headers = {
            "X-Error-Message": message,
            **({"X-Error-Code": error_code} if error_code else {}),
            **(extra_headers or {}),
        }


class HangUp(Exception):
    """Close the connection without an answer, as a connection dropped mid-transfer does."""


def fine_grained_access(*scoped, global_permissions=()):
    """whoami's auth.accessToken for a fine-grained token, in the Hub's shape. Each of `scoped` is
    (entity type: "user", "org" or "model", entity name, [permissions such as "repo.content.read", "repo.write"])."""
    return {
        "displayName": "fine-grained test token",
        "role": "fineGrained",
        "createdAt": LAST_MODIFIED,
        "fineGrained": {
            "canReadGatedRepos": False,
            "global": list(global_permissions),
            "scoped": [
                {
                    "entity": {"_id": hashlib.md5(name.encode()).hexdigest()[:24], "type": kind, "name": name},
                    "permissions": list(permissions),
                }
                for kind, name, permissions in scoped
            ],
        },
    }


def git_blob_id(content):
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


class HubStorage:
    """Repos, commits and blobs in a directory. Every method runs under one lock: tests are small."""

    def __init__(self, root):
        self.root = Path(root)
        (self.root / "objects").mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()

    # --- blobs, by sha256 ---
    def blob_path(self, sha256):
        return self.root / "objects" / sha256

    def has_blob(self, sha256):
        return self.blob_path(sha256).is_file()

    def put_blob(self, content):
        sha256 = hashlib.sha256(content).hexdigest()
        path = self.blob_path(sha256)
        if not path.is_file():
            temporary = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
            temporary.write_bytes(content)
            temporary.replace(path)
        return sha256

    def read_blob(self, sha256):
        return self.blob_path(sha256).read_bytes()

    # --- repos ---
    def repo_path(self, repo_type, repo_id):
        return self.root / "repos" / f"{repo_type}s" / f"{repo_id}.json"

    def load(self, repo_type, repo_id):
        path = self.repo_path(repo_type, repo_id)
        return json.loads(path.read_text()) if path.is_file() else None

    def save(self, repo_type, repo_id, repo):
        path = self.repo_path(repo_type, repo_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(repo, indent=1))
        temporary.replace(path)

    def create(self, repo_type, repo_id, owner, private, sdk=None, variables=None):
        repo = {
            "owner": owner,
            "private": private,
            "sdk": sdk,
            "branches": {},
            "tags": {},
            "commits": {},
            "variables": variables or {},
        }
        entry = self.file_entry(INITIAL_GITATTRIBUTES, lfs=False)
        self.add_commit(repo, "main", {".gitattributes": entry}, "initial commit")
        self.save(repo_type, repo_id, repo)
        return repo

    def file_entry(self, content, lfs):
        sha256 = self.put_blob(content)
        return {"sha256": sha256, "size": len(content), "lfs": lfs, "oid": sha256 if lfs else git_blob_id(content)}

    @staticmethod
    def add_commit(repo, branch, files, message):
        parent = repo["branches"].get(branch)
        digest = hashlib.sha1(json.dumps([parent, files, message, time.time_ns()], sort_keys=True).encode())
        commit_id = digest.hexdigest()
        repo["commits"][commit_id] = {"parent": parent, "message": message, "files": files}
        if repo["sdk"] is not None:  # a Space: each commit starts a build, which sees the variables of that moment
            repo["commits"][commit_id]["variables"] = {
                key: variable["value"] for key, variable in repo["variables"].items()
            }
        repo["branches"][branch] = commit_id
        return commit_id

    @staticmethod
    def resolve(repo, revision):
        """The commit id of a branch, tag or commit id; None when the repo has no such revision."""
        if revision in repo["branches"]:
            return repo["branches"][revision]
        if revision in repo["tags"]:
            return repo["tags"][revision]
        return revision if revision in repo["commits"] else None


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    user: str | None  # the owner of a valid bearer token
    access: dict | None  # what whoami says of that token (its auth.accessToken)
    bad_token: bool  # a bearer token was given and it is not a valid one


class HubServer:
    """The server: `start()` it on 127.0.0.1 (port 0 picks a free one), read `url`, `stop()` it."""

    def __init__(self, storage, tokens, lfs=False, host="127.0.0.1", port=0):
        self.storage = HubStorage(storage)
        self.tokens = dict(tokens)
        self.token_access = {}  # token -> whoami's auth.accessToken, for tokens other than write tokens
        self.lfs = lfs
        self.hang_up_on = set()  # names of handlers (e.g. "commit") whose requests get no answer
        self.pending_uploads = {}  # upload id -> (sha256, size): the LFS upload hrefs handed out
        handler = type("Handler", (HubRequestHandler,), {"hub": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = None

    @property
    def url(self):
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        """Stop serving and close the port; a test may stop it early to play "the network is down"."""
        if self.thread is not None:
            self.httpd.shutdown()
            self.thread.join()
            self.thread = None
        self.httpd.server_close()

    def add_repo(self, repo_id, owner, files, private=False, repo_type="model"):
        """A repo made directly in storage, with `files` ({path: bytes}) committed on main; returns the commit
        id. For tests that need a repo no client would push, such as one without model.keras."""
        with self.storage.lock:
            repo = self.storage.create(repo_type, repo_id, owner, private)
            entries = dict(repo["commits"][repo["branches"]["main"]]["files"])
            entries.update({path: self.storage.file_entry(content, lfs=False) for path, content in files.items()})
            commit_id = HubStorage.add_commit(repo, "main", entries, "add files")
            self.storage.save(repo_type, repo_id, repo)
        return commit_id

    def add_token(self, token, user, access):
        """A valid token of `user` that whoami describes as `access`, e.g. fine_grained_access(...)."""
        self.tokens[token] = user
        self.token_access[token] = access

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- access rules ---
    def readable_repo(self, request, repo_type, repo_id):
        """The repo, or the Hub's answer for a missing one or a private one the caller may not see."""
        repo = self.storage.load(repo_type, repo_id)
        if repo is None or (repo["private"] and request.user != repo["owner"]):
            if request.user is None:  # the Hub answers 401 to anonymous callers, whether or not it exists
                raise HubHTTPError(401, "Invalid username or password.", "RepoNotFound")
            raise HubHTTPError(404, "Repository not found", "RepoNotFound")
        return repo

    def writable_repo(self, request, repo_type, repo_id):
        repo = self.readable_repo(request, repo_type, repo_id)
        if request.user != repo["owner"]:
            raise HubHTTPError(403, f"You don't have the rights to write to {repo_id}")
        return repo

    @staticmethod
    def commit_of(repo, revision):
        commit_id = HubStorage.resolve(repo, unquote(revision))
        if commit_id is None:
            raise HubHTTPError(404, f"Invalid rev id: {unquote(revision)}", "RevisionNotFound")
        return commit_id

    # --- routes: (method, regex, handler); the first match wins ---
    def route(self, request):
        if request.bad_token:  # the real Hub refuses a bad token even where no token is needed
            raise invalid_token()
        repo = r"(?P<repo_id>[\w.-]+/[\w.-]+)"
        kind = r"(?P<kind>models|spaces|datasets)"
        routes = [
            ("GET", r"/api/whoami-v2", self.whoami),
            ("POST", r"/api/repos/create", self.create_repo),
            ("POST", r"/api/validate-yaml", self.validate_yaml),
            ("POST", rf"/api/{kind}/{repo}/preupload/(?P<revision>[^/]+)", self.preupload),
            ("POST", rf"/api/{kind}/{repo}/commit/(?P<revision>[^/]+)", self.commit),
            ("POST", rf"/api/{kind}/{repo}/tag/(?P<revision>[^/]+)", self.create_tag),
            ("GET", rf"/api/{kind}/{repo}/refs", self.refs),
            ("GET", rf"/api/{kind}/{repo}/tree/(?P<revision>[^/]+)(?:/(?P<path>.+))?", self.tree),
            ("GET", rf"/api/spaces/{repo}/variables", self.space_variables),
            ("POST", rf"/api/spaces/{repo}/variables", self.set_space_variable),
            ("GET", rf"/api/{kind}/{repo}(?:/revision/(?P<revision>[^/]+))?", self.repo_info),
            (
                "HEAD|GET",
                rf"/(?:(?P<prefix>spaces|datasets)/)?{repo}/resolve/(?P<revision>[^/]+)/(?P<path>.+)",
                self.resolve,
            ),
            ("POST", rf"/(?:(?P<prefix>spaces|datasets)/)?{repo}\.git/info/lfs/objects/batch", self.lfs_batch),
            ("PUT", r"/lfs-upload/(?P<upload_id>\w+)", self.lfs_upload),
            ("POST", r"/lfs-verify", self.lfs_verify),
        ]
        for method, pattern, handler in routes:
            match = re.fullmatch(pattern, request.path)
            if match and request.method in method.split("|"):
                arguments = {key: value for key, value in match.groupdict().items() if key not in ("kind", "prefix")}
                if "kind" in match.groupdict():
                    arguments["repo_type"] = REPO_TYPES[match["kind"]]
                elif "prefix" in match.groupdict():
                    arguments["repo_type"] = {"spaces": "space", "datasets": "dataset"}.get(match["prefix"], "model")
                if handler.__name__ in self.hang_up_on:
                    raise HangUp()
                with self.storage.lock:
                    return handler(request, **arguments)
        raise HubHTTPError(404, f"No route for {request.method} {request.path}")

    def repo_url(self, repo_type, repo_id):
        return f"{self.url}/{URL_PREFIXES[repo_type]}{repo_id}"

    # --- handlers: each returns (status, headers, body: dict | list | bytes) ---
    def whoami(self, request):
        if request.user is None:
            raise invalid_token()
        return (
            200,
            {},
            {
                "type": "user",
                "name": request.user,
                "fullname": request.user,
                "orgs": [],
                "auth": {"type": "access_token", "accessToken": request.access},
            },
        )

    def create_repo(self, request):
        if request.user is None:
            raise invalid_token()
        payload = json.loads(request.body)
        repo_type = payload.get("type") or "model"
        namespace = payload.get("organization") or request.user
        repo_id = f"{namespace}/{payload['name']}"
        if namespace != request.user:
            raise HubHTTPError(
                403, f'You don\'t have the rights to create a {repo_type} under the namespace "{namespace}"'
            )
        if repo_type == "space" and payload.get("sdk") not in ("gradio", "docker", "static", "streamlit"):
            raise HubHTTPError(400, "A Space needs an sdk")
        url = self.repo_url(repo_type, repo_id)
        if self.storage.load(repo_type, repo_id) is not None:
            # huggingface_hub's create_repo(exist_ok=True) reads the URL from this answer.
            raise HubHTTPError(409, f"You already created this {repo_type} repo", extra_body={"url": url})
        private = payload.get("visibility") == "private" or bool(payload.get("private"))
        variables = {
            item["key"]: {"value": item["value"], "description": item.get("description"), "updatedAt": LAST_MODIFIED}
            for item in payload.get("variables") or []
        }
        self.storage.create(repo_type, repo_id, request.user, private, sdk=payload.get("sdk"), variables=variables)
        return 200, {}, {"url": url, "name": repo_id}

    def validate_yaml(self, request):
        content = json.loads(request.body).get("content", "")
        if content.startswith("---") and "\n---" not in content[3:]:
            return 400, {}, {"errors": [{"message": "The YAML front matter is not closed with ---"}], "warnings": []}
        return 200, {}, {"errors": [], "warnings": []}

    def preupload(self, request, repo_type, repo_id, revision):
        repo = self.writable_repo(request, repo_type, repo_id)
        head = repo["branches"].get(unquote(revision))
        existing = repo["commits"][head]["files"] if head else {}
        answers = []
        for file in json.loads(request.body)["files"]:
            binary = b"\0" in base64.b64decode(file["sample"])
            mode = "lfs" if self.lfs and (binary or file["size"] >= LFS_THRESHOLD_BYTES) else "regular"
            remote = existing.get(file["path"])
            answers.append(
                {
                    "path": file["path"],
                    "uploadMode": mode,
                    "shouldIgnore": False,
                    "oid": remote["oid"] if remote else None,
                }
            )
        return 200, {}, {"files": answers, "commitOid": head}

    def commit(self, request, repo_type, repo_id, revision):
        repo = self.writable_repo(request, repo_type, repo_id)
        branch = unquote(revision)
        if branch not in repo["branches"]:
            raise HubHTTPError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
        files = dict(repo["commits"][repo["branches"][branch]]["files"])
        message = ""
        for line in request.body.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            value = item["value"]
            if item["key"] == "header":
                message = value["summary"]
                if value.get("parentCommit") not in (None, repo["branches"][branch]):
                    raise HubHTTPError(412, "A commit has happened since. Please refresh and try again.")
            elif item["key"] == "file":
                files[value["path"]] = self.storage.file_entry(base64.b64decode(value["content"]), lfs=False)
            elif item["key"] == "lfsFile":
                if not self.storage.has_blob(value["oid"]):
                    raise HubHTTPError(422, f"LFS object {value['oid']} of {value['path']} was never uploaded")
                files[value["path"]] = {"sha256": value["oid"], "size": value["size"], "lfs": True, "oid": value["oid"]}
            elif item["key"] == "deletedFile":
                if files.pop(value["path"], None) is None:
                    raise HubHTTPError(404, "A file with this name doesn't exist", "EntryNotFound")
            elif item["key"] == "deletedFolder":
                files = {
                    path: entry for path, entry in files.items() if not path.startswith(value["path"].rstrip("/") + "/")
                }
            else:
                raise HubHTTPError(400, f"Unknown commit operation {item['key']!r}")
        commit_id = HubStorage.add_commit(repo, branch, files, message)
        self.storage.save(repo_type, repo_id, repo)
        return (
            200,
            {},
            {
                "success": True,
                "commitOid": commit_id,
                "pullRequestUrl": None,
                "commitUrl": f"{self.repo_url(repo_type, repo_id)}/commit/{commit_id}",
            },
        )

    def create_tag(self, request, repo_type, repo_id, revision):
        repo = self.writable_repo(request, repo_type, repo_id)
        commit_id = self.commit_of(repo, revision)
        tag = json.loads(request.body)["tag"]
        if tag in repo["tags"]:
            raise HubHTTPError(409, f"Tag {tag} already exists")
        repo["tags"][tag] = commit_id
        self.storage.save(repo_type, repo_id, repo)
        return 200, {}, {}

    def refs(self, request, repo_type, repo_id):
        repo = self.readable_repo(request, repo_type, repo_id)

        def listed(kind, refs):
            return [
                {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": commit} for name, commit in refs.items()
            ]

        return (
            200,
            {},
            {
                "branches": listed("heads", repo["branches"]),
                "tags": listed("tags", repo["tags"]),
                "converts": [],
                "pullRequests": [],
            },
        )

    def tree(self, request, repo_type, repo_id, revision, path=None):
        repo = self.readable_repo(request, repo_type, repo_id)
        files = repo["commits"][self.commit_of(repo, revision)]["files"]
        base = f"{unquote(path).strip('/')}/" if path else ""
        recursive = request.query.get("recursive", ["false"])[0].lower() == "true"
        entries, folders = [], set()
        for file_path in sorted(files):
            if not file_path.startswith(base):
                continue
            parts = file_path[len(base) :].split("/")
            for depth in range(1, len(parts) if recursive else min(len(parts), 2)):
                folders.add(base + "/".join(parts[:depth]))
            if recursive or len(parts) == 1:
                entries.append(tree_file(file_path, files[file_path]))
        if base and not entries and not folders:
            raise HubHTTPError(404, f"{path} does not exist", "EntryNotFound")
        entries += [
            {"type": "directory", "path": folder, "oid": hashlib.sha1(folder.encode()).hexdigest(), "size": 0}
            for folder in sorted(folders)
        ]
        return 200, {}, entries

    def repo_info(self, request, repo_type, repo_id, revision=None):
        repo = self.readable_repo(request, repo_type, repo_id)
        commit_id = self.commit_of(repo, revision or "main")
        files = repo["commits"][commit_id]["files"]
        info = {
            "id": repo_id,
            "_id": hashlib.md5(repo_id.encode()).hexdigest()[:24],
            "author": repo["owner"],
            "sha": commit_id,
            "private": repo["private"],
            "disabled": False,
            "gated": False,
            "lastModified": LAST_MODIFIED,
            "createdAt": LAST_MODIFIED,
            "tags": [],
            "likes": 0,
            "downloads": 0,
            "siblings": [{"rfilename": path} for path in sorted(files)],
        }
        if repo_type == "space":
            info["sdk"] = repo["sdk"]
        return 200, {}, info

    def resolve(self, request, repo_type, repo_id, revision, path):
        repo = self.readable_repo(request, repo_type, repo_id)
        commit_id = self.commit_of(repo, revision)
        entry = repo["commits"][commit_id]["files"].get(unquote(path))
        if entry is None:
            raise HubHTTPError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": commit_id})
        headers = {
            "X-Repo-Commit": commit_id,
            "ETag": f'"{entry["oid"]}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        if request.method == "HEAD":
            return 200, {**headers, "Content-Length": str(entry["size"])}, None
        content = self.storage.read_blob(entry["sha256"])
        ranged = re.fullmatch(r"bytes=(\d+)-(\d*)", request.headers.get("range", ""))
        if ranged:
            start, end = int(ranged[1]), int(ranged[2] or len(content) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(content)}"
            return 206, headers, content[start : end + 1]
        return 200, headers, content

    def lfs_batch(self, request, repo_type, repo_id):
        self.writable_repo(request, repo_type, repo_id)
        payload = json.loads(request.body)
        if payload.get("operation") != "upload" or "basic" not in payload.get("transfers", ["basic"]):
            raise HubHTTPError(422, "This server only takes uploads, with the basic transfer")
        objects = []
        for item in payload["objects"]:
            answer = {"oid": item["oid"], "size": item["size"], "authenticated": True}
            if not self.storage.has_blob(item["oid"]):
                upload_id = secrets.token_hex(16)
                self.pending_uploads[upload_id] = (item["oid"], item["size"])
                answer["actions"] = {
                    "upload": {"href": f"{self.url}/lfs-upload/{upload_id}"},
                    "verify": {"href": f"{self.url}/lfs-verify"},
                }
            objects.append(answer)
        return 200, {"Content-Type": "application/vnd.git-lfs+json"}, {"transfer": "basic", "objects": objects}

    def lfs_upload(self, request, upload_id):
        # Like a signed S3 URL: the href itself is the credential, so no token comes with it.
        if upload_id not in self.pending_uploads:
            raise HubHTTPError(403, "Unknown or used upload URL")
        sha256, size = self.pending_uploads.pop(upload_id)
        if len(request.body) != size or hashlib.sha256(request.body).hexdigest() != sha256:
            raise HubHTTPError(400, "The uploaded content does not match its oid and size")
        self.storage.put_blob(request.body)
        return 200, {"ETag": f'"{sha256}"'}, {}

    def lfs_verify(self, request):
        if request.user is None:
            raise invalid_token()
        item = json.loads(request.body)
        if not self.storage.has_blob(item["oid"]):
            raise HubHTTPError(404, f"LFS object {item['oid']} not found")
        return 200, {}, {}

    def space_variables(self, request, repo_id):
        return 200, {}, self.writable_repo(request, "space", repo_id)["variables"]

    def set_space_variable(self, request, repo_id):
        repo = self.writable_repo(request, "space", repo_id)
        payload = json.loads(request.body)
        repo["variables"][payload["key"]] = {
            "value": payload["value"],
            "description": payload.get("description"),
            "updatedAt": LAST_MODIFIED,
        }
        self.storage.save("space", repo_id, repo)
        return 200, {}, repo["variables"]


def invalid_token():
    # huggingface_hub tells this message apart from a hidden repo's 401.
    return HubHTTPError(401, "Invalid credentials in Authorization header")


def tree_file(path, entry):
    listed = {"type": "file", "path": path, "size": entry["size"], "oid": entry["oid"]}
    if entry["lfs"]:
        listed["oid"] = git_blob_id(
            f"version https://git-lfs.github.com/spec/v1\noid sha256:{entry['sha256']}\nsize {entry['size']}\n".encode()
        )
        listed["lfs"] = {"oid": entry["sha256"], "size": entry["size"], "pointerSize": 134}
    return listed


class HubRequestHandler(BaseHTTPRequestHandler):
    hub: HubServer  # set on the subclass that HubServer makes

    def do_GET(self):
        self.answer()

    do_HEAD = do_POST = do_PUT = do_GET

    def log_message(self, format, *args):
        pass  # quiet test logs; failures show in the clients' errors

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def answer(self):
        url = urlsplit(self.path)
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip() or None
        user = self.hub.tokens.get(token)
        request = Request(
            self.command,
            url.path,
            parse_qs(url.query),
            {k.lower(): v for k, v in self.headers.items()},
            self.read_body(),
            user,
            self.hub.token_access.get(token, WRITE_ACCESS) if user else None,
            token is not None and user is None,
        )
        try:
            status, headers, body = self.hub.route(request)
        except HangUp:
            self.close_connection = True
            return
        except HubHTTPError as error:
            status, headers, body = error.status, error.headers, error.body
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **headers}
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body is not None and self.command != "HEAD":
            self.wfile.write(body)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve a local Hugging Face Hub-compatible API for tests.")
    parser.add_argument("--storage", required=True, help="directory for repos and blobs (kept between runs)")
    parser.add_argument(
        "--token", action="append", default=[], metavar="TOKEN=USER", help="a valid bearer token and its user"
    )
    parser.add_argument(
        "--lfs",
        action="store_true",
        help="ask clients to send binary files through LFS (clients need HF_HUB_DISABLE_XET=1)",
    )
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args(argv)
    tokens = dict(token.split("=", 1) for token in options.token)
    server = HubServer(os.path.abspath(options.storage), tokens, lfs=options.lfs, port=options.port)
    print(server.url, flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
