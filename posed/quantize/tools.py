"""The two quantizers, each writing one int8 variant into a staging directory.

- OpenVINO: NNCF post-training quantization of the model OpenVINO reads from the
  float .tflite file, saved as IR (`.xml` + `.bin`, weights int8, the rest f32).
- LiteRT: ai-edge-quantizer's static int8 recipe (int8 weights and activations)
  on the float32-folded file (posed.quantize.tflite_fold), with float inputs and
  outputs, so posed's pre- and post-processing stay exactly as for float.

Both are optional dependencies (`pip install 'posed[quantize]'`), imported here
only when called. `keep_float` leaves layers in float: regular expressions over
the layer names of the .tflite file (e.g. `output_heatmap`, `convld_3d`), which
ai-edge-quantizer matches against each op's output tensor and which OpenVINO keeps
as tensor names (its own node names are generated, so they are mapped here).
"""

from __future__ import annotations

import importlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from posed.errors import PosedError
from posed.models.variants import QuantizedBackend, variant_filenames

INSTALL_HINT = "pip install 'posed[quantize]'"
OptionValue = str | int | float | bool | list[str] | None
# Static int8: weights and activations, activation ranges from calibration. (Dynamic
# activations were 3-6x slower than float here: this LiteRT's XNNPACK runs them on
# reference kernels; see docs/model-store.md, int8.)
TFLITE_RECIPE = "static_wi8_ai8"
# The landmark model's output layers (landmarks, world landmarks, presence, heatmap,
# segmentation) and the graph outputs stay float: int8 there moved the landmarks most
# for least speed (docs/model-store.md, int8). The names are the same in lite, full and heavy.
HEADS_IN_FLOAT = (
    "^model_1/model/(convld_3d|convworld_3d|conv_poseflag|output_heatmap|output_segmentation)/",
    "^Identity",
)


class QuantizerUnavailableError(PosedError):
    """The quantization tool for a backend is not installed."""


@dataclass(frozen=True, slots=True)
class Int8Options:
    """What a user may tune; every field is written to the recipe."""

    preset: Literal["performance", "mixed"] = "performance"  # NNCF: symmetric or asymmetric activations
    fast_bias_correction: bool = True  # NNCF
    keep_float: tuple[str, ...] = HEADS_IN_FLOAT

    def recorded(self, backend: QuantizedBackend) -> dict[str, OptionValue]:
        if backend == "tflite":
            return {"recipe": TFLITE_RECIPE, "float_io": True, "keep_float": list(self.keep_float)}
        return {
            "preset": self.preset,
            "fast_bias_correction": self.fast_bias_correction,
            "ignored_patterns": list(self.keep_float),
        }


@dataclass(frozen=True, slots=True)
class ToolRun:
    tool: str
    tool_version: str
    runtime_versions: dict[str, str]
    outputs: tuple[Path, ...]  # staged files, the one a backend opens first
    seconds: float
    options: dict[str, OptionValue] = field(default_factory=dict)


