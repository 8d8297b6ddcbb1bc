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

CPUINFO = Path("/proc/cpuinfo")
INT8_DOT_PRODUCT_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "avx_vnni_int8", "amx_int8"})


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
