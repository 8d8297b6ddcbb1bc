"""Correcting the clipping output quantization of Coral's decoder-less PoseNet files."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from posed.cameras.media_files import read_image
from posed.errors import ModelError
from posed.posenet import quantfix
from posed.posenet.layout import detect_layout
from posed.posenet.preprocess import InputBuilder
from posed.tflite_file import read_model_info, schema
from tests.conftest import CONFORMANCE, MODELS

SIZES = ("353_481", "481_641", "721_1281")


def coral_file(size: str = "481_641") -> Path:
    return MODELS / f"posenet_mobilenet_v1_075_{size}_quant.tflite"


def unpack(path: Path) -> Any:
    return schema().ModelT.InitFromPackedBuf(path.read_bytes(), 0)


@pytest.mark.parametrize("size", SIZES)
def test_shared_files_are_flawed_and_get_corrected(shared: Path, tmp_path: Path, size: str) -> None:
    src = coral_file(size)
    assert quantfix.needs_fix(src)
    out = quantfix.write_corrected_copy(src, tmp_path)
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    assert out.parent == tmp_path and sha[:16] in out.name and out.name.endswith(".tflite")
    assert not quantfix.needs_fix(out)
    quant = {spec.name: spec.quantization for spec in read_model_info(out).outputs}
    assert quant["float_heatmaps"] is not None and quant["float_short_offsets"] is not None
    assert quant["float_heatmaps"].scale == pytest.approx(12 / 255, rel=1e-6)
    assert quant["float_short_offsets"].scale == pytest.approx(100 / 255, rel=1e-6)
    assert quant["float_heatmaps"].zero_point == quant["float_short_offsets"].zero_point == 128
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left behind


def test_only_the_two_quantizations_change(shared: Path, tmp_path: Path) -> None:
    src = coral_file()
    before, after = unpack(src), unpack(quantfix.write_corrected_copy(src, tmp_path / "fixed.tflite"))
    assert len(before.buffers) == len(after.buffers)
    for a, b in zip(before.buffers, after.buffers, strict=True):
        assert (a.data is None and b.data is None) or np.array_equal(a.data, b.data)
    g0, g1 = before.subgraphs[0], after.subgraphs[0]
    assert list(g0.inputs) == list(g1.inputs) and list(g0.outputs) == list(g1.outputs)
    assert len(g0.operators) == len(g1.operators)
    changed = []
    for t0, t1 in zip(g0.tensors, g1.tensors, strict=True):
        assert (t0.name, list(t0.shape), t0.type, t0.buffer) == (t1.name, list(t1.shape), t1.type, t1.buffer)
        q0, q1 = t0.quantization, t1.quantization
        if q0 is None or q0.scale is None:
            continue
        if list(q0.scale) != list(q1.scale) or list(q0.zeroPoint) != list(q1.zeroPoint):
            changed.append(t0.name.decode())
    assert sorted(changed) == ["float_heatmaps", "float_short_offsets"]


def test_corrected_outputs_are_no_longer_clipped(shared: Path, tmp_path: Path) -> None:
    """Short offsets saturate at +-10 px in the original; the corrected file has the range."""
    from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415 (optional runtime)

    src = coral_file("353_481")
    fixed = quantfix.write_corrected_copy(src, tmp_path)
    info = read_model_info(src)
    tensor = InputBuilder(detect_layout(info.inputs, info.outputs))(
        read_image(CONFORMANCE / "coral-posenet" / "test_couple.jpg")
    )
    saturated = []
    for path in (src, fixed):
        interpreter = Interpreter(model_path=str(path))
        interpreter.allocate_tensors()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tensor)
        interpreter.invoke()
        (short,) = [
            interpreter.get_tensor(d["index"])
            for d in interpreter.get_output_details()
            if d["name"] == "float_short_offsets"
        ]
        saturated.append(float(np.mean((short == 0) | (short == 255))))
    assert saturated[0] > 0.2  # measured: about 40% of the original's values hit +-10 px
    assert saturated[1] < 0.05


def test_correct_files_are_left_alone(shared: Path, tmp_path: Path) -> None:
    good = quantfix.write_corrected_copy(coral_file(), tmp_path)
    assert quantfix.corrected_model(good, tmp_path / "cache") == good
    assert not (tmp_path / "cache").exists()
    other = MODELS / "pose_detection.tflite"
    assert not quantfix.needs_fix(other)
    with pytest.raises(ModelError, match="does not have Coral's clipping"):
        quantfix.write_corrected_copy(other, tmp_path)


def test_cached_copy_is_made_once_and_found_by_checksum(shared: Path, tmp_path: Path) -> None:
    src = coral_file()
    cache = tmp_path / "cache"
    first = quantfix.corrected_model(src, cache)
    assert first.parent == cache and not quantfix.needs_fix(first)
    stamp = first.stat().st_mtime_ns
    assert quantfix.corrected_model(src, cache) == first
    assert first.stat().st_mtime_ns == stamp  # reused, not rewritten


def test_flaw_is_recognised_by_quantization_not_name(shared: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "my_posenet.tflite"
    shutil.copyfile(coral_file(), renamed)
    fixed = quantfix.corrected_model(renamed, tmp_path / "cache")
    assert fixed != renamed and fixed.name.startswith("my_posenet.") and not quantfix.needs_fix(fixed)


def test_damaged_cached_copy_is_replaced(shared: Path, tmp_path: Path) -> None:
    src = coral_file()
    cache = tmp_path / "cache"
    target = quantfix.corrected_model(src, cache)
    target.write_bytes(target.read_bytes()[:1000])
    again = quantfix.corrected_model(src, cache)
    assert again == target and not quantfix.needs_fix(again)


def test_unwritable_cache_is_a_clear_error(shared: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(ModelError, match="needs a corrected copy"):
        quantfix.corrected_model(coral_file(), blocker / "cache")


def test_default_cache_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert quantfix.default_corrected_dir() == tmp_path / "posed" / "corrected"
