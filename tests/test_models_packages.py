"""Fetching from the package registries with their ordinary clients, for real:
the mediapipe==0.10.14 wheel through `pip download`, @mediapipe/pose through `npm pack`.

Each package is downloaded once per session (the fixtures are session-scoped; pip and
npm keep their own caches between sessions); the tests then check what was installed."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from posed.errors import ModelError
from posed.models.download import DownloadPolicy
from posed.models.fetch import Fetcher, FetchResult
from posed.models.registry import packaged_registry, read_store_registry
from posed.models.resolve import resolve_named
from posed.models.sources import SourceOptions

pytestmark = pytest.mark.slow

QUIET = DownloadPolicy(progress=False)


@pytest.fixture(scope="session")
def package_env() -> Iterator[None]:
    """pip and npm keep their usual caches; no model directory of the machine leaks in."""
    saved = {k: os.environ.get(k) for k in ("POSED_MODEL_DIR", "STATE_DIRECTORY")}
    for key in saved:
        os.environ.pop(key, None)
    yield
    for key, value in saved.items():
        if value is not None:
            os.environ[key] = value


@pytest.fixture(scope="session")
def pypi_store(tmp_path_factory: pytest.TempPathFactory, package_env: None) -> tuple[Path, list[FetchResult]]:
    store = tmp_path_factory.mktemp("pypi-store")
    with Fetcher(store, SourceOptions(order=("pypi",), policy=QUIET)) as fetcher:
        return store, fetcher.fetch_model("blazepose-full")


@pytest.fixture(scope="session")
def npm_store(tmp_path_factory: pytest.TempPathFactory, package_env: None) -> tuple[Path, list[FetchResult]]:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed (.ci/setup installs it)")
    store = tmp_path_factory.mktemp("npm-store")
    with Fetcher(store, SourceOptions(order=("npm",), policy=QUIET)) as fetcher:
        results = [fetcher.fetch_file(f"pose_landmark_{kind}.tflite") for kind in ("lite", "heavy")]
        with pytest.raises(ModelError, match="no enabled source offers it"):
            fetcher.fetch_file("pose_detection.tflite")  # @mediapipe/pose has another detector version
        return store, results


def test_the_mediapipe_wheel_provides_detector_and_full(pypi_store: tuple[Path, list[FetchResult]]) -> None:
    store, results = pypi_store
    assert [r.filename for r in results] == ["pose_detection.tflite", "pose_landmark_full.tflite"]
    for result in results:
        assert result.installed and result.verified
        assert "pip download mediapipe==0.10.14" in result.origin
        assert result.origin.startswith("mediapipe-0.10.14-")
        expected = packaged_registry().files[result.filename].sha256
        assert hashlib.sha256(result.path.read_bytes()).hexdigest() == expected
    assert read_store_registry(store).files["pose_landmark_full.tflite"].verified
    assert resolve_named("blazepose-full", [store]).files["detector"] == store / "pose_detection.tflite"


def test_the_npm_package_provides_lite_and_heavy(npm_store: tuple[Path, list[FetchResult]]) -> None:
    store, results = npm_store
    assert sorted(p.name for p in store.glob("*.tflite")) == [r.filename for r in reversed(results)]
    for result in results:
        assert (
            result.installed
            and result.verified
            and "npm pack @mediapipe/pose@0.5.1675469404" in result.origin
        )
        expected = packaged_registry().files[result.filename].sha256
        assert hashlib.sha256(result.path.read_bytes()).hexdigest() == expected
