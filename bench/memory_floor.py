"""The memory floor of each backend: a process holding both BlazePose models and nothing else.

The target: `posed bench`'s steady-state rss_mb must stay within 1.25x
this floor. For every backend and BlazePose model (lite, full, heavy) a fresh
process loads the detector and that landmark model, runs each once (so that the
runtime's arenas and packed weights really exist), and reports its RSS. Two
floors are measured:
  - runtime: the bare runtime API (ai_edge_litert's Interpreter with XNNPACK, as
    posed uses it; openvino.Core().compile_model on CPU with posed's defaults: the
    LATENCY hint and f32 precision) and NumPy, nothing else; this is the floor the target is measured against.
  - plugin: the same two models opened through posed's backend plugin, which
    adds pydantic and posed's own modules; shown for reference.

    .venv/bin/python bench/memory_floor.py [--backend tflite --backend openvino] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
MODELS = ("lite", "full", "heavy")
BACKENDS = ("tflite", "openvino")
MODES = ("runtime", "plugin")
DETECTOR = "pose_detection.tflite"


def _rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def _zeros(shape: Any, dtype: Any) -> Any:
    import numpy as np

    return np.zeros(tuple(shape), dtype=dtype)


def hold_runtime(backend: str, paths: list[Path]) -> list[Any]:
    """Load and run each model once with the bare runtime; return what keeps them alive."""
    held: list[Any] = []
    if backend == "tflite":
        from ai_edge_litert.interpreter import Interpreter

        for path in paths:
            interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count())
            interpreter.allocate_tensors()
            for detail in interpreter.get_input_details():
                interpreter.set_tensor(detail["index"], _zeros(detail["shape"], detail["dtype"]))
            interpreter.invoke()
            held.append(interpreter)
        return held
    import openvino as ov

    core = ov.Core()
    for path in paths:
        # f32 as posed's default: left to itself the CPU may pick bf16, halving the weights.
        properties = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
        compiled = core.compile_model(str(path), "CPU", properties)
        request = compiled.create_infer_request()
        request.infer([_zeros(i.get_shape(), i.get_element_type().to_dtype()) for i in compiled.inputs])
        held += [compiled, request]
    return held


def hold_plugin(backend_name: str, paths: list[Path]) -> list[Any]:
    """Load and run each model once through posed's backend plugin, with its default config."""
    import numpy as np

    from posed.benchmark.inference import synthetic_input
    from posed.plugins import load_backend

    backend = load_backend(backend_name)
    config = backend.config_model.model_validate({"type": backend_name})
    held: list[Any] = []
    rng = np.random.default_rng(0)
    for path, role in zip(paths, ("detector", "landmarks"), strict=True):
        session = backend.open_session(path, config, role=role)
        session.run(*(synthetic_input(spec, rng) for spec in session.inputs))
        held.append(session)
    return held


def child(backend: str, model: str, mode: str, model_dir: Path) -> float:
    paths = [model_dir / DETECTOR, model_dir / f"pose_landmark_{model}.tflite"]
    held = hold_runtime(backend, paths) if mode == "runtime" else hold_plugin(backend, paths)
    rss = _rss_mb()
    del held
    return rss


def measure_floor(backend: str, model: str, mode: str, model_dir: Path) -> float:
    """RSS in MB of a fresh process holding the detector and one landmark model."""
    command = [sys.executable, __file__, "--child", backend, model, mode, "--model-dir", str(model_dir)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    if result.returncode != 0:
        raise SystemExit(f"memory floor child failed for {backend} {model} {mode}:\n{result.stderr}")
    return float(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=BACKENDS, default=[])
    parser.add_argument("--model-dir", type=Path, default=SHARED / "models")
    parser.add_argument("--json", action="store_true", help="One JSON object per backend x model.")
    parser.add_argument("--child", nargs=3, metavar=("BACKEND", "MODEL", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(child(*args.child, args.model_dir))
        return 0
    if not args.json:
        print(f"{'backend':9} {'model':15} {'runtime MB':>10} {'plugin MB':>10}")
    for backend in args.backend or BACKENDS:
        for model in MODELS:
            floors = {mode: measure_floor(backend, model, mode, args.model_dir) for mode in MODES}
            if args.json:
                record = {"backend": backend, "model": f"blazepose-{model}"}
                record |= {f"{mode}_mb": round(value, 1) for mode, value in floors.items()}
                print(json.dumps(record), flush=True)
            else:
                print(f"{backend:9} blazepose-{model:5} {floors['runtime']:10.1f} {floors['plugin']:10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
