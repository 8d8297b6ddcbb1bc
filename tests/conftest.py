from __future__ import annotations

import functools
import os
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
MODELS = SHARED / "models"
CONFORMANCE = SHARED / "conformance"
MEDIA = SHARED / "media"
POSED = [sys.executable, "-m", "posed"]

# The shared test data (models, conformance data, footage) lives beside the repository and is
# never copied into it. Without it, every test that needs it is skipped, all for this one reason;
# CI sets POSED_REQUIRE_SHARED=1 (.ci/run), which makes the missing folder a failure instead.
SHARED_MISSING = (
    f"the shared test data is missing: expected {MODELS} "
    "(set POSED_SHARED_DIR; see docs/development.md, 'The shared test data')"
)
SHARED_REQUIRED = os.environ.get("POSED_REQUIRE_SHARED") == "1"
SHARED_FIXTURES = frozenset({"shared", "models_dir"})
_SHARED_ROOTS = (SHARED, MODELS, CONFORMANCE, MEDIA)


def shared_present() -> bool:
    return MODELS.is_dir()


def needs_shared(item: pytest.Item) -> bool:
    """A test needs the shared data when it asks for it (the `shared` or `models_dir` fixture,
    or the `shared_data` marker), or when its module, or a test helper module it uses, holds a
    path into the shared folder (e.g. `CLIP = CONFORMANCE / ...`, or tests/daemon_harness.py)."""
    if SHARED_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("shared_data"):
        return True
    module = getattr(item, "module", None)
    return module is not None and _module_needs_shared(module.__name__)


@functools.cache
def _module_needs_shared(name: str) -> bool:
    module = sys.modules.get(name)
    if module is None or name == __name__:
        return False
    values = list(vars(module).values())
    if any(_under_shared(value) for value in values):
        return True
    helpers = {_helper_of(value) for value in values} - {None, name}
    return any(_module_needs_shared(helper) for helper in helpers if helper is not None)


def _helper_of(value: object) -> str | None:
    """The test helper module (tests.something) a global of a test module comes from, if any."""
    owner = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
    return owner if isinstance(owner, str) and owner.startswith("tests.") else None


def _under_shared(value: object) -> bool:
    if not isinstance(value, Path):
        return False
    return any(value == root or value.is_relative_to(root) for root in _SHARED_ROOTS)


def pytest_sessionstart(session: pytest.Session) -> None:
    if SHARED_REQUIRED and not shared_present():
        pytest.exit(f"{SHARED_MISSING}; POSED_REQUIRE_SHARED=1 requires it", returncode=4)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shared_present():
        return
    # A skipif, first in line: pytest weighs skipif marks before skip marks, so this reason wins
    # over a module's own skipif (e.g. one footage folder) and an empty parameter set alike.
    skip = pytest.mark.skipif(True, reason=SHARED_MISSING)
    for item in items:
        if needs_shared(item):
            item.add_marker(skip, append=False)


@pytest.fixture(scope="session")
def shared() -> Path:
    if not shared_present():
        pytest.skip(SHARED_MISSING)  # reached only through a fixture the collection hook missed
    return SHARED


@pytest.fixture(scope="session")
def models_dir(shared: Path) -> Path:
    return shared / "models"


@pytest.fixture(scope="module")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """XDG_CACHE_HOME in a temporary folder for one test module: PoseNet's corrected model
    copies and other cached files stay out of the user's cache."""
    home = tmp_path_factory.mktemp("xdg")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(home))
        yield home
