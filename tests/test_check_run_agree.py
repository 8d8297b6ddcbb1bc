"""`posed check` knows everything `posed run` refuses: each refused config through both.

check must exit 2 and run 78 (EX_CONFIG, which `RestartPreventExitStatus=78` stops
systemd from restarting), with the same problems, all of them at once, and no traceback.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import MEDIA, MODELS, POSED
from tests.mosquitto import TlsFiles, make_tls_files
from tests.test_config_hostile import alias_bomb

UNSET_VARIABLE = "POSED_TEST_SURELY_UNSET_PASSWORD"


def base(*, mqtt: str = "{}", model: str = "{name: blazepose-lite}", extra: str = "") -> str:
    return (
        "device_id: dev\n"
        "backend: {type: tflite, num_threads: 1}\n"
        f"model: {model}\n"
        "cameras:\n"
        f"  street: {{type: video, path: {MEDIA / 'vtest.avi'}}}\n"
        f"mqtt: {mqtt}\n"
        f"{extra}"
    )


@dataclass(frozen=True)
class Case:
    name: str
    content: Callable[[Path, TlsFiles], str | bytes]
    count: int  # how many issues both must report
    fragments: tuple[str, ...]  # each found in one of them


def _file(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _tls(files: str) -> str:
    return f"{{port: 8883, tls: {{{files}}}}}"


TWO_CAMERAS_NAMED_1 = "  1: {type: video, path: a.mp4}\n  '1': {type: video, path: b.mp4}\nmqtt:"
TFLITE = "{type: tflite, num_threads: 1}"

CASES = [
    Case("alias-bomb", lambda d, t: alias_bomb(), 1, (":10: (top level): the alias *a3",)),
    Case(
        "deep-nesting",
        lambda d, t: base(extra="x: " + "[" * 3000 + "]" * 3000 + "\n"),
        1,
        (":7: (top level): nested",),
    ),
    Case("not-utf8", lambda d, t: base().encode() + b"x: \xe9t\xe9\n", 1, (":7: (top level): not UTF-8",)),
    Case(
        "binary", lambda d, t: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 1, (":3: (top level): contains NUL",)
    ),
    Case(
        "colliding-keys",
        lambda d, t: base().replace("mqtt:", TWO_CAMERAS_NAMED_1),
        1,
        (":7: cameras.1: the key '1' is given twice",),
    ),
    Case(
        "backend-empty",
        lambda d, t: base().replace(TFLITE, "{}"),
        1,
        (":2: backend.type: required key is missing",),
    ),
    Case(
        "backend-number",
        lambda d, t: base().replace(TFLITE, "{type: 5}"),
        1,
        (":2: backend.type: 5 is not text",),
    ),
    Case(
        "backend-typo",
        lambda d, t: base().replace("type: tflite", "type: tflit"),
        1,
        (":2: backend.type: unknown backend 'tflit'; did you mean 'tflite'?",),
    ),
    Case(
        "model-typo",
        lambda d, t: base(model="{name: blazepose-lte}"),
        1,
        (":3: model.name: unknown model 'blazepose-lte'", "did you mean 'blazepose-lite'?"),
    ),
    Case(
        "password-file-missing",
        lambda d, t: base(mqtt=f"{{username: u, password_file: {d / 'nope'}}}"),
        1,
        (":6: mqtt.password_file: cannot read", "No such file or directory"),
    ),
    Case(
        "password-env-unset",
        lambda d, t: base(mqtt=f"{{username: u, password_env: {UNSET_VARIABLE}}}"),
        1,
        (f":6: mqtt.password_env: the environment variable {UNSET_VARIABLE} is not set",),
    ),
    Case(
        "tls-ca-missing",
        lambda d, t: base(mqtt=_tls(f"ca_file: {d / 'ca.pem'}")),
        1,
        (":6: mqtt.tls.ca_file: cannot read", "No such file"),
    ),
    Case(
        "tls-ca-not-a-certificate",
        lambda d, t: base(mqtt=_tls(f"ca_file: {t.client_key}")),
        1,
        (":6: mqtt.tls.ca_file:", "is no PEM CA certificate"),
    ),
    Case(
        "tls-cert-missing",
        lambda d, t: base(mqtt=_tls(f"ca_file: {t.ca}, cert_file: {d / 'c.pem'}, key_file: {t.client_key}")),
        1,
        (":6: mqtt.tls.cert_file: cannot read",),
    ),
    Case(
        "tls-key-missing",
        lambda d, t: base(mqtt=_tls(f"ca_file: {t.ca}, cert_file: {t.client_cert}, key_file: {d / 'k.pem'}")),
        1,
        (":6: mqtt.tls.key_file: cannot read",),
    ),
    Case(
        "tls-key-does-not-match",
        lambda d, t: base(
            mqtt=_tls(f"ca_file: {t.ca}, cert_file: {t.client_cert}, key_file: {t.server_key}")
        ),
        1,
        (":6: mqtt.tls.cert_file: cannot load the client certificate", "key values mismatch"),
    ),
    Case(
        "model-dir-unreadable",
        lambda d, t: base(extra=f"model_dir: {MEDIA / 'vtest.avi'}\n"),
        1,
        (":7: model_dir: cannot read the model directory", "Not a directory"),
    ),
    Case(
        "model-not-a-model",
        lambda d, t: base(model=f"{{path: {_file(d / 'bad.tflite', 'not a model')}}}"),
        1,
        (":3: model.path:", "bad.tflite"),
    ),
    Case(
        "model-option-does-not-suit-the-file",
        lambda d, t: base(
            model="{name: posenet-mobilenet-075-481x641, posenet: {input_resolution: [353, 480]}}"
        ),
        1,
        (":3: model.posenet.input_resolution: 353x480 does not fit",),
    ),
    Case(
        "camera-name",
        lambda d, t: base().replace("  street:", "  'front door':"),
        1,
        (":5: cameras.front door: the name 'front door' may hold only letters",),
    ),
    Case(
        "dollar-topic",
        lambda d, t: base(mqtt="{topic_prefix: $SYS/posed}"),
        1,
        (":6: mqtt.topic_prefix:", "starts with $"),
    ),
    Case(
        "absurd-timeout",
        lambda d, t: base(extra="daemon: {shutdown_timeout: 1e308}\n"),
        1,
        (":7: daemon.shutdown_timeout: input should be less than or equal to 600, not 1e+308",),
    ),
    Case(
        "all-at-once",
        lambda d, t: base(
            mqtt=f"{{username: u, password_file: {d / 'p'}, tls: {{ca_file: {d / 'ca'}}}}}",
            model="{name: blazepose-lte}",
            extra="daemon: {hang_timeout: 1e-9}\n",
        ),
        4,
        (":3: model.name:", ":6: mqtt.password_file:", ":6: mqtt.tls.ca_file:", ":7: daemon.hang_timeout:"),
    ),
]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("pki"))


def _checked(stderr: str) -> list[str]:
    return [line.removeprefix("error: ") for line in stderr.splitlines() if line.startswith("error: ")]


def _ran(stderr: str) -> list[str]:
    marker = "posed.daemon: config error: "
    return [line.split(marker, 1)[1] for line in stderr.splitlines() if marker in line]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_check_and_run_refuse_alike(case: Case, tmp_path: Path, tls: TlsFiles) -> None:
    config = tmp_path / "posed.yaml"
    content = case.content(tmp_path, tls)
    if isinstance(content, bytes):
        config.write_bytes(content)
    else:
        config.write_text(content)
    env = {
        k: v for k, v in os.environ.items() if k not in (UNSET_VARIABLE, "NOTIFY_SOCKET", "JOURNAL_STREAM")
    }
    options = ["-c", str(config), "--model-dir", str(MODELS)]
    check = subprocess.Popen([*POSED, "check", *options], stderr=subprocess.PIPE, text=True, env=env)
    run = subprocess.Popen([*POSED, "run", *options], stderr=subprocess.PIPE, text=True, env=env)
    _, check_err = check.communicate(timeout=120)
    _, run_err = run.communicate(timeout=120)
    assert check.returncode == 2, check_err
    assert run.returncode == 78, run_err
    assert "Traceback" not in check_err + run_err
    checked, ran = _checked(check_err), _ran(run_err)
    # The video file and the models exist, so check's probes add nothing: the same issues.
    assert checked == ran, f"check:\n{check_err}\nrun:\n{run_err}"
    assert len(checked) == case.count, check_err
    joined = "\n".join(checked)
    for fragment in case.fragments:
        assert fragment in joined, joined
    assert f"not starting: {len(ran)} config error(s)" in run_err


def test_an_unreachable_broker_is_a_warning_in_check_not_an_error(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        config = tmp_path / "posed.yaml"
        config.write_text(base(mqtt=f"{{host: 127.0.0.1, port: {port}}}"))
        result = subprocess.run(
            [*POSED, "check", "-c", str(config), "--model-dir", str(MODELS)], capture_output=True, text=True
        )
    assert result.returncode == 0, result.stderr
    assert (
        f"warning: cannot connect to the MQTT broker at 127.0.0.1:{port}: Connection refused" in result.stderr
    )
    assert "OK" in result.stdout
