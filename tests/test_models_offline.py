"""Offline-first: nothing but `posed models fetch` downloads; a missing model names the fetch command."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from posed.cli.main import main
from posed.errors import ModelNotFoundError
from posed.models.resolve import model_search_path, resolve_named
from tests.conftest import CONFORMANCE, MEDIA, POSED, REPO
from tests.models_support import isolate


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


def test_resolve_names_the_fetch_command_and_the_directory(store: Path) -> None:
    dirs = model_search_path(cli_dir=store)
    with pytest.raises(ModelNotFoundError) as caught:
        resolve_named("blazepose-heavy", dirs)
    message = str(caught.value)
    assert f"posed models fetch blazepose-heavy --model-dir {store}" in message
    assert "pose_detection.tflite" in message
    assert "never downloads" in message


def test_daemon_search_path_hint_points_at_the_state_directory(
    monkeypatch: pytest.MonkeyPatch, store: Path, tmp_path: Path
) -> None:
    # Under systemd the daemon looks in $STATE_DIRECTORY/models first when no model_dir is set.
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    with pytest.raises(
        ModelNotFoundError, match=r"posed models fetch posenet-mobilenet-075-353x481 --model-dir \S+"
    ):
        resolve_named("posenet-mobilenet-075-353x481", model_search_path())
    assert model_search_path()[0] == tmp_path / "state" / "models"


def test_resolving_a_missing_model_loads_no_network_code(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from posed.errors import ModelNotFoundError
        from posed.models.resolve import resolve_named
        try:
            resolve_named("blazepose-full", [Path({str(tmp_path)!r})])
        except ModelNotFoundError:
            pass
        else:
            raise SystemExit("resolved a model that is not there")
        loaded = [m for m in ("urllib.request", "http.client", "posed.models.download",
                              "posed.models.fetch", "posed.models.sources") if m in sys.modules]
        raise SystemExit(f"network code loaded: {{loaded}}" if loaded else 0)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_refuses_a_config_whose_model_is_not_fetched(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "posed.yaml"
    config.write_text(
        textwrap.dedent(
            f"""\
            device_id: offline-test
            model_dir: {store}
            backend: {{type: tflite}}
            model:
              name: blazepose-lite
            cameras:
              street: {{type: video, path: {MEDIA / "vtest.avi"}}}
            mqtt: {{host: 127.0.0.1}}
            """
        )
    )
    code = main(["check", "-c", str(config)])
    err = capsys.readouterr().err
    assert code == 2
    assert "model.name" in err
    assert f"posed models fetch blazepose-lite --model-dir {store}" in err


def test_estimate_refuses_with_the_fetch_hint(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = CONFORMANCE / "tfjs-pose-detection" / "pose.jpg"
    code = main(["estimate", "--model", "blazepose-full", "--model-dir", str(store), str(image)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"posed models fetch blazepose-full --model-dir {store}" in err


def test_run_refuses_to_start_with_the_fetch_hint(store: Path, tmp_path: Path) -> None:
    config = tmp_path / "posed.yaml"
    config.write_text(
        f"device_id: offline-run\nmodel_dir: {store}\nbackend: {{type: tflite}}\n"
        f"model: {{name: blazepose-heavy}}\ncameras: {{c: {{type: video, path: {MEDIA / 'vtest.avi'}}}}}\n"
        "mqtt: {host: 127.0.0.1}\n"
    )
    result = subprocess.run(
        [*POSED, "run", "-c", str(config)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"posed models fetch blazepose-heavy --model-dir {store}" in result.stderr
    assert not store.exists() or not any(store.glob("*.tflite")), "run must not download"
