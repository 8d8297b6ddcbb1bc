"""Checking a configured OpenVINO device against the devices this machine has.

Pure functions of the device lists, so the GPU and NPU paths are testable on a
machine that has neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from posed.errors import BackendUnavailableError

GPU_FIX = (
    "for an Intel integrated or Arc GPU install the compute runtime (Debian/Ubuntu: intel-opencl-icd, "
    "or Intel's compute-runtime release) and add the user to the `render` group (systemd: "
    "SupplementaryGroups=render)"
)
NPU_FIX = (
    "for the Intel NPU (Core Ultra) install Intel's linux-npu-driver (intel-driver-compiler-npu, "
    "intel-level-zero-npu) and add the user to the `render` group"
)


def check_device(requested: str, available: Sequence[str]) -> None:
    """Raise BackendUnavailableError unless `requested` can run on `available` devices.

    `GPU` means the first GPU (`GPU.0`); OpenVINO lists a lone GPU as `GPU` and several
    as `GPU.0`, `GPU.1`, ... so either spelling is accepted for either listing.
    `AUTO` needs any device; `AUTO:GPU,CPU` needs at least one of those it names, since
    AUTO picks among the listed devices that are present.
    """
    if requested == "AUTO" or requested.startswith("AUTO:"):
        candidates = [c for c in requested.partition(":")[2].split(",") if c]
        if not available or (candidates and not any(_present(c, available) for c in candidates)):
            raise _unavailable(requested, available)
        return
    if not _present(requested, available):
        raise _unavailable(requested, available)


def _present(device: str, available: Sequence[str]) -> bool:
    if device in available:
        return True
    kind, _, index = device.partition(".")
    if kind == "GPU" and index in ("", "0"):
        return "GPU" in available or "GPU.0" in available
    return False


def _unavailable(requested: str, available: Sequence[str]) -> BackendUnavailableError:
    listed = ", ".join(available) or "none"
    kinds = {c.partition(".")[0] for c in requested.removeprefix("AUTO:").split(",")}
    fix = "; ".join(f for k, f in (("GPU", GPU_FIX), ("NPU", NPU_FIX)) if k in kinds)
    render = _render_nodes()
    if "GPU" in kinds and render:
        fix += f" (render nodes present: {', '.join(render)}, so the GPU is there but its driver is not)"
    advice = f"; {fix}" if fix else ""
    return BackendUnavailableError(
        f"OpenVINO device {requested!r} is not available on this machine; its devices are: {listed}. "
        f"Set backend.device (or backend.devices.<role>) to one of them{advice}"
    )


def _render_nodes() -> list[str]:
    return sorted(str(p) for p in Path("/dev/dri").glob("renderD*"))


def availability_notes(available: Sequence[str]) -> tuple[str, ...]:
    """What `posed backends` adds about accelerators this machine lacks."""
    notes = []
    if not any(d.startswith("GPU") for d in available):
        notes.append(f"GPU: none found; {GPU_FIX}")
    if "NPU" not in available:
        notes.append(f"NPU: none found; {NPU_FIX}")
    return tuple(notes)
