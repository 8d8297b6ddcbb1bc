"""`posed models import`: recognise the layout, refuse what posed cannot run (saying why),
correct Coral's files, and make the model usable by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from posed.cli.main import main
from posed.errors import ModelError
from posed.models.importer import import_model
from posed.models.registry import read_store_registry
from posed.models.resolve import resolve_named
from posed.posenet.quantfix import needs_fix
from posed.tflite_file import read_model_info
from tests.conftest import CONFORMANCE
from tests.models_support import isolate, with_custom_code, with_posenet_decoder, without_last_output

CORAL_481 = "posenet_mobilenet_v1_075_481_641_quant.tflite"
COUPLE = CONFORMANCE / "coral-posenet" / "test_couple.jpg"
POSE = CONFORMANCE / "tfjs-pose-detection" / "pose.jpg"


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


def estimate(argv: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    assert main(["estimate", *argv]) == 0
    result: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return result


def test_coral_posenet_is_corrected_and_usable_by_name(
    store: Path, models_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["models", "import", str(models_dir / CORAL_481), "--name", "my-posenet", "--model-dir", str(store)]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Coral layout" in out and "481x641, stride 16" in out and "corrected" in out
    stored = store / "my-posenet.tflite"
    assert not needs_fix(stored)
    resolved = resolve_named("my-posenet", [store])
    assert (resolved.family, resolved.files) == ("posenet", {"main": stored})
    assert read_store_registry(store).models["my-posenet"].keypoints == "coco-17"
    # The imported model gives exactly what the packaged one does (which is corrected on load).
    mine = estimate(["--model", "my-posenet", "--model-dir", str(store), str(COUPLE)], capsys)
    packaged = estimate(
        ["--model", "posenet-mobilenet-075-481x641", "--model-dir", str(models_dir), str(COUPLE)], capsys
    )
    assert mine[0]["poses"] and mine[0]["poses"] == packaged[0]["poses"]
    assert main(["models", "list", "--model-dir", str(store)]) == 0
    assert "imported from" in capsys.readouterr().out


def test_blazepose_landmarks_import_with_the_standard_detector(
    store: Path, models_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lite = models_dir / "pose_landmark_lite.tflite"
    with pytest.raises(ModelError, match=r"posed models fetch pose_detection\.tflite"):
        import_model(lite, store, name="my-lite")
    result = import_model(lite, store, name="my-lite", detector=models_dir / "pose_detection.tflite")
    assert result.layout.kind == "blazepose-landmarks"
    # The standard detector is recognised by checksum and shared with the packaged models.
    assert result.files == {
        "landmarks": store / "my-lite.tflite",
        "detector": store / "pose_detection.tflite",
    }
    mine = estimate(["--model", "my-lite", "--model-dir", str(store), str(POSE)], capsys)
    packaged = estimate(["--model", "blazepose-lite", "--model-dir", str(models_dir), str(POSE)], capsys)
    poses = mine[0]["poses"]
    assert isinstance(poses, list) and len(poses) == 1 and poses == packaged[0]["poses"]


def unusable(kind: str, src: Path, tmp: Path) -> Path:
    path = tmp / f"{kind}.tflite"
    if kind == "text":
        path.write_text("hello")
    elif kind == "truncated":
        path.write_bytes(src.read_bytes()[:40000])
    elif kind == "missing-output":
        without_last_output(src, path)
    else:
        with_custom_code(src, path, "MyFancyOp")
    return path


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("text", "not a TFLite model"),
        ("truncated", "truncated or corrupt"),
        ("missing-output", "neither a BlazePose model"),
        ("custom-op", "MyFancyOp"),
    ],
)
def test_unusable_files_are_refused_with_the_reason(
    store: Path, models_dir: Path, tmp_path: Path, kind: str, reason: str
) -> None:
    with pytest.raises(ModelError, match=reason):
        import_model(unusable(kind, models_dir / CORAL_481, tmp_path), store, name="bad")
    assert not any(store.glob("*.tflite"))
    assert "bad" not in read_store_registry(store).models


def test_a_detector_alone_is_refused(store: Path, models_dir: Path) -> None:
    with pytest.raises(ModelError, match=r"person detector.*--detector"):
        import_model(models_dir / "pose_detection.tflite", store)


def test_coral_decoder_op_is_removed_on_import(store: Path, models_dir: Path, tmp_path: Path) -> None:
    decoder_model = with_posenet_decoder(models_dir / CORAL_481, tmp_path / "posenet_decoder.tflite")
    result = import_model(decoder_model, store)
    assert result.name == "posenet_decoder"
    assert any("PosenetDecoderOp" in note for note in result.notes)
    info = read_model_info(store / "posenet_decoder.tflite")
    assert info.custom_ops == () and len(info.outputs) == 3


def test_edge_tpu_files_pair_with_their_cpu_model(store: Path, models_dir: Path, tmp_path: Path) -> None:
    # No edgetpu_compiler here: a stand-in declares the Edge TPU's custom operator, as compiled files do.
    tpu = with_custom_code(models_dir / CORAL_481, tmp_path / "x_edgetpu.tflite", "edgetpu-custom-op")
    with pytest.raises(ModelError, match="--edgetpu"):
        import_model(tpu, store, name="coral")
    other = with_custom_code(
        models_dir / "posenet_mobilenet_v1_075_353_481_quant.tflite",
        tmp_path / "y_edgetpu.tflite",
        "edgetpu-custom-op",
    )
    with pytest.raises(ModelError, match="does not match the CPU model"):
        import_model(models_dir / CORAL_481, store, name="coral", edgetpu=other)
    result = import_model(models_dir / CORAL_481, store, name="coral", edgetpu=tpu)
    assert result.files == {"main": store / "coral.tflite", "edgetpu": store / "coral_edgetpu.tflite"}
    assert resolve_named("coral", [store]).files["edgetpu"] == store / "coral_edgetpu.tflite"


def test_names_are_checked_and_replaced_only_with_force(store: Path, models_dir: Path) -> None:
    src = models_dir / CORAL_481
    with pytest.raises(ModelError, match="one of posed's own models"):
        import_model(src, store, name="blazepose-full")
    with pytest.raises(ModelError, match="not valid"):
        import_model(src, store, name="My Model")
    tpu = with_custom_code(src, store.parent / "t_edgetpu.tflite", "edgetpu-custom-op")
    import_model(src, store, name="mine", edgetpu=tpu)
    with pytest.raises(ModelError, match="--force"):
        import_model(src, store, name="mine")
    import_model(src, store, name="mine", force=True)
    assert not (store / "mine_edgetpu.tflite").exists(), "the replaced import's Edge TPU file is removed"
    assert set(read_store_registry(store).files) == {"mine.tflite"}
