"""The Coral Edge TPU delegate. Needs libedgetpu.so.1, an attached Coral, and the
model variant compiled for it (`*_edgetpu.tflite`).

Each of the three can be missing; each gets its own message and fix. The CPU
fallback happens only when the config says `fallback: cpu`, and the session's
device then says so.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable
from pathlib import Path

from posed.errors import BackendUnavailableError, ModelError
from posed.tflite_file import read_model_info
from posed_tflite.config import TFLiteConfig
from posed_tflite.runtime import Runtime
from posed_tflite.session import TFLiteSession

log = logging.getLogger(__name__)

EDGETPU_LIBRARY = "libedgetpu.so.1"
EDGETPU_SUFFIX = "_edgetpu"
LIBEDGETPU_FIX = (
    "install the Edge TPU runtime: add Coral's apt repository (coral.ai/software) and "
    "`sudo apt install libedgetpu1-std`, then unplug and replug a USB Coral"
)
NO_DEVICE_FIX = (
    "plug in the Coral USB Accelerator (a USB 3 port, and a powered hub on a Pi if it resets), or "
    "for an M.2/PCIe Coral install the gasket-dkms driver and check `ls /dev/apex_*`; make sure the "
    "user may open it (the plugdev/apex groups from Coral's udev rules) and no other process holds it"
)
CPU_FALLBACK_DEVICE = "cpu:xnnpack (fallback from edgetpu)"

# USB ids of the Coral USB Accelerator: Global Unichip before its firmware is loaded,
# Google after; libedgetpu handles both.
_CORAL_USB_IDS = {("1a6e", "089a"), ("18d1", "9302")}


def library_error() -> str | None:
    """None when libedgetpu.so.1 can be loaded, else the dynamic loader's reason.

    Checked before load_delegate: LiteRT reports a missing library and a missing
    device alike, and its failed Delegate prints a stray traceback on collection.
    """
    try:
        ctypes.CDLL(EDGETPU_LIBRARY)
    except OSError as exc:
        return str(exc)
    return None


def list_edgetpu_devices(
    dev: Path = Path("/dev"), sysfs: Path = Path("/sys/bus/usb/devices")
) -> tuple[str, ...]:
    """Coral devices the OS shows, named as the delegate's `device` option names them."""
    found = [f"pci:{i}" for i, _ in enumerate(sorted(dev.glob("apex_*")))]
    usb = 0
    for device_dir in sorted(sysfs.glob("*")):
        try:
            vendor = (device_dir / "idVendor").read_text().strip()
            product = (device_dir / "idProduct").read_text().strip()
        except OSError:
            continue
        if (vendor, product) in _CORAL_USB_IDS:
            found.append(f"usb:{usb}")
            usb += 1
    return tuple(found)


def edgetpu_variant(path: Path) -> Path:
    """`x.tflite` -> `x_edgetpu.tflite`, as edgetpu_compiler names its output."""
    if path.stem.endswith(EDGETPU_SUFFIX):
        return path
    return path.with_name(f"{path.stem}{EDGETPU_SUFFIX}{path.suffix}")


def cpu_variant(path: Path) -> Path:
    """`x_edgetpu.tflite` -> `x.tflite`: the model the CPU fallback runs."""
    if path.stem.endswith(EDGETPU_SUFFIX):
        return path.with_name(f"{path.stem[: -len(EDGETPU_SUFFIX)]}{path.suffix}")
    return path


