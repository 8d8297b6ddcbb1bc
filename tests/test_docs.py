"""The documentation site: it builds without a warning, its generated reference pages match the
code, the config schema accepts every shipped example config, and no user-facing text talks
about tickets or work sessions."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from tests.conftest import REPO
from tools import gen_reference

EXAMPLES = sorted((REPO / "config").glob("*.yaml"))


def test_the_generated_reference_pages_are_current() -> None:
    """Guards: a config key or payload field changed in the code without regenerating the docs
    fails here, with the command to run."""
    stale = gen_reference.stale()
    assert not stale, f"stale: {[str(p.relative_to(REPO)) for p in stale]}; run {gen_reference.REGENERATE}"


def test_a_hand_edited_or_outdated_page_is_found_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards: the staleness check compares contents, not only that the files exist."""
    for page in (REPO / "docs" / "reference").iterdir():
        (tmp_path / page.name).write_bytes(page.read_bytes())
    monkeypatch.setattr(gen_reference, "REFERENCE", tmp_path)
    assert gen_reference.stale() == []
    edited = tmp_path / "configuration.md"
    edited.write_text(
        edited.read_text().replace("Seconds one inference may take", "Seconds one run may take")
    )
    assert gen_reference.stale() == [edited]
    assert gen_reference.main(["--check"]) == 1


def test_the_configuration_reference_has_every_key_with_type_default_and_range() -> None:
    text = (REPO / "docs" / "reference" / "configuration.md").read_text()
    for heading in (
        "## `backend` with `type: tflite`",
        "## `backend` with `type: openvino`",
        "## `backend` with `type: kserve`",
        "## `cameras.<camera>` with `type: video`",
        "## `events.falls`",
        "## `mqtt.tls`",
        "## `model.posenet.tracker`",
    ):
        assert heading in text, heading
    row = next(line for line in text.splitlines() if line.startswith("| `hang_timeout` |"))
    assert "`10.0`" in row and "[1, 3600]" in row and "Seconds one inference may take" in row


def _schema() -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "posed", "config", "schema"], capture_output=True, text=True, check=True
    )
    schema: dict[str, Any] = json.loads(result.stdout)
    return schema


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return _schema()


def _plain(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text())


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_posed_config_schema_accepts_every_shipped_example(schema: dict[str, Any], example: Path) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(_plain(example)))
    assert not errors, [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def test_the_schema_refuses_what_posed_refuses(schema: dict[str, Any]) -> None:
    """Guards: the editor's schema is strict as posed is: unknown keys, wrong backend keys and
    out-of-range numbers are marked as the user types them."""
    validator = jsonschema.Draft202012Validator(schema)
    good = _plain(REPO / "config" / "demo-video.yaml")
    assert validator.is_valid(good)
    for broken in (
        {**good, "colour": "red"},
        {**good, "backend": {"type": "tflite", "device": "GPU"}},  # an openvino key
        {**good, "daemon": {"hang_timeout": 0}},
        {**good, "cameras": {"gym": {"type": "video"}}},  # no path
    ):
        assert not validator.is_valid(broken), broken


def test_the_shipped_schema_file_is_what_the_command_prints(schema: dict[str, Any]) -> None:
    shipped = json.loads((REPO / "docs" / "reference" / "posed.schema.json").read_text())
    assert shipped == schema


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    """Guards: a broken link, a missing page or a page left out of the nav fails the suite."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "configuration" / "index.html").is_file()


def test_the_readme_fits_on_a_screen_and_leads_to_a_drawn_pose() -> None:
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    order = ["docs/preview.png", "mosquitto-clients", "python3-venv", "posed demo", "pytest"]
    places = [text.find(item) for item in order[:1]] + [text.find("posed demo")]
    assert all(p >= 0 for p in places)
    assert text.find("![") < text.find("## Install") < text.find("posed demo") < text.find("## Tests")
    for item in order:
        assert item in text, item


# Ticket and session talk in anything a user or a developer reads.
TICKET_TALK = re.compile(r"\b(?:issue|session|ticket)s? ?#?\d+|\bgoal \d\b|\bissue's\b", re.IGNORECASE)
CHECKED = ("posed", "backends", "tests", "bench", "docs", "config", "systemd", "tools")


def test_no_text_names_an_issue_or_a_work_session() -> None:
    """Guards: comments, docstrings, test names and docs say what a thing does or guards, never
    which ticket or session asked for it."""
    files = [REPO / "README.md", REPO / "CHANGELOG.md", REPO / "pyproject.toml", REPO / "mkdocs.yml"]
    for folder in CHECKED:
        files += [
            p
            for p in (REPO / folder).rglob("*")
            if p.is_file()
            and p.suffix
            in {".py", ".md", ".toml", ".yaml", ".yml", ".sh", ".js", ".html", ".css", ".service"}
            and not any(part.startswith(".venv") for part in p.parts)  # .venv-mediapipe too
        ]
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in files
        if path != Path(__file__)
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if TICKET_TALK.search(line)
    ]
    assert not found, "\n".join(found)
