"""Saving a zone from the page into the config (`preview.allow_edit`), in a real browser.

End to end: draw, save, the daemon reloads, occupancy follows; the file keeps its comments
and gets a backup. Refused: a zone posed finds invalid (its error shown on the page), a
file changed since the page loaded (409), a page on another origin, a browser without the
token. The file is unchanged after every refusal.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MODELS
from tests.daemon_harness import Daemon
from tests.mosquitto import Mosquitto
from tests.preview_support import chromium, page_url, preview_config

TOKEN = "zone-save-token-0123456789"
WAIT = 60.0
COMMENT = "# the living room camera: keep this comment\n"


@dataclass
class Served:
    url: str
    config: Path
    daemon: Daemon


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("zone-save")
    with Mosquitto(directory) as broker:
        config = preview_config(
            directory / "posed.yaml",
            broker_port=broker.port,
            preview=f"{{enabled: true, port: 0, allow_edit: true, token: {TOKEN}}}",
        )
        config.write_text(COMMENT + config.read_text() + f"model_dir: {MODELS}  # models, in place\n")
        with Daemon(config, directory / "posed.log") as daemon:
            daemon.notify.wait_for("READY=1", timeout=WAIT)
            yield Served(page_url(daemon), config, daemon)


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Any]:
    with chromium() as driver:
        driver.get(served.url + "camera/squats?token=" + TOKEN)
        yield driver


def wait_for(browser: Any, script: str, what: str, timeout: float = WAIT) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout).until(lambda b: b.execute_script(script), what)


def open_camera(browser: Any, served: Served) -> None:
    browser.get(served.url + "camera/squats")
    wait_for(browser, "return window.posedPreview.frames > 0", "a first frame")
    wait_for(browser, "return !document.getElementById('zone-save').hidden", "the save button")


def draw_and_save(browser: Any, name: str, points: list[tuple[float, float]]) -> str:
    """Draw `points` (normalized) as clicks on the canvas, save, and return what the page says."""
    from selenium.webdriver.common.action_chains import ActionChains

    field = browser.find_element("id", "zone-name")
    field.clear()
    field.send_keys(name)
    canvas = browser.find_element("id", "view")
    size = canvas.size
    for fx, fy in points:
        dx, dy = round((fx - 0.5) * size["width"]), round((fy - 0.5) * size["height"])
        ActionChains(browser).move_to_element_with_offset(canvas, dx, dy).click().perform()
    browser.execute_script("document.getElementById('zone-saved').textContent = ''")
    browser.execute_script("document.getElementById('zone-problem').textContent = ''")
    browser.find_element("id", "zone-save").click()
    return str(
        wait_for(
            browser,
            "return document.getElementById('zone-saved').textContent"
            " || document.getElementById('zone-problem').textContent",
            "the save's answer",
        )
    )


def test_a_drawn_zone_is_saved_reloaded_and_its_occupancy_follows(browser: Any, served: Served) -> None:
    open_camera(browser, served)
    said = draw_and_save(browser, "everywhere", [(0.01, 0.01), (0.99, 0.01), (0.99, 0.99), (0.01, 0.99)])
    assert said.startswith("Saved zone everywhere"), said
    text = served.config.read_text()
    assert text.startswith(COMMENT) and "# models, in place" in text  # comments kept
    assert "everywhere:" in text and "points: [[0." in text
    backup = served.config.with_name("posed.yaml.bak")
    assert backup.is_file() and "everywhere" not in backup.read_text()
    served.daemon.wait_log("reloaded: restarted", timeout=WAIT)
    # The page shows the new zone with the squatter in it.
    wait_for(
        browser,
        "const d = window.posedPreview.drawn; const z = d && d.zones && d.zones.everywhere;"
        " return z && z.occupancy >= 1",
        "the new zone occupied",
    )


def test_a_zone_posed_refuses_shows_posed_error_and_leaves_the_file(browser: Any, served: Served) -> None:
    open_camera(browser, served)
    before = served.config.read_bytes()
    # A point off the image: the page clamps clicks, so put it in the draft as a script could.
    browser.execute_script("draft.push([0.1, 0.1], [0.5, 0.2], [1.5, 0.9]); zoneYaml();")
    browser.find_element("id", "zone-save").click()
    said = wait_for(browser, "return document.getElementById('zone-problem').textContent", "the refusal")
    assert "HTTP 422" in said and "posed refused the zone" in said, said
    assert "cameras.squats.zones.offside.points" in said or "within 0..1" in said, said
    assert served.config.read_bytes() == before


def test_a_file_changed_since_the_page_loaded_is_not_overwritten(browser: Any, served: Served) -> None:
    open_camera(browser, served)
    changed = served.config.read_text() + "# edited by hand meanwhile\n"
    served.config.write_text(changed)
    said = draw_and_save(browser, "late", [(0.1, 0.1), (0.5, 0.1), (0.5, 0.5)])
    assert "HTTP 409" in said and "changed since the page loaded" in said, said
    assert served.config.read_text() == changed


def test_a_page_on_another_origin_cannot_save(served: Served, tmp_path: Path) -> None:
    before = served.config.read_bytes()
    target = served.url + "api/cameras/squats/zones"
    body = '{"name": "evil", "points": [[0,0],[1,0],[1,1]], "version": "' + "0" * 64 + '"}'
    (tmp_path / "evil.html").write_text(
        "<form id=f method=post enctype=text/plain action='" + target + "'>"
        "<input name='" + body + "' value=''></form>"
        "<script>"
        "fetch('" + target + "', {method: 'POST', credentials: 'include', "
        "headers: {'Content-Type': 'application/json'}, body: '" + body + "'})"
        ".then(r => document.title = 'fetch ' + r.status, e => document.title = 'fetch blocked')"
        ".finally(() => setTimeout(() => document.getElementById('f').submit(), 1000));"
        "</script>"
    )
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **k)  # noqa: E731
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as other:
        threading.Thread(target=other.serve_forever, daemon=True).start()
        with chromium() as browser:
            browser.get(served.url + "?token=" + TOKEN)  # logged in: the cookie is there
            browser.get(f"http://localhost:{other.server_address[1]}/evil.html")
            assert wait_for(browser, "return document.title.startsWith('fetch') && document.title", "fetch")
            # The form posts and lands on the refusal; the cookie is SameSite=Strict anyway.
            wait_for(browser, "return location.pathname.startsWith('/api/')", "the form's answer", 15)
            assert any(code in browser.page_source for code in ("401", "403")), browser.page_source
        other.shutdown()
    assert served.config.read_bytes() == before
    assert "zone evil" not in served.daemon.log_text()


def test_a_browser_without_the_token_cannot_save(served: Served) -> None:
    before = served.config.read_bytes()
    with chromium() as browser:
        browser.get(served.url + "camera/squats?token=" + TOKEN)
        open_camera(browser, served)
        browser.delete_all_cookies()  # the token is gone
        said = draw_and_save(browser, "tokenless", [(0.1, 0.1), (0.5, 0.1), (0.5, 0.5)])
    assert "HTTP 401" in said, said
    assert served.config.read_bytes() == before