def open_edgetpu_session(
    runtime: Runtime,
    model_path: Path,
    config: TFLiteConfig,
    threads: int,
    *,
    library_check: Callable[[], str | None] = library_error,
    device_lister: Callable[[], tuple[str, ...]] = list_edgetpu_devices,
    input_shape: tuple[int, ...] | None = None,
) -> TFLiteSession:
    """A session on the Edge TPU or, only with `fallback: cpu`, on the CPU."""
    if input_shape is not None:
        # Before any fallback: a size the Edge TPU file was not compiled for is a config
        # mistake, and running it on the CPU instead would hide it.
        check_compiled_size(edgetpu_variant(model_path), input_shape)
    try:
        return _open_on_edgetpu(
            runtime, model_path, config, threads, library_check=library_check, device_lister=device_lister
        )
    except BackendUnavailableError as exc:
        if config.fallback != "cpu":
            raise
        cpu_model = cpu_variant(model_path)
        if not cpu_model.is_file():
            raise BackendUnavailableError(
                f"{exc}. The configured CPU fallback needs the CPU model {cpu_model.name}, which is "
                f"not in {cpu_model.parent} either"
            ) from exc
        log.warning("Edge TPU not usable, running %s on the CPU (fallback: cpu): %s", cpu_model.name, exc)
        return TFLiteSession.open(
            runtime.interpreter_class, cpu_model, num_threads=threads, device=CPU_FALLBACK_DEVICE
        )


def check_compiled_size(compiled: Path, input_shape: tuple[int, ...]) -> None:
    """ModelError unless the Edge TPU file `compiled` (if present) takes `input_shape`."""
    if not compiled.is_file():
        return
    own = read_model_info(compiled).inputs[0].shape
    if own == input_shape:
        return
    sizes = sorted(
        {_size_text(read_model_info(p).inputs[0].shape) for p in compiled.parent.glob("*_edgetpu.tflite")}
    )
    raise ModelError(
        f"{compiled.name} is compiled for the Edge TPU at input {_size_text(own)} and cannot run at "
        f"{_size_text(input_shape)}: an Edge TPU model takes only the size it was compiled for. Edge TPU "
        f"files in {compiled.parent}: {', '.join(sizes)}. Set model.posenet.input_resolution to one of "
        "those (or remove it), fetch another size (posed models list), or use `delegate: xnnpack`"
    )


def _size_text(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}x{shape[2]}" if len(shape) == 4 else "x".join(str(d) for d in shape)


def _open_on_edgetpu(
    runtime: Runtime,
    model_path: Path,
    config: TFLiteConfig,
    threads: int,
    *,
    library_check: Callable[[], str | None],
    device_lister: Callable[[], tuple[str, ...]],
) -> TFLiteSession:
    compiled = edgetpu_variant(model_path)
    if not compiled.is_file():
        raise BackendUnavailableError(
            f"the Edge TPU runs only models compiled for it, and the Edge TPU variant {compiled.name} is "
            f"not in {compiled.parent}. Coral's PoseNet models have one: name the model with -edgetpu "
            "(e.g. `model: {name: posenet-mobilenet-075-481x641-edgetpu}`) and run "
            "`posed models fetch -c CONFIG --allow-unverified`, which fetches both files. BlazePose has "
            "none: use `delegate: xnnpack`. Or compile the model with Coral's edgetpu_compiler"
        )
    missing = library_check()
    if missing is not None:
        raise BackendUnavailableError(
            f"the Edge TPU runtime {EDGETPU_LIBRARY} is not installed ({missing}): {LIBEDGETPU_FIX}"
        )
    options = {"device": config.edgetpu_device} if config.edgetpu_device else {}
    try:
        delegate = runtime.load_delegate(EDGETPU_LIBRARY, options)
    except (ValueError, OSError, RuntimeError) as exc:
        wanted = config.edgetpu_device or "any"
        seen = ", ".join(device_lister()) or "none"
        detail = " ".join(str(exc).split())
        raise BackendUnavailableError(
            f"no usable Edge TPU ({wanted}); Coral devices the OS shows: {seen}. Fix: {NO_DEVICE_FIX}. "
            f"(libedgetpu said: {detail})"
        ) from exc
    seen_devices = device_lister()
    device = config.edgetpu_device or (seen_devices[0] if seen_devices else "auto")
    return TFLiteSession.open(
        runtime.interpreter_class,
        compiled,
        num_threads=threads,
        delegates=[delegate],
        device=f"edgetpu:{device}",
    )
