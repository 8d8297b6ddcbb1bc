"""What a new user trips over on the command line: global options after the subcommand, help
that shows defaults, `--from` with a missing folder, and config/pi-coral.yaml, `posed models
fetch` and the missing-model hint agreeing on the Edge TPU variant."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from posed.cli.main import _leaf_parsers, build_parser, main
from posed.errors import ModelNotFoundError
from posed.models.resolve import resolve_named
from tests.conftest import REPO
from tests.models_support import ServedFiles, http_server, isolate, with_posenet_decoder


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "-c", "x.yaml", "--log-level", "debug"],
        ["--log-level", "debug", "run", "-c", "x.yaml"],
        ["estimate", "a.jpg", "--log-level", "debug"],
        ["models", "fetch", "blazepose-lite", "--log-level", "debug"],
        ["demo", "--log-level", "debug"],
    ],
)
def test_the_log_level_is_accepted_before_or_after_the_subcommand(argv: list[str]) -> None:
    assert build_parser().parse_args(argv).log_level == "debug"


def test_after_the_subcommand_wins_and_absent_keeps_the_global_one() -> None:
    parser = build_parser()
    assert parser.parse_args(["--log-level", "error", "bench", "--log-level", "info"]).log_level == "info"
    assert parser.parse_args(["--log-level", "error", "bench"]).log_level == "error"
    assert parser.parse_args(["bench"]).log_level is None


def every_option(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.Action]]:
    found = []
    for child in _leaf_parsers(parser):
        for action in child._actions:
            if action.option_strings and action.help != argparse.SUPPRESS:
                found.append((child.prog, action))
    return found


def test_help_shows_every_default() -> None:
    parser = build_parser()
    silent = []
    for prog, action in every_option(parser):
        if prog == "posed check":
            continue  # posed/cli/check.py's messages are checked by the config tests
        if isinstance(action, argparse._HelpAction | argparse._VersionAction):
            continue
        # No value to show: the help must say in words what happens without the option.
        nothing = action.default in (None, False, [], argparse.SUPPRESS)
        if nothing and (action.nargs == 0 or action.required or "default" in (action.help or "")):
            continue
        parent = next(p for p in _leaf_parsers(parser) if p.prog == prog)
        text = " ".join(parent.format_help().split())
        flag = action.option_strings[-1]
        entry = text[text.index(flag, text.index("options:")) :][:400]
        if "default" not in entry:
            silent.append(f"{prog} {flag}")
    assert silent == []


def test_help_texts_a_new_user_reads() -> None:
    parser = build_parser()
    helps = {p.prog: " ".join(p.format_help().split()) for p in _leaf_parsers(parser)}
    assert "Global options (before or after the command): --log-level" in helps["posed run"]
    assert "(default: blazepose-full)" in helps["posed estimate"]
    assert "Re-hash every model file in the store" in helps["posed models verify"]
    assert "Every model posed knows" in helps["posed models list"]


def test_fetch_from_a_missing_folder_is_an_error_not_a_download(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    served = ServedFiles({})
    with http_server(served) as url:
        argv = ["models", "fetch", "blazepose-lite", "--model-dir", str(store), "--mirror", url]
        code = main([*argv, "--from", str(tmp_path / "usb-stick")])
    assert code == 1
    assert f"--from: no such directory: {tmp_path / 'usb-stick'}" in capsys.readouterr().err
    assert served.requests == [], "nothing was asked of the network"


def test_pi_coral_config_fetch_and_hint_agree_on_the_edge_tpu_variant(
    store: Path, models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (REPO / "config" / "pi-coral.yaml").read_text()
    model = YAML(typ="safe").load(text)["model"]["name"]
    assert model.endswith("-edgetpu")
    command = re.search(r"# Models:\s+(posed models fetch .*)", text)
    assert command is not None and "--allow-unverified" in command.group(1)
    config = tmp_path / "pi.yaml"
    config.write_text(text.replace("/var/lib/posed/models", str(store)))
    cpu = "posenet_mobilenet_v1_075_481_641_quant.tflite"
    # No compiled file exists here; the stand-in is the CPU network with Coral's decoder op, as published.
    tpu = with_posenet_decoder(models_dir / cpu, tmp_path / "tpu.tflite").read_bytes()
    served = ServedFiles(
        {cpu: (models_dir / cpu).read_bytes(), cpu.replace(".tflite", "_decoder_edgetpu.tflite"): tpu}
    )
    with http_server(served) as url:
        # The comment's command, with this test's server standing in for Coral's.
        argv = [*command.group(1).split()[1:], "--mirror", url]
        assert main([a if a != "/etc/posed/posed.yaml" else str(config) for a in argv]) == 0
    out = capsys.readouterr().out
    assert f"{cpu}: installed" in out and "_edgetpu.tflite: installed" in out
    assert (store / cpu.replace(".tflite", "_edgetpu.tflite")).is_file()
    # Without the Edge TPU file, the hint `posed check` and `posed run` give names the very model the
    # comment's command fetches.
    (store / cpu.replace(".tflite", "_edgetpu.tflite")).unlink()
    with pytest.raises(ModelNotFoundError, match=f"run `posed models fetch {model} --model-dir {store}`"):
        resolve_named(model, [store])
