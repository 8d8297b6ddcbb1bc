"""Keep OpenVINO off Intel AMX where a virtual machine hides AMX's tile palette.

Some hypervisors (seen on a Firecracker guest of a Sapphire Rapids host) pass the
AMX feature bits of CPUID leaf 7 through but cap the basic CPUID leaves at 0x1C,
so leaf 0x1D, which describes the tile palette, is missing. oneDNN inside
OpenVINO's CPU plugin trusts the feature bits, configures its tiles from the empty
palette, and its first tile instruction raises SIGILL: the process dies on its
first bf16 or int8 inference (every PoseNet model, and BlazePose whenever bf16 is
chosen). The kernel already exposes both facts in /proc/cpuinfo ("amx_tile" and
"cpuid level"), so the check is a file read.

oneDNN takes its ISA ceiling from the environment when it first inspects the CPU,
so the cap has to be set before the first Core is created. A ceiling the user set
(ONEDNN_MAX_CPU_ISA or DNNL_MAX_CPU_ISA) is always left alone.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CPUINFO = Path("/proc/cpuinfo")
TILE_PALETTE_LEAF = 0x1D
# The highest oneDNN ISA below AMX; it keeps AVX-512 VNNI (int8) and BF16 kernels.
ISA_CEILING = "AVX512_CORE_BF16"
ISA_VARIABLES = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")


@dataclass(frozen=True, slots=True)
class CpuidFacts:
    """What /proc/cpuinfo says about AMX on the first CPU."""

    has_amx_tile: bool
    max_basic_leaf: int | None

    @property
    def amx_palette_hidden(self) -> bool:
        return (
            self.has_amx_tile and self.max_basic_leaf is not None and self.max_basic_leaf < TILE_PALETTE_LEAF
        )


def parse_cpuinfo(text: str) -> CpuidFacts:
    """Read the first processor block; every core of one machine reports the same."""
    flags: set[str] = set()
    level: int | None = None
    for line in text.splitlines():
        if not line.strip():
            if flags or level is not None:
                break
            continue
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "flags":
            flags = set(value.split())
        elif key == "cpuid level":
            try:
                level = int(value.strip())
            except ValueError:
                level = None
    return CpuidFacts(has_amx_tile="amx_tile" in flags, max_basic_leaf=level)


def read_cpuid_facts(cpuinfo: Path = CPUINFO) -> CpuidFacts:
    try:
        return parse_cpuinfo(cpuinfo.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        # Not Linux, or /proc hidden: nothing to go on, and nothing known to be broken.
        return CpuidFacts(has_amx_tile=False, max_basic_leaf=None)


def isa_ceiling_needed(facts: CpuidFacts, environ: Mapping[str, str]) -> bool:
    """True when AMX is advertised but unusable and the user set no ceiling of their own."""
    return facts.amx_palette_hidden and not any(environ.get(name) for name in ISA_VARIABLES)


def cap_isa_below_unusable_amx(
    facts: CpuidFacts | None = None, environ: MutableMapping[str, str] | None = None
) -> bool:
    """Set oneDNN's ISA ceiling below AMX when AMX would crash; True if it was set.

    Called once, just before the process's Core is created. Results are unchanged
    by the cap (precision is chosen separately); only AMX kernels are skipped.
    """
    facts = read_cpuid_facts() if facts is None else facts
    target = os.environ if environ is None else environ
    if not isa_ceiling_needed(facts, target):
        return False
    target["ONEDNN_MAX_CPU_ISA"] = ISA_CEILING
    log.warning(
        "This CPU reports AMX but hides its tile palette (CPUID level %d, leaf 0x1D needed), as some "
        "virtual machines do; OpenVINO would crash with SIGILL on its first AMX kernel. posed set "
        "ONEDNN_MAX_CPU_ISA=%s so OpenVINO uses AVX-512 instead. Set ONEDNN_MAX_CPU_ISA yourself "
        "to override.",
        facts.max_basic_leaf,
        ISA_CEILING,
    )
    return True
