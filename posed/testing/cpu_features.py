"""Whether this CPU has an int8 dot-product instruction (VNNI or AMX), for test tolerances.

OpenVINO's uint8 kernels round PoseNet's layers differently on CPUs with and without an
int8 dot-product instruction. Measured against LiteRT/XNNPACK on the same inputs:

* with AVX-512 VNNI (an Intel Xeon): short offsets mean 3.1 / p99 17 / max 57 steps,
  decoded keypoints within 1.74 px;
* AVX2 only (an AMD EPYC without VNNI): short offsets mean 12 / p99 80 / max 253 steps,
  and on one squat frame 3 of 14 confident keypoints move by 5-26 px (one heatmap cell).

The parity and conformance tests hold each kind of CPU to the figures measured on it.
"""

from __future__ import annotations

from pathlib import Path

from posed.testing.compare import Tolerance

CPUINFO = Path("/proc/cpuinfo")
INT8_DOT_PRODUCT_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "avx_vnni_int8", "amx_int8"})
# OpenVINO's uint8 PoseNet outputs against LiteRT's on a CPU without an int8 dot product, in
# quantization steps. Measured worst over 2 images x 3 sizes (mean / p99 / max): heatmaps
# 1.81/13/32, short offsets 12/80/253, mid offsets 1.06/6/18.
NO_VNNI_POSENET_TOLERANCES = {
    "float_heatmaps": Tolerance(quant_mean_steps=2.5, quant_p99_steps=16, quant_max_steps=40),
    "float_short_offsets": Tolerance(quant_mean_steps=15, quant_p99_steps=100, quant_max_steps=255),
    "float_mid_offsets": Tolerance(quant_mean_steps=1.5, quant_p99_steps=8, quant_max_steps=24),
}


def flags_of(cpuinfo: str) -> frozenset[str]:
    """The feature flags of the first processor block (every core of a machine reports the same)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def has_int8_dot_product(cpuinfo: str | None = None) -> bool:
    """True when the CPU advertises VNNI or AMX int8; reads /proc/cpuinfo unless given its text."""
    if cpuinfo is None:
        try:
            cpuinfo = CPUINFO.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    return bool(flags_of(cpuinfo) & INT8_DOT_PRODUCT_FLAGS)
