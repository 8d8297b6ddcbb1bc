"""A third party's backend plugs in through entry-point metadata alone, like ours do."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from posed.plugins import ENTRY_POINT_GROUP, discover
from tests.conftest import CONFORMANCE, POSED

# A whole third-party backend: its own config model, a probe, and sessions over LiteRT.
MINI_BACKEND = """
from __future__ import annotations
from typing import Literal
from pydantic import Field
from posed.backend import BackendConfig, BackendStatus, TensorSpec


class MiniConfig(BackendConfig):
    type: Literal["mini"] = Field(description="The mini backend.")
    threads: int = Field(1, ge=1, description="Interpreter threads.")


class MiniSession:
    def __init__(self, path, threads):
        from ai_edge_litert.interpreter import Interpreter
        self._it = Interpreter(model_path=str(path), num_threads=threads)
        self._it.allocate_tensors()
        spec = lambda d: TensorSpec(d["name"], tuple(int(x) for x in d["shape"]), d["dtype"].__name__)
        self._in = [d["index"] for d in self._it.get_input_details()]
        self._out = [d["index"] for d in self._it.get_output_details()]
        self.inputs = tuple(spec(d) for d in self._it.get_input_details())
        self.outputs = tuple(spec(d) for d in self._it.get_output_details())
        self.device = "mini-cpu"

    def run(self, *arrays):
        for index, array in zip(self._in, arrays):
            self._it.set_tensor(index, array)
        self._it.invoke()
        return tuple(self._it.get_tensor(i) for i in self._out)

    def close(self):
        self._it = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class MiniBackend:
    name = "mini"
    config_model = MiniConfig

    def probe(self):
        return BackendStatus("mini", True, "mini 0.1 over LiteRT", devices=("mini-cpu",))

    def open_session(self, model_path, config, *, role="main"):
        return MiniSession(model_path, config.threads)
"""


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    site = tmp_path_factory.mktemp("site")
    (site / "mini_posed_backend.py").write_text(MINI_BACKEND)
    dist = site / "mini_posed_backend-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mini-posed-backend\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nmini = mini_posed_backend:MiniBackend\n")
    return {**os.environ, "PYTHONPATH": str(site)}


def test_builtin_backends_register_through_the_entry_point_group() -> None:
    found = discover()
    assert found["tflite"].value == "posed_tflite.plugin:TFLiteBackend"
    assert found["openvino"].value == "posed_openvino.plugin:OpenVINOBackend"


def test_third_party_backend_is_listed(plugin_env: dict[str, str]) -> None:
    out = subprocess.run(
        [*POSED, "backends", "--json"], env=plugin_env, capture_output=True, text=True, check=True
    ).stdout
    by_name = {b["name"]: b for b in json.loads(out)}
    assert set(by_name) >= {"mini", "tflite", "openvino"}
    assert by_name["mini"]["runnable"] and by_name["mini"]["devices"] == ["mini-cpu"]


def test_third_party_backend_is_selected_and_validated_from_yaml(
    plugin_env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "posed.yaml"
    body = textwrap.dedent("""\
        device_id: t
        backend:
          type: mini
          threads: {threads}
        model: {{name: blazepose-lite}}
        cameras: {{a: {{type: images, path: x}}}}
        """)
    config.write_text(body.format(threads=2))
    ok = subprocess.run(
        [*POSED, "check", "-c", str(config), "--config-only"], env=plugin_env, capture_output=True
    )
    assert ok.returncode == 0, ok.stderr
    config.write_text(body.format(threads=0))
    bad = subprocess.run(
        [*POSED, "check", "-c", str(config), "--config-only"], env=plugin_env, capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert ":4: backend.threads" in bad.stderr and "greater than or equal to 1" in bad.stderr


def test_third_party_backend_gives_the_same_poses_as_tflite(
    plugin_env: dict[str, str], models_dir: Path
) -> None:
    image = str(CONFORMANCE / "tfjs-pose-detection" / "pose.jpg")
    results = {}
    for backend in ("mini", "tflite"):
        out = subprocess.run(
            [
                *POSED,
                "estimate",
                "--backend",
                backend,
                "--model",
                "blazepose-lite",
                "--model-dir",
                str(models_dir),
                image,
            ],
            env=plugin_env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results[backend] = json.loads(out)[0]["poses"]
    assert len(results["mini"]) == 1
    for a, b in zip(results["mini"][0]["keypoints"], results["tflite"][0]["keypoints"], strict=True):
        assert abs(a["x"] - b["x"]) < 1.0 and abs(a["y"] - b["y"]) < 1.0
