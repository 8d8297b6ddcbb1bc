"""'Did you mean …?' for a mistyped name: one closeness rule for the command line and the config."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

CLOSE_ENOUGH = 0.6  # difflib's ratio; below it a suggestion misleads more than it helps


def did_you_mean(word: str, choices: Iterable[str], form: str = "; did you mean {!r}?") -> str:
    """`form` filled with the closest of `choices`, or '' when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=CLOSE_ENOUGH)
    return form.format(close[0]) if close else ""
