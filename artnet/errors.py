"""The one base class of errors a user can cause and fix. Entry points show their message as one line."""


class UserError(ValueError):
    """An error the user can fix; its message is one line that says how."""
