"""Read tensor metadata straight from a `.tflite` flatbuffer.

Every backend reads the same files; quantization parameters come from here so
that a runtime which hides them (OpenVINO returns raw uint8) still gets them.
The schema module is the one LiteRT ships, imported only when needed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from posed.backend import Quantization, TensorSpec
from posed.errors import ModelError
from posed.regular_files import MAX_MODEL_BYTES, read_regular

TFLITE_IDENTIFIER = b"TFL3"
_DTYPES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 9: "int8"}


@dataclass(frozen=True, slots=True)
class ModelInfo:
    path: Path
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    custom_ops: tuple[str, ...]


def schema() -> ModuleType:
    """LiteRT's generated TFLite schema (object API)."""
    try:
        from ai_edge_litert import schema_py_generated
    except ImportError as exc:
        raise ModelError(
            "reading .tflite files needs LiteRT's schema: pip install 'posed[tflite]' (ai-edge-litert)"
        ) from exc
    module: ModuleType = schema_py_generated
    return module


def check_header(path: Path) -> bytes:
    """The file's bytes, after checking that it is a TFLite flatbuffer at all."""
    try:
        data = read_regular(path, MAX_MODEL_BYTES)  # never a FIFO or /dev/zero
    except FileNotFoundError as exc:
        raise ModelError(
            f"model file not found: {path}. Check the path, or fetch the model with `posed models fetch`"
        ) from exc
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror or exc}") from exc
    if len(data) < 8 or data[4:8] != TFLITE_IDENTIFIER:
        raise ModelError(
            f"{path} is not a TFLite model (no TFL3 header): the file is corrupt or of "
            "another format. Re-fetch it with `posed models fetch`."
        )
    return data


def read_model_info(path: Path) -> ModelInfo:
    """Input and output tensors (names, shapes, dtypes, quantization) of a model."""
    data = check_header(path)
    sch = schema()
    try:
        # The accessor API reads only what is asked for; unpacking the whole object tree
        # (ModelT) took 40-90 ms per BlazePose file, on every session open.
        model = sch.Model.GetRootAs(data, 0)
        graph = model.Subgraphs(0)
        inputs = tuple(_spec(graph.Tensors(graph.Inputs(i))) for i in range(graph.InputsLength()))
        outputs = tuple(_spec(graph.Tensors(graph.Outputs(i))) for i in range(graph.OutputsLength()))
        codes = (model.OperatorCodes(i).CustomCode() for i in range(model.OperatorCodesLength()))
        custom = tuple(sorted({_text(code) for code in codes if code}))
        # Touch every buffer's length field: a file cut short fails here, as it did when
        # the whole tree was unpacked, without copying any weights.
        for i in range(model.BuffersLength()):
            model.Buffers(i).DataLength()
    except Exception as exc:  # the flatbuffer decoder raises bare IndexError/struct.error
        reason = (
            "data it refers to lies past the end of the file"
            if isinstance(exc, struct.error)
            else f"{type(exc).__name__}: {exc}"[:160]
        )
        detail = f"its flatbuffer cannot be decoded ({reason})"
        raise corrupt_model_error(path, detail) from exc
    return ModelInfo(path=path, inputs=inputs, outputs=outputs, custom_ops=custom)


EDGETPU_CUSTOM_OP = "edgetpu-custom-op"


def unpack_model(data: bytes, source: Path | str) -> Any:
    """The whole model as schema objects (ModelT), for rewriting it; ModelError if corrupt."""
    try:
        return schema().ModelT.InitFromPackedBuf(data, 0)
    except Exception as exc:  # the flatbuffer decoder raises bare IndexError/struct.error
        detail = f"its flatbuffer cannot be decoded ({type(exc).__name__})"
        raise corrupt_model_error(Path(source), detail) from exc


def pack_model(model: Any, size_hint: int) -> bytes:
    """Serialise schema objects back into a .tflite flatbuffer."""
    import flatbuffers  # type: ignore[import-untyped]

    builder = flatbuffers.Builder(size_hint + 4096)
    builder.Finish(model.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    return bytes(builder.Output())


def corrupt_model_error(path: Path, detail: str) -> ModelError:
    """The one wording every backend uses for a model file that cannot be loaded."""
    size = _size_text(path)
    return ModelError(
        f"{path} is truncated or corrupt ({size}): {detail}. Re-fetch it with `posed models fetch` "
        "(or check it with `posed models verify`)."
    )


def is_edgetpu_model(info: ModelInfo) -> bool:
    """True for a model compiled by edgetpu_compiler: it only runs with the Edge TPU delegate."""
    return EDGETPU_CUSTOM_OP in info.custom_ops


def _size_text(path: Path) -> str:
    try:
        return f"{path.stat().st_size} bytes"
    except OSError:
        return "unreadable"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _spec(tensor: Any) -> TensorSpec:
    quant = None
    q = tensor.Quantization()
    if q is not None and q.ScaleLength() == 1 and q.Scale(0) != 0:
        quant = Quantization(float(q.Scale(0)), int(q.ZeroPoint(0)))
    shape = tuple(int(tensor.Shape(i)) for i in range(tensor.ShapeLength()))
    kind = int(tensor.Type())
    return TensorSpec(
        name=_text(tensor.Name()),
        shape=shape,
        dtype=_DTYPES.get(kind, f"tflite:{kind}"),
        quantization=quant,
    )
