"""A test folder that cannot run here (no Docker, no deployed stack) skips as a whole, with one line.

A skip raised while pytest collects a folder is reported once, where a skip in each test prints a line per test. A run
of that folder alone then collects nothing, which pytest reports as exit status 5 ("no tests ran"): tests/conftest.py
turns that into 0, because the skip is the documented outcome, not a failure.
"""

from typing import NoReturn

import pytest

SKIPPED_FOLDER = pytest.StashKey[str]()


def skip_folder(config: pytest.Config, reason: str) -> NoReturn:
    """Skips the folder being collected, saying what is missing and what provides it; the skip line names the caller."""
    __tracebackhide__ = True
    config.stash[SKIPPED_FOLDER] = reason
    pytest.skip(reason, allow_module_level=True)


def passed_by_skipping(session: pytest.Session, exitstatus: int) -> bool:
    """Whether the run collected nothing only because a folder skipped as a whole."""
    return exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and SKIPPED_FOLDER in session.config.stash
