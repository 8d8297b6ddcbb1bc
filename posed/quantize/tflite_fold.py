"""A BlazePose .tflite file rewritten with plain float32 weights, the input ai-edge-quantizer needs.

MediaPipe ships its models with float16 weights (the detector's also sparse): each
weight is a constant that a DEQUANTIZE (and DENSIFY) op turns into float32 when the
interpreter prepares the model. ai-edge-quantizer reads weights from constant
buffers and cannot quantize a convolution whose weights come out of another op, so
those ops are folded: LiteRT's own kernels compute their outputs once, and the
values become float32 constants. The arithmetic of the model does not change (the
fold test compares every output bit for bit). The quantizer also runs the model
through a signature, which these files lack, so one named `serving_default` is added.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from posed.errors import ModelError
from posed.tflite_file import check_header, pack_model, schema, unpack_model

SIGNATURE_KEY = "serving_default"


def fold_constants(source: Path, dest: Path) -> int:
    """Write `source` with its constant DEQUANTIZE/DENSIFY ops folded to `dest`; how many were folded."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: PLC0415 (optional runtime)

    data = check_header(source)
    model: Any = unpack_model(data, source)
    sch = schema()
    if len(model.subgraphs) != 1:
        raise ModelError(f"{source}: expected one subgraph, found {len(model.subgraphs)}")
    graph = model.subgraphs[0]
    foldable = {sch.BuiltinOperator.DEQUANTIZE, sch.BuiltinOperator.DENSIFY}
    constant = {i for i, tensor in enumerate(graph.tensors) if _has_data(model, tensor)}
    folded: list[Any] = []
    for op in graph.operators:  # in execution order: a chain DENSIFY -> DEQUANTIZE folds whole
        if _opcode(model, op) in foldable and all(int(i) in constant for i in op.inputs if i >= 0):
            folded.append(op)
            constant.add(int(op.outputs[0]))
    # Builtin kernels without XNNPACK, keeping every tensor: the folded ops' outputs are
    # then readable after one run, computed by the same kernels posed's runtime uses.
    interpreter = Interpreter(
        model_content=data,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
    )
    interpreter.allocate_tensors()
    for detail in interpreter.get_input_details():
        interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], dtype=detail["dtype"]))
    interpreter.invoke()
    for op in folded:
        index = int(op.outputs[0])
        values = np.ascontiguousarray(interpreter.get_tensor(index), dtype=np.float32)
        buffer = sch.BufferT()
        buffer.data = np.frombuffer(values.tobytes(), dtype=np.uint8)
        model.buffers.append(buffer)
        tensor = graph.tensors[index]
        tensor.buffer = len(model.buffers) - 1
        tensor.type = sch.TensorType.FLOAT32
    dropped = {id(op) for op in folded}
    graph.operators = [op for op in graph.operators if id(op) not in dropped]
    _drop_unused_tensors(model, graph)
    model.signatureDefs = [_signature(sch, graph)]
    dest.write_bytes(pack_model(model, 4 * len(data)))
    return len(folded)


def _has_data(model: Any, tensor: Any) -> bool:
    data = model.buffers[tensor.buffer].data
    return data is not None and len(data) > 0


def _opcode(model: Any, op: Any) -> int:
    code = model.operatorCodes[op.opcodeIndex]
    # Old files keep small codes in the deprecated field only.
    return max(int(code.builtinCode), int(code.deprecatedBuiltinCode))


def _drop_unused_tensors(model: Any, graph: Any) -> None:
    """Remove the float16 originals: no op reads them, so they are never allocated, and the
    quantizer fails reading every tensor of the model."""
    used = {int(i) for op in graph.operators for i in [*op.inputs, *op.outputs] if i >= 0}
    used |= {int(i) for i in [*graph.inputs, *graph.outputs]}
    order = sorted(used)
    new_index = {old: new for new, old in enumerate(order)}
    graph.tensors = [graph.tensors[i] for i in order]
    for op in graph.operators:
        op.inputs = [new_index[int(i)] if i >= 0 else -1 for i in op.inputs]
        op.outputs = [new_index[int(i)] for i in op.outputs]
    graph.inputs = [new_index[int(i)] for i in graph.inputs]
    graph.outputs = [new_index[int(i)] for i in graph.outputs]
    live = {int(t.buffer) for t in graph.tensors}
    for number, buffer in enumerate(model.buffers):
        if number not in live and number != 0:  # buffer 0 is the schema's empty sentinel
            buffer.data = None


def _signature(sch: Any, graph: Any) -> Any:
    def entry(index: int) -> Any:
        mapping = sch.TensorMapT()
        name = graph.tensors[index].name
        mapping.name = name.decode() if isinstance(name, bytes) else str(name)
        mapping.tensorIndex = int(index)
        return mapping

    signature = sch.SignatureDefT()
    signature.inputs = [entry(int(i)) for i in graph.inputs]
    signature.outputs = [entry(int(i)) for i in graph.outputs]
    signature.signatureKey = SIGNATURE_KEY
    signature.subgraphIndex = 0
    return signature


def tensor_names(path: Path) -> list[str]:
    """The names of every tensor of the file's graph (the names ai-edge-quantizer's regexes match)."""
    graph = schema().Model.GetRootAs(check_header(path), 0).Subgraphs(0)
    return [graph.Tensors(i).Name().decode() for i in range(graph.TensorsLength())]
