"""`posed models fetch` from a local directory and from a local HTTP server standing in for the
official URLs (via --mirror): verified installs, truncated and corrupted downloads rejected with
nothing half-written left, resume with Range, and the policy for files without a published sha256."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from posed.cli.main import main
from posed.errors import ModelError
from posed.models.download import DownloadPolicy, download
from posed.models.fetch import Fetcher
from posed.models.registry import packaged_registry, read_store_registry
from posed.models.resolve import resolve_named
from posed.models.sources import SourceOptions
from posed.models.store import store_dir
from posed.posenet.quantfix import needs_fix
from posed.tflite_file import read_model_info
from tests.conftest import MEDIA
from tests.models_support import ServedFiles, http_server, isolate, staging_leftovers, with_posenet_decoder

FAST = DownloadPolicy(attempts=3, timeout_s=10, retry_delay_s=0.01, progress=False)
LITE = ("pose_detection.tflite", "pose_landmark_lite.tflite")
UNVERIFIED = "posenet_mobilenet_v1_100_257x257_multi_kpt_stripped.tflite"


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def model_files(store: Path) -> list[str]:
    return sorted(p.name for p in store.glob("*.tflite")) if store.exists() else []


def test_fetch_from_a_local_directory(
    store: Path, models_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["models", "fetch", "blazepose-full", "posenet-mobilenet-075-481x641", "--model-dir", str(store)]
    code = main([*argv, "--from", str(models_dir), "--no-url", "--no-pypi", "--no-npm"])
    out = capsys.readouterr().out
    assert code == 0, out
    registry = packaged_registry().files
    for name in ("pose_detection.tflite", "pose_landmark_full.tflite"):
        assert sha(store / name) == registry[name].sha256
    coral = store / "posenet_mobilenet_v1_075_481_641_quant.tflite"
    assert not needs_fix(coral), "the Coral file must be stored corrected"
    assert sha(coral) == registry[coral.name].installed_sha256
    record = read_store_registry(store).files[coral.name]
    assert record.verified and record.source_sha256 == registry[coral.name].sha256
    assert "sha256 verified" in out and f"blazepose-full: ready in {store}" in out
    assert resolve_named("blazepose-full", [store]).files["landmarks"] == store / "pose_landmark_full.tflite"
    assert staging_leftovers(store) == []
    # A second fetch finds good copies and touches nothing.
    code = main([*argv, "--from", str(models_dir), "--sources", "local"])
    assert code == 0
    assert capsys.readouterr().out.count("already installed") == 3


def test_a_wrong_local_file_is_rejected_and_nothing_installed(
    store: Path, models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    impostor = tmp_path / "usb"
    impostor.mkdir()
    shutil.copy(models_dir / "pose_detection.tflite", impostor / "pose_detection.tflite")
    shutil.copy(models_dir / "pose_landmark_lite.tflite", impostor / "pose_landmark_heavy.tflite")
    argv = ["models", "fetch", "blazepose-heavy", "--model-dir", str(store), "--from", str(impostor)]
    code = main([*argv, "--sources", "local"])
    code_err = capsys.readouterr().err
    assert code == 1
    assert "pose_landmark_heavy.tflite" in code_err and "wrong size" in code_err
    assert model_files(store) == ["pose_detection.tflite"]  # the good file of the pair is kept
    assert staging_leftovers(store) == []


def test_a_corrupt_installed_file_is_fetched_again(store: Path, models_dir: Path) -> None:
    options = SourceOptions(order=("local",), local_dirs=(models_dir,), policy=FAST)
    with Fetcher(store, options) as fetcher:
        fetcher.fetch_model("blazepose-lite")
        target = store / "pose_landmark_lite.tflite"
        data = bytearray(target.read_bytes())
        data[1000] ^= 0x01
        target.write_bytes(bytes(data))
        results = {r.filename: r.installed for r in fetcher.fetch_model("blazepose-lite")}
    assert results == {"pose_detection.tflite": False, "pose_landmark_lite.tflite": True}
    assert sha(target) == packaged_registry().files[target.name].sha256


def test_fetch_from_the_official_url_stand_in(
    store: Path, models_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    served = ServedFiles({name: (models_dir / name).read_bytes() for name in LITE})
    with http_server(served) as url:
        code = main(["models", "fetch", "blazepose-lite", "--model-dir", str(store), "--mirror", url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert model_files(store) == list(LITE)
    assert {name for name, _ in served.requests} == set(LITE)
    assert f"installed from {url}/pose_landmark_lite.tflite (sha256 verified)" in out


def test_a_truncated_download_is_rejected_with_nothing_left(store: Path, models_dir: Path) -> None:
    name = "pose_landmark_lite.tflite"
    served = ServedFiles({name: (models_dir / name).read_bytes()}, modes={name: "truncate"})
    with (
        http_server(served) as url,
        Fetcher(store, SourceOptions(order=("url",), mirror=url, policy=FAST)) as f,
        pytest.raises(ModelError, match="closed early") as caught,
    ):
        f.fetch_file(name)
    assert "gave up after 3 attempts" in str(caught.value)
    # Every retry resumed where the last one stopped.
    ranges = [header for _, header in served.requests]
    assert ranges[0] is None and all(h and h.startswith("bytes=") for h in ranges[1:])
    assert model_files(store) == [] and staging_leftovers(store) == []
    assert read_store_registry(store).files == {}


def test_a_cut_download_resumes_with_range(store: Path, models_dir: Path) -> None:
    name = "pose_landmark_lite.tflite"
    data = (models_dir / name).read_bytes()
    served = ServedFiles({name: data}, modes={name: "truncate-once"})
    with (
        http_server(served) as url,
        Fetcher(store, SourceOptions(order=("url",), mirror=url, policy=FAST)) as f,
    ):
        result = f.fetch_file(name)
    assert result.installed and result.verified
    assert served.requests == [(name, None), (name, f"bytes={len(data) // 2}-")]
    assert sha(store / name) == packaged_registry().files[name].sha256


def test_a_checksum_mismatch_is_rejected_with_nothing_left(store: Path, models_dir: Path) -> None:
    name = "pose_detection.tflite"
    served = ServedFiles({name: (models_dir / name).read_bytes()}, modes={name: "corrupt"})
    with (
        http_server(served) as url,
        Fetcher(store, SourceOptions(order=("url",), mirror=url, policy=FAST)) as f,
        pytest.raises(ModelError, match="checksum mismatch") as caught,
    ):
        f.fetch_file(name)
    assert str(packaged_registry().files[name].sha256) in str(caught.value)
    assert model_files(store) == [] and staging_leftovers(store) == []


def test_the_next_source_is_tried_after_a_failure(store: Path, models_dir: Path) -> None:
    name = "pose_detection.tflite"
    served = ServedFiles({})  # the mirror answers 404
    with http_server(served) as url:
        options = SourceOptions(order=("url", "local"), local_dirs=(models_dir,), mirror=url, policy=FAST)
        with Fetcher(store, options) as fetcher:
            result = fetcher.fetch_file(name)
    assert served.requests == [(name, None)]
    assert result.origin == str(models_dir / name)


def test_files_without_a_published_checksum_need_consent_and_get_pinned(
    store: Path, models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A stand-in for TF Lite's float PoseNet, whose sha256 nobody publishes; the policy is the test.
    stand_in = (models_dir / "posenet_mobilenet_v1_075_353_481_quant.tflite").read_bytes()
    served = ServedFiles({UNVERIFIED: stand_in})
    argv = ["models", "fetch", "posenet-mobilenet-100-257x257", "--model-dir", str(store), "--sources", "url"]
    with http_server(served) as url:
        assert main([*argv, "--mirror", url]) == 1
        assert "--allow-unverified" in capsys.readouterr().err
        assert served.requests == [], "nothing is downloaded without consent"
        assert main([*argv, "--mirror", url, "--allow-unverified"]) == 0
        assert "UNVERIFIED, checksum pinned" in capsys.readouterr().out
        record = read_store_registry(store).files[UNVERIFIED]
        assert not record.verified and record.sha256 == hashlib.sha256(stand_in).hexdigest()
        # From now on the pin is the standard: a different file is refused even with consent.
        served.files[UNVERIFIED] = stand_in[:-1] + b"\x00"
        assert main([*argv, "--mirror", url, "--allow-unverified", "--force"]) == 1
        assert "checksum mismatch" in capsys.readouterr().err
    assert (store / UNVERIFIED).read_bytes() == stand_in


def test_the_edge_tpu_variant_is_installed_without_coral_decoder(
    store: Path, models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Coral publishes its Edge TPU files with the decoder op; no compiled file exists here, so the
    # stand-in is the CPU network with Coral's decoder op appended, under the official name.
    cpu = "posenet_mobilenet_v1_075_353_481_quant.tflite"
    official = with_posenet_decoder(models_dir / cpu, tmp_path / "decoder.tflite")
    upstream = "posenet_mobilenet_v1_075_353_481_quant_decoder_edgetpu.tflite"
    served = ServedFiles({cpu: (models_dir / cpu).read_bytes(), upstream: official.read_bytes()})
    name = "posenet-mobilenet-075-353x481-edgetpu"
    with http_server(served) as url:
        argv = ["models", "fetch", name, "--model-dir", str(store), "--mirror", url, "--allow-unverified"]
        assert main(argv) == 0
    capsys.readouterr()
    tpu = store / "posenet_mobilenet_v1_075_353_481_quant_edgetpu.tflite"
    info = read_model_info(tpu)
    assert "PosenetDecoderOp" not in info.custom_ops
    assert [t.name for t in info.outputs] == ["float_heatmaps", "float_short_offsets", "float_mid_offsets"]
    resolved = resolve_named(name, [store])
    assert resolved.files == {"main": store / cpu, "edgetpu": tpu}
    listed = json.loads(_run_json(["models", "list", "--model-dir", str(store), "--json"], capsys))
    row = next(r for r in listed["models"] if r["name"] == name)
    assert row["installed"] is True


def _run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def test_the_store_is_where_the_daemon_looks_first(
    monkeypatch: pytest.MonkeyPatch, store: Path, tmp_path: Path
) -> None:
    assert store_dir() == tmp_path / "xdg-cache" / "posed" / "models"
    monkeypatch.setenv("STATE_DIRECTORY", f"{tmp_path}/state:{tmp_path}/other")
    assert store_dir() == tmp_path / "state" / "models"
    assert store_dir(config_dir=tmp_path / "cfg") == tmp_path / "cfg"
    monkeypatch.setenv("POSED_MODEL_DIR", str(tmp_path / "env"))
    assert store_dir(config_dir=tmp_path / "cfg") == tmp_path / "env"
    assert store_dir(cli_dir=tmp_path / "cli", config_dir=tmp_path / "cfg") == tmp_path / "cli"


def test_fetch_with_a_config_installs_its_model_into_its_model_dir(
    store: Path, models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "posed.yaml"
    config.write_text(
        f"device_id: t\nmodel_dir: {store}\nbackend: {{type: tflite}}\n"
        "model: {name: blazepose, blazepose: {model_type: lite}}\n"
        f"cameras: {{c: {{type: video, path: {MEDIA / 'vtest.avi'}}}}}\nmqtt: {{host: 127.0.0.1}}\n"
    )
    assert main(["models", "fetch", "-c", str(config), "--from", str(models_dir), "--sources", "local"]) == 0
    assert f"blazepose-lite: ready in {store}" in capsys.readouterr().out
    assert model_files(store) == list(LITE)


def test_progress_bar_on_a_terminal_and_silence_otherwise(
    store: Path, models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "pose_detection.tflite"
    served = ServedFiles({name: (models_dir / name).read_bytes()})
    with http_server(served) as url:
        download(f"{url}/{name}", tmp_path / "a", label=name, policy=DownloadPolicy(progress=True))
        bar = capsys.readouterr().err
        download(f"{url}/{name}", tmp_path / "b", label=name, policy=DownloadPolicy(progress=False))
        quiet = capsys.readouterr().err
    assert f"\r{name} [" in bar and "100%" in bar and bar.endswith("\n")
    assert quiet == ""
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes() == served.files[name]
