"""The packaged registry: it covers every model posed names, its checksums are the real files'."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from posed.models.registry import PackageSource, UrlSource, packaged_registry
from posed.models.resolve import known_models
from posed.models.transforms import apply_transforms
from tests.conftest import REPO

CORAL_SIZES = ("353x481", "481x641", "721x1281")


def test_registry_covers_every_model_of_the_issue() -> None:
    models = packaged_registry().models
    for kind in ("lite", "full", "heavy"):
        files = models[f"blazepose-{kind}"].files
        assert files == {"detector": "pose_detection.tflite", "landmarks": f"pose_landmark_{kind}.tflite"}
        assert models[f"blazepose-{kind}"].keypoints == "blazepose-33"
    for size in CORAL_SIZES:
        cpu = models[f"posenet-mobilenet-075-{size}"]
        tpu = models[f"posenet-mobilenet-075-{size}-edgetpu"]
        assert cpu.input_size == tuple(int(n) for n in size.split("x"))
        assert tpu.files["main"] == cpu.files["main"]
        # The TFLite backend finds the Edge TPU variant beside the CPU file by edgetpu_compiler's name.
        main = Path(cpu.files["main"])
        assert tpu.files["edgetpu"] == f"{main.stem}_edgetpu{main.suffix}"
    assert models["posenet-mobilenet-100-257x257"].input_size == (257, 257)
    # The old shape (family + files) still serves resolve's callers.
    assert known_models()["blazepose-full"]["family"] == "blazepose"


def test_every_file_has_sources_licence_and_description() -> None:
    registry = packaged_registry()
    for name, spec in registry.files.items():
        # A file no registry or official URL carries (MoveNet single pose, converted from
        # TF.js) is pinned all the same, and its description says how to install it.
        assert spec.sources or ("--from DIR" in spec.description and spec.sha256), name
        assert spec.licence == "Apache-2.0", name
        assert spec.description and spec.input_size, name
        for source in spec.sources:
            if isinstance(source, UrlSource):
                assert source.url.startswith("https://"), name
            else:
                assert isinstance(source, PackageSource)
                pinned = (
                    "==" in source.package if source.type == "pypi" else re.search(r".@\d", source.package)
                )
                assert pinned, f"{name}: {source.package} is not pinned to a version"


def test_published_checksums_and_sizes_match_the_real_files(models_dir: Path) -> None:
    registry = packaged_registry()
    checked = 0
    for path in sorted(models_dir.glob("*.tflite")):
        spec = registry.files[path.name]
        assert spec.sha256 == hashlib.sha256(path.read_bytes()).hexdigest(), path.name
        assert spec.size == path.stat().st_size, path.name
        checked += 1
    assert checked == 10


@pytest.mark.parametrize("size", ["353_481", "481_641", "721_1281"])
def test_corrected_coral_checksums_match_the_quantfix_output(
    models_dir: Path, tmp_path: Path, size: str
) -> None:
    # If the PoseNet correction changes, installed_sha256 in known_models.json must follow it.
    name = f"posenet_mobilenet_v1_075_{size}_quant.tflite"
    spec = packaged_registry().files[name]
    fixed = apply_transforms(spec.transforms, models_dir / name, tmp_path)
    assert hashlib.sha256(fixed.read_bytes()).hexdigest() == spec.installed_sha256


def test_no_package_registry_host_is_named_in_the_code() -> None:
    hosts = re.compile(r"pypi\.org|pythonhosted\.org|registry\.npmjs|npmjs\.(org|com)|unpkg\.com|jsdelivr")
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "posed" / "models").rglob("*")
        if path.is_file() and hosts.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    offenders += [
        str(p) for p in [REPO / "posed/cli/models.py"] if hosts.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
