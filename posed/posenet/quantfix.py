"""Correct the output quantization of Coral's decoder-less PoseNet files.

Coral's `posenet_mobilenet_v1_075_*_quant.tflite` quantize `float_heatmaps` and
`float_short_offsets` with scale 20/255, which clips short offsets at ±10 px
and puts some keypoints 10-18 px off. The same network inside Coral's
`*_quant_decoder.tflite` uses 12/255 (heatmaps) and 100/255 (short offsets),
zero point 128; with those parameters the outputs are bit-identical to the
decoder model's internal tensors. The correction rewrites only those
parameters, through LiteRT's TFLite schema (object API), and writes a copy
named after the original's sha256. The flaw is recognised from the
quantization parameters themselves, so renamed copies are caught too.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from posed.backend import TensorSpec
from posed.errors import ModelError
from posed.model_files import user_cache_dir
from posed.tflite_file import check_header, pack_model, read_model_info, unpack_model

log = logging.getLogger(__name__)

HEATMAPS = "float_heatmaps"
SHORT_OFFSETS = "float_short_offsets"
FLAWED_SCALE = 20.0 / 255.0
ZERO_POINT = 128
CORRECT_SCALES = {HEATMAPS: 12.0 / 255.0, SHORT_OFFSETS: 100.0 / 255.0}
_CHANNELS = {HEATMAPS: 17, SHORT_OFFSETS: 34}


def default_corrected_dir() -> Path:
    """Per-user cache of corrected copies (follows $XDG_CACHE_HOME)."""
    return user_cache_dir().parent / "corrected"


def is_flawed(outputs: Sequence[TensorSpec]) -> bool:
    """True when heatmaps and short offsets carry Coral's clipping 20/255 scale."""
    by_name = {spec.name: spec for spec in outputs}
    for name, channels in _CHANNELS.items():
        spec = by_name.get(name)
        if spec is None or spec.dtype != "uint8" or not spec.shape or spec.shape[-1] != channels:
            return False
        quant = spec.quantization
        if quant is None or quant.zero_point != ZERO_POINT:
            return False
        if abs(quant.scale - FLAWED_SCALE) > 1e-6 * FLAWED_SCALE:
            return False
    return True


def needs_fix(path: Path) -> bool:
    """Whether `path` is a PoseNet file with the clipping output quantization."""
    return is_flawed(read_model_info(path).outputs)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def corrected_name(original: Path, original_sha256: str) -> str:
    """File name of the corrected copy: the original's stem and sha256."""
    return f"{original.stem}.corrected-{original_sha256[:16]}.tflite"


def corrected_bytes(data: bytes, source: str = "model") -> bytes:
    """The flatbuffer `data` with the two output quantizations rewritten."""
    model: Any = unpack_model(data, source)
    graph = model.subgraphs[0]
    fixed = set()
    for index in graph.outputs:
        tensor = graph.tensors[index]
        name = tensor.name.decode() if isinstance(tensor.name, bytes) else str(tensor.name)
        if name in CORRECT_SCALES:
            _set_quantization(tensor.quantization, CORRECT_SCALES[name])
            fixed.add(name)
    if fixed != set(CORRECT_SCALES):
        raise ModelError(f"{source} has no {HEATMAPS}/{SHORT_OFFSETS} outputs to correct")
    return pack_model(model, len(data))


def _set_quantization(quant: Any, scale: float) -> None:
    quant.scale = [scale]
    quant.zeroPoint = [ZERO_POINT]
    # min/max describe the same range; keep them consistent for converters that read them.
    quant.min = [(0 - ZERO_POINT) * scale]
    quant.max = [(255 - ZERO_POINT) * scale]


def write_corrected_copy(src: Path, dest: Path) -> Path:
    """Write the corrected copy of `src` to `dest` atomically and return its path.

    `dest` is the target file, or an existing directory in which the copy gets
    its checksum name (see `corrected_name`). The result is re-read and checked
    before it replaces anything.
    """
    data = check_header(src)
    if not is_flawed(read_model_info(src).outputs):
        raise ModelError(f"{src} does not have Coral's clipping PoseNet output quantization")
    if dest.is_dir():
        dest = dest / corrected_name(src, sha256_of(data))
    fixed = corrected_bytes(data, str(src))
    _write_atomically(dest, fixed)
    if needs_fix(dest):
        raise ModelError(f"correcting {src} failed: {dest} still has the clipping quantization")
    return dest


def _write_atomically(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def corrected_model(src: Path, cache_dir: Path | None = None) -> Path:
    """`src` itself when it is fine, else its corrected copy in `cache_dir`.

    The copy is made once and found again by the original's checksum.
    """
    if not needs_fix(src):
        return src
    directory = default_corrected_dir() if cache_dir is None else cache_dir
    target = directory / corrected_name(src, sha256_of(check_header(src)))
    if target.is_file() and _usable(target):
        log.info("PoseNet: %s clips short offsets; using the corrected copy %s", src.name, target)
        return target
    try:
        write_corrected_copy(src, target)
    except OSError as exc:
        raise ModelError(
            f"{src} clips PoseNet short offsets at ±10 px and needs a corrected copy, but "
            f"{directory} is not writable ({exc.strerror}). Run `posed models import {src}` "
            "or point $XDG_CACHE_HOME at a writable directory."
        ) from exc
    log.info("PoseNet: %s clips short offsets; wrote the corrected copy %s", src.name, target)
    return target


def _usable(path: Path) -> bool:
    try:
        return not needs_fix(path)
    except ModelError:
        return False
