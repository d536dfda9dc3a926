"""User-facing errors: one clear line, exit code 2, never a deep traceback."""

from __future__ import annotations


class GovsimError(Exception):
    """An error the user can fix: bad file, key, value or argument.

    The message names the file, the key path, the value given and what is allowed.
    The CLI prints it on one line and exits with code 2.
    """

    exit_code = 2
