"""`posed models quantize`: make int8 variants of a BlazePose model, for `model.precision: int8`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from posed.benchmark.runner import shared_dir_default
from posed.errors import EXIT_OK, PosedError
from posed.models.resolve import model_search_path
from posed.models.store import store_dir
from posed.plugins import load_backend
from posed.quantize.calibration import DEFAULT_FRAMES, default_sources
from posed.quantize.make import quantize_model
from posed.quantize.tools import Int8Options

BACKENDS = ("openvino", "tflite")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    quantize = sub.add_parser(
        "quantize",
        parents=[common],
        help="Make int8 variants of a BlazePose model (for `model.precision: int8`).",
        description="Quantize a BlazePose model's detector and landmark files, as the store holds them, "
        "to int8: for OpenVINO with NNCF post-training quantization, for LiteRT (tflite) with "
        "ai-edge-quantizer. Both are calibrated on the inputs posed's float estimator gives the models "
        "on real frames. The variants go into the store beside a recipe (tool and version, "
        "calibration media and frame count, source sha256, options); a variant already made the same "
        "way is kept. Needs `pip install 'posed[quantize]'`.",
    )
    quantize.add_argument(
        "name", nargs="?", default=None, metavar="NAME",
        help="blazepose-lite, blazepose-full or blazepose-heavy (default: the config's model).",
    )  # fmt: skip
    quantize.add_argument(
        "--backend", choices=BACKENDS, action="append", default=[],
        help="Backend to quantize for (repeatable; default: the config's backend with -c, else both).",
    )  # fmt: skip
    quantize.add_argument(
        "--calibration", type=Path, action="append", default=[], metavar="PATH",
        help="Video, image or folder of them, showing people as your cameras will (repeatable; default: "
        "pose_squats.mp4 and vtest.avi from $POSED_SHARED_DIR or ../shared, else the sample clip of "
        "`posed demo` if it is cached).",
    )  # fmt: skip
    quantize.add_argument(
        "--frames", type=int, default=None,
        help="Frames to calibrate on, shared equally between the inputs (default: 300).",
    )  # fmt: skip
    quantize.add_argument(
        "--preset", choices=("performance", "mixed"), default="performance",
        help="OpenVINO: NNCF's preset, symmetric (performance) or asymmetric (mixed) activations "
        "(default: performance).",
    )  # fmt: skip
    quantize.add_argument(
        "--keep-float", action="append", default=None, metavar="PATTERN",
        help="Leave the layers whose .tflite tensor names match this regex in float (repeatable; "
        "`none`: quantize every layer) (default: the landmark model's output layers, "
        "^model_1/model/(convld_3d|convworld_3d|conv_poseflag|output_heatmap|output_segmentation)/ "
        "and ^Identity).",
    )  # fmt: skip
    quantize.add_argument("--force", action="store_true", help="Make the variants again even if made.")


def execute(args: argparse.Namespace, config_dir: Path | None, config: Any) -> int:
    name = args.name or _config_model(config)
    if name == "blazepose":
        name = f"blazepose-{config.model.blazepose.model_type if config is not None else 'full'}"
    backends = list(dict.fromkeys(args.backend)) or _config_backends(config)
    frames = DEFAULT_FRAMES if args.frames is None else args.frames
    if frames < 1:
        raise PosedError("--frames must be at least 1")
    shared = shared_dir_default()
    media = list(args.calibration) or default_sources(shared)
    if not media:
        raise PosedError(
            f"no calibration media: none given, and no test media in {shared.resolve()} ($POSED_SHARED_DIR) "
            "nor a cached sample clip. Pass --calibration VIDEO_OR_FOLDER: footage of people as your "
            "cameras will see them (`posed demo` also caches a sample clip)"
        )
    store = store_dir(cli_dir=args.model_dir, config_dir=config_dir)
    search_path = model_search_path(cli_dir=args.model_dir, config_dir=config_dir)
    options = Int8Options(preset=args.preset)
    if args.keep_float is not None:
        options = Int8Options(preset=args.preset, keep_float=tuple(p for p in args.keep_float if p != "none"))
    for backend_name in backends:
        backend = load_backend(backend_name)
        settings: dict[str, object] = {"type": backend_name}
        if backend_name == "openvino":
            settings["inference_precision"] = "f32"  # calibrate on the float model's own outputs
        backend_config = backend.config_model.model_validate(settings)
        made = quantize_model(
            name,
            "openvino" if backend_name == "openvino" else "tflite",
            backend=backend,
            backend_config=backend_config,
            store=store,
            search_path=search_path,
            media=media,
            frames=frames,
            options=options,
            force=args.force,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
        for variant in made:
            recipe = variant.recipe
            how = "made" if variant.made else "already made"
            print(
                f"{variant.path.name}: {how} by {recipe.tool} {recipe.tool_version} from "
                f"{recipe.source.filename}, {recipe.calibration.samples} calibration inputs "
                f"from {recipe.calibration.frames} frames"
            )
        print(f"{name} int8 for {backend_name}: ready in {store} (use it with `precision: int8`)")
    return EXIT_OK


def _config_model(config: Any) -> str:
    if config is None or config.model.name is None:
        raise PosedError("name the model to quantize (e.g. blazepose-full), or give -c CONFIG")
    return str(config.model.name)


def _config_backends(config: Any) -> list[str]:
    if config is None:
        return list(BACKENDS)
    kind = str(config.backend.get("type"))
    if kind not in BACKENDS:
        raise PosedError(f"the config's backend is {kind}; int8 variants are made for openvino or tflite")
    return [kind]
