"""`posed backends`, run as a user runs it, and its --json read as a third-party tool would."""

from __future__ import annotations

import json
import subprocess

import pytest
from posed_openvino.core import shared_core

from tests.conftest import POSED, REPO

EXPECTED_KEYS = {"name", "runnable", "detail", "fix", "runtime", "devices", "device_names", "notes"}


def run_backends(*args: str) -> str:
    result = subprocess.run(
        [*POSED, "backends", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def listing() -> list[dict[str, object]]:
    data = json.loads(run_backends("--json"))
    assert isinstance(data, list)
    return data


def test_table_shows_both_backends_the_interpreter_and_openvino_devices() -> None:
    out = run_backends()
    lines = out.splitlines()
    tflite = next(line for line in lines if line.startswith("tflite "))
    openvino_line = next(line for line in lines if line.startswith("openvino "))
    assert "runnable" in tflite and "NOT" not in tflite and "interpreter: ai-edge-litert" in tflite
    assert "runnable" in openvino_line and "NOT" not in openvino_line
    for device in shared_core().available_devices:
        assert any(line.strip().startswith("devices:") and f"{device} (" in line for line in lines), out
    assert "note: Edge TPU:" in out


def test_json_is_what_a_third_party_tool_can_rely_on(listing: list[dict[str, object]]) -> None:
    import openvino  # noqa: PLC0415 (optional runtime)

    by_name = {entry["name"]: entry for entry in listing}
    assert {"tflite", "openvino"} <= set(by_name)
    for entry in listing:
        assert set(entry) == EXPECTED_KEYS
        assert isinstance(entry["runnable"], bool) and isinstance(entry["devices"], list)
        assert isinstance(entry["device_names"], dict) and isinstance(entry["notes"], list)
    tflite, ov = by_name["tflite"], by_name["openvino"]
    assert tflite["runnable"] is True and str(tflite["runtime"]).startswith("ai-edge-litert ")
    assert "cpu" in tflite["devices"]  # type: ignore[operator]
    assert ov["runnable"] is True and ov["devices"] == list(shared_core().available_devices)
    assert str(ov["runtime"]).split()[1] == openvino.get_version().split("-")[0]
