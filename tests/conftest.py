from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
MODELS = SHARED / "models"
CONFORMANCE = SHARED / "conformance"
MEDIA = SHARED / "media"
POSED = [sys.executable, "-m", "posed"]


@pytest.fixture(scope="session")
def shared() -> Path:
    if not MODELS.is_dir():
        pytest.fail(f"the shared test data is missing: expected {MODELS} (set POSED_SHARED_DIR)")
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
