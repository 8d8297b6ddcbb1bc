"""`posed models verify`: re-hashes the store and reports corrupt, missing, unknown and partial files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from posed.cli.main import main
from posed.models.download import DownloadPolicy
from posed.models.fetch import Fetcher
from posed.models.sources import SourceOptions
from posed.models.store import STAGING_PREFIX
from tests.models_support import isolate


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, models_dir: Path) -> Path:
    path = isolate(monkeypatch, tmp_path)
    options = SourceOptions(order=("local",), local_dirs=(models_dir,), policy=DownloadPolicy(progress=False))
    with Fetcher(path, options) as fetcher:
        fetcher.fetch_model("blazepose-lite")
        fetcher.fetch_model("posenet-mobilenet-075-353x481")
    return path


def verify(store: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    code = main(["models", "verify", "--model-dir", str(store), "--json"])
    report = json.loads(capsys.readouterr().out)
    return code, {f["name"]: f["status"] for f in report["files"]}


def test_a_good_store_verifies(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, statuses = verify(store, capsys)
    assert code == 0
    assert statuses == {
        "pose_detection.tflite": "ok",
        "pose_landmark_lite.tflite": "ok",
        "posenet_mobilenet_v1_075_353_481_quant.tflite": "ok",
    }


def test_verify_catches_a_flipped_byte(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = store / "pose_landmark_lite.tflite"
    data = bytearray(target.read_bytes())
    data[len(data) // 3] ^= 0x10
    target.write_bytes(bytes(data))
    code = main(["models", "verify", "--model-dir", str(store)])
    out = capsys.readouterr().out
    assert code == 1
    line = next(line for line in out.splitlines() if "pose_landmark_lite.tflite" in line)
    assert line.startswith("corrupt")
    assert "posed models fetch --force pose_landmark_lite.tflite" in line
    assert "1 corrupt" in out and "2 ok" in out


def test_verify_reports_unknown_partial_missing_and_uncorrected_files(
    store: Path, models_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (store / "notes.txt").write_text("mine")
    (store / f"{STAGING_PREFIX}abc").mkdir()
    shutil.copy(models_dir / "posenet_mobilenet_v1_075_481_641_quant.tflite", store)
    code, statuses = verify(store, capsys)
    assert code == 0, "unknown, partial and uncorrected files are reported, not failures"
    assert statuses["notes.txt"] == "unknown"
    assert statuses[f"{STAGING_PREFIX}abc"] == "partial"
    assert statuses["posenet_mobilenet_v1_075_481_641_quant.tflite"] == "uncorrected"
    (store / "pose_detection.tflite").unlink()
    code, statuses = verify(store, capsys)
    assert code == 1
    assert statuses["pose_detection.tflite"] == "missing"


def test_verify_checks_the_checksum_pinned_at_import(
    store: Path, models_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Guards: `posed models verify` checks every file against the checksum pinned in the store,
    also for a model no registry publishes a checksum for (imported, or --allow-unverified):
    a tampered copy reads "corrupt" and exits 1, never "unverified" and 0."""
    source = models_dir / "posenet_mobilenet_v1_075_481_641_quant.tflite"
    assert main(["models", "import", str(source), "--name", "mine", "--model-dir", str(store)]) == 0
    capsys.readouterr()
    code, statuses = verify(store, capsys)
    assert (code, statuses["mine.tflite"]) == (0, "ok")
    target = store / "mine.tflite"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    code, statuses = verify(store, capsys)
    assert (code, statuses["mine.tflite"]) == (1, "corrupt")
