"""A clone without the shared test data: the tests that need it skip, all for one reason, and
the rest run; CI's POSED_REQUIRE_SHARED=1 turns the missing folder into a failure."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

# One module that needs the data through a helper module (tests/mqtt_support.py), one that holds
# a shared path itself, one that asks through a fixture, and one that needs nothing.
MODULES = [
    "tests/test_mqtt_payloads.py",
    "tests/test_events_estimate.py",
    "tests/test_models_fetch.py",
    "tests/test_evaluation_cli.py",  # its own skipif for the footage folder must not win
    "tests/test_mqtt_outbox.py",
]


def _pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "POSED_REQUIRE_SHARED"}
    environ.update({"POSED_SHARED_DIR": str(tmp_path / "empty"), **env})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *MODULES],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=environ,
        timeout=300,
        check=False,
    )


def test_without_the_shared_data_its_tests_skip_for_one_reason(tmp_path: Path) -> None:
    """Guards: every test that needs ../shared is skipped (none fails or errors), each saying the
    data is missing and where it was expected; the others still run and pass."""
    (tmp_path / "empty").mkdir()
    result = _pytest(tmp_path)
    out = result.stdout
    assert result.returncode == 0, out[-3000:]
    summary = re.search(r"(\d+) passed, (\d+) skipped", out)
    assert summary is not None, out[-2000:]
    assert int(summary.group(1)) > 0 and int(summary.group(2)) > 0
    reasons = {line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("SKIPPED")}
    assert reasons == {
        f"the shared test data is missing: expected {tmp_path / 'empty' / 'models'} "
        "(set POSED_SHARED_DIR; see docs/development.md, 'The shared test data')"
    }, reasons


def test_ci_requires_the_shared_data(tmp_path: Path) -> None:
    """Guards: with POSED_REQUIRE_SHARED=1 (as .ci/run sets it) a missing folder stops the run."""
    result = _pytest(tmp_path, POSED_REQUIRE_SHARED="1")
    assert result.returncode != 0
    assert "the shared test data is missing" in result.stdout + result.stderr
    ci = (REPO / ".ci" / "run").read_text()
    assert "export POSED_REQUIRE_SHARED=1" in ci
