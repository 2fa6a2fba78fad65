"""The base class of errors a user can cause and fix."""


class UserError(ValueError):
    """A bad file, option value or input, with a message that says what to do; the
    command line prints it as one line `error: ...` and exits with status 2."""
