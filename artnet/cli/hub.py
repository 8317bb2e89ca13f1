"""Push a model folder to a Hub model repo, or pull one into the cache:

python -m artnet.cli.hub push FOLDER USER/REPO [--private] [--tag NAME]
python -m artnet.cli.hub pull USER/REPO[@REVISION]
"""

import argparse
import sys

from artnet.hub.pull import pull
from artnet.hub.push import push
from artnet.hub.repos import HubError


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m artnet.cli.hub", description="Push or pull an ArtNet model folder."
    )
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
            print(
                f"Pushed {options.folder} to {result.repo_url} at commit {result.commit_id}"
                + (f" (tag {result.tag})" if result.tag else "")
                + f". Serve it with: python app.py --model {result.spec}"
            )
        else:
            source = pull(options.spec)
            print(source.folder)
    except HubError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
