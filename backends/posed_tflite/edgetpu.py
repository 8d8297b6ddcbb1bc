"""The Coral Edge TPU delegate. Needs libedgetpu.so.1 and an *_edgetpu.tflite model."""

from __future__ import annotations

import logging
from pathlib import Path

from posed.backend import InferenceSession
from posed.errors import BackendUnavailableError
from posed_tflite.config import TFLiteConfig
from posed_tflite.runtime import Runtime
from posed_tflite.session import TFLiteSession

log = logging.getLogger(__name__)

EDGETPU_LIBRARY = "libedgetpu.so.1"
LIBEDGETPU_FIX = (
    "install the Edge TPU runtime: add Coral's apt repository and `apt install libedgetpu1-std` "
    "(see coral.ai/docs/accelerator/get-started)"
)


def list_edgetpu_devices() -> tuple[str, ...]:
    """Coral devices visible to the OS, named as the delegate names them."""
    found: list[str] = []
    apex = sorted(Path("/dev").glob("apex_*"))
    found.extend(f"pci:{i}" for i in range(len(apex)))
    usb = 0
    for vendor_file in Path("/sys/bus/usb/devices").glob("*/idVendor"):
        try:
            vendor = vendor_file.read_text().strip()
        except OSError:
            continue
        # Google (18d1, after firmware load) and Global Unichip (1a6e, before).
        if vendor in ("18d1", "1a6e"):
            product = (vendor_file.parent / "idProduct").read_text().strip()
            if product in ("9302", "089a"):
                found.append(f"usb:{usb}")
                usb += 1
    return tuple(found)


def edgetpu_model_path(path: Path) -> Path:
    return path if path.stem.endswith("_edgetpu") else path.with_name(f"{path.stem}_edgetpu{path.suffix}")


def open_edgetpu_session(
    runtime: Runtime, model_path: Path, config: TFLiteConfig, threads: int
) -> InferenceSession:
    try:
        return _open(runtime, model_path, config, threads)
    except BackendUnavailableError as exc:
        if config.fallback != "cpu":
            raise
        log.warning("Edge TPU unusable, falling back to the CPU as configured: %s", exc)
        return TFLiteSession.open(
            runtime.interpreter_class,
            model_path,
            num_threads=threads,
            delegates=[],
            device="cpu:xnnpack (edgetpu fallback)",
        )


def _open(runtime: Runtime, model_path: Path, config: TFLiteConfig, threads: int) -> InferenceSession:
    compiled = edgetpu_model_path(model_path)
    if not compiled.exists():
        raise BackendUnavailableError(
            f"the Edge TPU needs the compiled model variant {compiled.name}, which is not in "
            f"{compiled.parent}: fetch it with `posed models fetch` (Coral variants end in _edgetpu), "
            "or compile it with edgetpu_compiler"
        )
    options = {"device": config.edgetpu_device} if config.edgetpu_device else {}
    try:
        delegate = runtime.load_delegate(EDGETPU_LIBRARY, options)
    except (ValueError, OSError) as exc:
        text = str(exc)
        load_failed = any(
            m in text for m in ("Failed to load delegate", "cannot open shared object", "not found")
        )
        if load_failed and _library_missing():
            raise BackendUnavailableError(f"{EDGETPU_LIBRARY} is not installed: {LIBEDGETPU_FIX}") from exc
        device = config.edgetpu_device or "any"
        raise BackendUnavailableError(
            f"no Edge TPU device found ({device}): plug in the Coral USB Accelerator (use a USB 3 "
            f"port) or check the PCIe driver (`ls /dev/apex_*`, gasket-dkms). Devices seen: "
            f"{', '.join(list_edgetpu_devices()) or 'none'}"
        ) from exc
    device = f"edgetpu:{config.edgetpu_device or 'auto'}"
    return TFLiteSession.open(
        runtime.interpreter_class, compiled, num_threads=threads, delegates=[delegate], device=device
    )


def _library_missing() -> bool:
    import ctypes.util

    if ctypes.util.find_library("edgetpu"):
        return False
    return not any(
        Path(p).exists()
        for p in (
            "/usr/lib/x86_64-linux-gnu/libedgetpu.so.1",
            "/usr/lib/aarch64-linux-gnu/libedgetpu.so.1",
            "/usr/lib/arm-linux-gnueabihf/libedgetpu.so.1",
        )
    )
