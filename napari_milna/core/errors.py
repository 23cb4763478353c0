"""The one exception type for bad user input."""

from __future__ import annotations

import os


class MilnaInputError(ValueError):
    """Input the user gave cannot be used.

    The message is one sentence that names the file (when there is one) and says
    what is wrong with it. The CLI prints it on one line and exits with status 2;
    the viewer shows it as a notification.
    """


def input_error(path: str | os.PathLike | None, problem: str) -> MilnaInputError:
    """Build a :class:`MilnaInputError` whose message names ``path``.

    Parameters
    ----------
    path : str or path-like or None
        The offending file; ``None`` when the problem is not tied to one file.
    problem : str
        What is wrong, as the end of a sentence (``"is not a NIfTI file"``).

    Returns
    -------
    MilnaInputError
    """
    problem = problem.strip().rstrip(".")
    text = (
        f"{os.fspath(path)}: {problem}."
        if path is not None
        else f"{problem[:1].upper()}{problem[1:]}."
    )
    return MilnaInputError(" ".join(text.split()))
