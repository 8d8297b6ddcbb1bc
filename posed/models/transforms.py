"""Corrections applied to a verified file before it is installed, named in the registry.

- `posenet_quantfix`: Coral's decoder-less PoseNet files clip their short offsets;
  the PoseNet package rewrites the two output quantizations (posed.posenet.quantfix).
- `strip_posenet_decoder`: Coral publishes its Edge TPU PoseNet files with its
  own decoder op at the end, which only Coral's library can run. posed decodes
  itself, so the op is removed and the tensors it read become the outputs.
  Those tensors already carry the decoder model's correct quantization.

Both rewrite the flatbuffer through the schema LiteRT ships, never by patching bytes.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from posed.errors import ModelError
from posed.models.layout import POSENET_DECODER_OP
from posed.posenet import quantfix
from posed.tflite_file import check_header, pack_model, unpack_model

Transform = Callable[[Path, Path], None]


def posenet_quantfix(src: Path, dest: Path) -> None:
    if quantfix.needs_fix(src):
        quantfix.write_corrected_copy(src, dest)
    else:
        shutil.copyfile(src, dest)


def strip_posenet_decoder(src: Path, dest: Path) -> None:
    data = check_header(src)
    model: Any = unpack_model(data, src)
    codes = model.operatorCodes or []
    decoder_codes = {i for i, code in enumerate(codes) if _text(code.customCode) == POSENET_DECODER_OP}
    if not decoder_codes:
        shutil.copyfile(src, dest)  # already without the decoder: nothing to strip
        return
    graph = model.subgraphs[0]
    decoders = [op for op in graph.operators if op.opcodeIndex in decoder_codes]
    if len(model.subgraphs) != 1 or len(decoders) != 1:
        raise ModelError(f"{src}: expected one {POSENET_DECODER_OP} in one subgraph, found {len(decoders)}")
    decoder = decoders[0]
    removed = {int(i) for i in decoder.outputs}
    if set(int(i) for i in graph.outputs) != removed:
        raise ModelError(f"{src}: {POSENET_DECODER_OP} does not produce the model's outputs")
    graph.operators = [op for op in graph.operators if op is not decoder]
    graph.outputs = [int(i) for i in decoder.inputs]
    _drop_opcodes(model, decoder_codes)
    # Signatures name the decoder's outputs, which no longer exist; posed reads the graph outputs.
    model.signatureDefs = None
    dest.write_bytes(pack_model(model, len(data)))


def _drop_opcodes(model: Any, dropped: set[int]) -> None:
    kept = [i for i in range(len(model.operatorCodes)) if i not in dropped]
    new_index = {old: new for new, old in enumerate(kept)}
    model.operatorCodes = [model.operatorCodes[i] for i in kept]
    for graph in model.subgraphs:
        for op in graph.operators:
            op.opcodeIndex = new_index[op.opcodeIndex]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


TRANSFORMS: dict[str, Transform] = {
    "posenet_quantfix": posenet_quantfix,
    "strip_posenet_decoder": strip_posenet_decoder,
}


def apply_transforms(names: Sequence[str], src: Path, workdir: Path) -> Path:
    """Run the named transforms in order; the result is a new file in `workdir` (or `src`)."""
    current = src
    for step, name in enumerate(names):
        out = workdir / f"transform-{step}-{name}.tflite"
        TRANSFORMS[name](current, out)
        current = out
    return current
