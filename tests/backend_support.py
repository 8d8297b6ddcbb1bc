"""Helpers shared by the backend tests."""

from __future__ import annotations

from pathlib import Path

import flatbuffers


def write_edgetpu_compiled_copy(source: Path, target: Path) -> Path:
    """A copy of `source` whose first operator is Coral's `edgetpu-custom-op`, as
    edgetpu_compiler's output has: what a CPU interpreter meets in an Edge TPU model.
    Written with LiteRT's schema, not by patching bytes."""
    from ai_edge_litert import schema_py_generated as schema  # noqa: PLC0415 (optional runtime)

    model = schema.ModelT.InitFromPackedBuf(source.read_bytes(), 0)
    code = model.operatorCodes[0]
    code.builtinCode = schema.BuiltinOperator.CUSTOM
    code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
    code.customCode = "edgetpu-custom-op"
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    target.write_bytes(bytes(builder.Output()))
    return target
