"""The one base class of errors a user can cause and fix, and the command-line parser that reports a mistake
the same way. Entry points show their message as one line."""

import argparse


class UserError(ValueError):
    """An error the user can fix; its message is one line that says how."""


class OneLineErrorParser(argparse.ArgumentParser):
    """Says what is wrong with the command line in one line, instead of argparse's usage block first."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")