def _module(name: str, package: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise QuantizerUnavailableError(f"{package} is not installed ({exc}): {INSTALL_HINT}") from exc


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def require_tool(backend: QuantizedBackend) -> None:
    """Fail now, before minutes of calibration, when the backend's quantizer is not installed."""
    if backend == "openvino":
        _module("nncf", "nncf")
    else:
        _module("ai_edge_quantizer.quantizer", "ai-edge-quantizer")


def quantize(
    backend: QuantizedBackend,
    source: Path,
    samples: Sequence[npt.NDArray[np.float32]],
    stage: Path,
    options: Int8Options,
) -> ToolRun:
    if backend == "openvino":
        return quantize_openvino(source, samples, stage, options)
    return quantize_tflite(source, samples, stage, options)


def quantize_openvino(
    source: Path, samples: Sequence[npt.NDArray[np.float32]], stage: Path, options: Int8Options
) -> ToolRun:
    nncf = _module("nncf", "nncf")
    ov = _module("openvino", "openvino")
    from posed_openvino.core import shared_core

    xml, _ = (stage / name for name in variant_filenames(source.name, "openvino"))
    started = time.perf_counter()
    model = shared_core().read_model(str(source))
    kept = layers_named(model, options.keep_float)
    ignored = nncf.IgnoredScope(names=kept, validate=True) if kept else None
    preset = (
        nncf.QuantizationPreset.MIXED if options.preset == "mixed" else nncf.QuantizationPreset.PERFORMANCE
    )
    quantized = nncf.quantize(
        model,
        nncf.Dataset(list(samples)),
        preset=preset,
        subset_size=len(samples),
        fast_bias_correction=options.fast_bias_correction,
        ignored_scope=ignored,
    )
    # f32 where not int8: f16 compression would move the landmarks by itself.
    ov.save_model(quantized, str(xml), compress_to_fp16=False)
    return ToolRun(
        tool="nncf",
        tool_version=_version("nncf"),
        runtime_versions={"openvino": _version("openvino")},
        outputs=tuple(stage / name for name in variant_filenames(source.name, "openvino")),
        seconds=time.perf_counter() - started,
        options=options.recorded("openvino"),
    )


# OpenVINO operations NNCF puts int8 weights on.
_WEIGHTED = {"Convolution", "GroupConvolution", "MatMul"}


def layers_named(model: Any, patterns: Sequence[str]) -> list[str]:
    """OpenVINO node names of the weighted layers whose .tflite names match a pattern.

    A layer's .tflite names survive as tensor names on its outputs and on its weights'
    dequantize. A pattern may match nothing here (it may name a layer of the other
    BlazePose model); posed.quantize.make checks that each one matches some model.
    """
    found: list[str] = []
    for node in model.get_ordered_ops():
        if node.get_type_name() not in _WEIGHTED:
            continue
        names: set[str] = set()
        for output in node.outputs():
            names |= set(output.get_names())
        for port in node.inputs():
            names |= set(port.get_source_output().get_names())
        if any(re.search(p, name) for p in patterns for name in names):
            found.append(node.get_friendly_name())
    return found


def quantize_tflite(
    source: Path, samples: Sequence[npt.NDArray[np.float32]], stage: Path, options: Int8Options
) -> ToolRun:
    quantizer = _module("ai_edge_quantizer.quantizer", "ai-edge-quantizer")
    recipes = _module("ai_edge_quantizer.recipe", "ai-edge-quantizer")
    qtyping = _module("ai_edge_quantizer.qtyping", "ai-edge-quantizer")
    algorithms = _module("ai_edge_quantizer.algorithm_manager", "ai-edge-quantizer")
    from posed.quantize.tflite_fold import SIGNATURE_KEY, fold_constants

    (target,) = (stage / name for name in variant_filenames(source.name, "tflite"))
    started = time.perf_counter()
    folded = stage / f"{source.stem}.float32.tflite"
    fold_constants(source, folded)
    tool = quantizer.Quantizer(folded, getattr(recipes, TFLITE_RECIPE)())
    skip = algorithms.AlgorithmName.NO_QUANTIZE
    # Float in, float out: posed feeds and reads these models exactly as the float files.
    for boundary in (qtyping.TFLOperationName.INPUT, qtyping.TFLOperationName.OUTPUT):
        tool.update_quantization_recipe(regex=".*", operation_name=boundary, algorithm_key=skip)
    for pattern in options.keep_float:
        tool.update_quantization_recipe(
            regex=pattern, operation_name=qtyping.TFLOperationName.ALL_SUPPORTED, algorithm_key=skip
        )
    input_name = _input_name(folded)
    calibration = {SIGNATURE_KEY: [{input_name: sample} for sample in samples]}
    statistics = tool.calibrate(calibration) if tool.need_calibration else None
    result = tool.quantize(statistics, enable_progress_report=False)
    result.export_model(target, overwrite=True)
    folded.unlink()
    return ToolRun(
        tool="ai-edge-quantizer",
        tool_version=_version("ai-edge-quantizer"),
        runtime_versions={"ai-edge-litert": _version("ai-edge-litert")},
        outputs=(target,),
        seconds=time.perf_counter() - started,
        options=options.recorded("tflite"),
    )


def _input_name(path: Path) -> str:
    from posed.tflite_file import read_model_info

    (tensor,) = read_model_info(path).inputs
    return tensor.name
