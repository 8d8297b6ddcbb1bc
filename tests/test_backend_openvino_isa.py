"""OpenVINO stays off AMX where a virtual machine advertises AMX but hides its tile palette."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from posed_openvino.cpu_isa import (
    ISA_CEILING,
    CpuidFacts,
    cap_isa_below_unusable_amx,
    parse_cpuinfo,
    read_cpuid_facts,
)

BLOCK = """processor\t: {n}
vendor_id\t: GenuineIntel
cpuid level\t: {level}
flags\t\t: fpu sse4_2 avx2 avx512f {extra}
"""


def cpuinfo(level: int, extra: str) -> str:
    return "\n".join(BLOCK.format(n=n, level=level, extra=extra) for n in range(2))


def test_amx_with_leaf_0x1d_missing_is_hidden() -> None:
    facts = parse_cpuinfo(cpuinfo(28, "amx_bf16 amx_tile amx_int8"))
    assert facts == CpuidFacts(has_amx_tile=True, max_basic_leaf=28)
    assert facts.amx_palette_hidden


def test_amx_with_leaf_0x1d_present_is_usable() -> None:
    assert not parse_cpuinfo(cpuinfo(32, "amx_bf16 amx_tile amx_int8")).amx_palette_hidden


def test_no_amx_is_never_capped() -> None:
    facts = parse_cpuinfo(cpuinfo(13, "avx512_vnni"))
    assert facts == CpuidFacts(has_amx_tile=False, max_basic_leaf=13)
    assert not facts.amx_palette_hidden


def test_unreadable_cpuinfo_caps_nothing(tmp_path: Path) -> None:
    facts = read_cpuid_facts(tmp_path / "missing")
    assert not facts.amx_palette_hidden


def test_the_cap_is_set_and_explained(caplog: pytest.LogCaptureFixture) -> None:
    environ: dict[str, str] = {}
    with caplog.at_level(logging.WARNING):
        assert cap_isa_below_unusable_amx(CpuidFacts(True, 28), environ)
    assert environ == {"ONEDNN_MAX_CPU_ISA": ISA_CEILING}
    assert "SIGILL" in caplog.text and "ONEDNN_MAX_CPU_ISA" in caplog.text


@pytest.mark.parametrize("variable", ["ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"])
def test_a_ceiling_the_user_set_is_left_alone(variable: str) -> None:
    environ = {variable: "AVX2"}
    assert not cap_isa_below_unusable_amx(CpuidFacts(True, 28), environ)
    assert environ == {variable: "AVX2"}


def test_usable_amx_is_left_alone() -> None:
    environ: dict[str, str] = {}
    assert not cap_isa_below_unusable_amx(CpuidFacts(True, 32), environ)
    assert environ == {}


INFER_INT8 = """
import sys
from pathlib import Path
import numpy as np
from posed.plugins import load_backend

backend = load_backend("openvino")
config = backend.config_model.model_validate({"type": "openvino"})
with backend.open_session(Path(sys.argv[1]), config) as session:
    spec = session.inputs[0]
    outputs = session.run(np.full(spec.shape, 128, dtype=spec.dtype))
import os
print("outputs", len(outputs), os.environ.get("ONEDNN_MAX_CPU_ISA"))
"""


def test_int8_inference_runs_on_this_cpu(models_dir: Path) -> None:
    # Uses int8 kernels, which are AMX kernels on an AMX CPU: on a machine whose
    # hypervisor hides the tile palette this died with SIGILL before the cap.
    environ = {k: v for k, v in os.environ.items() if k not in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")}
    model = models_dir / "posenet_mobilenet_v1_075_353_481_quant.tflite"
    result = subprocess.run(
        [sys.executable, "-c", INFER_INT8, str(model)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
    )
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    expected = ISA_CEILING if read_cpuid_facts().amx_palette_hidden else None
    assert f"outputs 3 {expected}" in result.stdout
