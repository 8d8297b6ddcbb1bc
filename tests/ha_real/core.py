"""A real Home Assistant Core 2024.3.3 for tests: its own venv, config, user, token and MQTT entry.

The venv lives in $POSED_HA_VENV or ${XDG_CACHE_HOME:-~/.cache}/posed-ha/venv and is
made on first use (pip, from PyPI): Home Assistant 2024.3.3 is the newest that runs
on Python 3.11; `josepy<2` because josepy 2 breaks that release's acme import; the
requirements of the integrations it always loads are installed up front, so Home
Assistant runs with --skip-pip and installs nothing during a test.

Setup, as a user would do it: a config with only http, api, config, onboarding,
logger, and notify, counter and automation (for posed's blueprints); the first user
through the onboarding API; a long-lived token through the websocket API; MQTT added
through the REST config flow.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.mosquitto import free_port

HA_REQUIREMENTS = [
    "homeassistant==2024.3.3",
    "josepy<2",
    # What the integrations it always sets up (frontend, backup, hardware, person, ...) pin:
    "paho-mqtt==1.6.1",
    "Pillow==10.2.0",
    "aiohttp-fast-url-dispatcher==0.3.0",
    "aiohttp-zlib-ng==0.3.1",
    "aiohttp_cors==0.7.0",
    "home-assistant-frontend==20240307.0",
    "ifaddr==0.2.0",
    "janus==1.0.0",
    "psutil-home-assistant==0.0.1",
    "securetar==2024.2.1",
    "SQLAlchemy==2.0.27",
    "fnv-hash-fast==0.5.0",
]
WS_CLIENT = Path(__file__).with_name("ws_client.py")
CONFIG = """\
homeassistant:
  name: posed test
  latitude: 0
  longitude: 0
  elevation: 0
  unit_system: metric
  time_zone: UTC
  country: DE
  currency: EUR
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
config:
onboarding:
logger:
  default: info
notify:
counter:
automation: !include automations.yaml
"""


def venv_dir() -> Path:
    if "POSED_HA_VENV" in os.environ:
        return Path(os.environ["POSED_HA_VENV"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "posed-ha" / "venv"


def ensure_venv() -> Path:
    """The venv's bin directory, made or completed if needed."""
    venv = venv_dir()
    stamp = venv / "posed-requirements.sha256"
    digest = hashlib.sha256("\n".join(HA_REQUIREMENTS).encode()).hexdigest()
    if stamp.is_file() and stamp.read_text().strip() == digest:
        return venv / "bin"
    if not (venv / "bin" / "python").exists():
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *HA_REQUIREMENTS], check=True)
    stamp.write_text(digest + "\n")
    return venv / "bin"


class HomeAssistantCore:
    """`hass -c DIR --skip-pip` on a free port; `token` once `start()` returns."""

    def __init__(self, directory: Path) -> None:
        self.bin = ensure_venv()
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        (directory / "configuration.yaml").write_text(CONFIG.format(port=self.port))
        automations = directory / "automations.yaml"
        if not automations.exists():
            automations.write_text("[]\n")
        self.log_path = directory / "hass.out"
        self.token = ""
        self._process: subprocess.Popen[bytes] | None = None

    # -- process -------------------------------------------------------------------

    def start(self, timeout: float = 180.0) -> None:
        with self.log_path.open("ab") as out:
            self._process = subprocess.Popen(
                [str(self.bin / "hass"), "-c", str(self.directory), "--skip-pip"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"Home Assistant exited at start:\n{self.log_text()[-5000:]}")
            try:
                steps = self._request("GET", "/api/onboarding", auth=False)
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"Home Assistant not up in {timeout} s:\n{self.log_text()[-5000:]}"
                    ) from None
                time.sleep(0.5)
        if not any(s["step"] == "user" and s["done"] for s in steps):
            self._onboard()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> HomeAssistantCore:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- setup as a user would ---------------------------------------------------------

    def _onboard(self) -> None:
        client_id = f"{self.base}/"
        user = {
            "client_id": client_id,
            "name": "posed",
            "username": "posed",
            "password": "posed-test-pw",
            "language": "en",
        }
        code = self._request("POST", "/api/onboarding/users", user, auth=False)["auth_code"]
        form = {"grant_type": "authorization_code", "code": code, "client_id": client_id}
        access = self._request("POST", "/auth/token", form=form, auth=False)["access_token"]
        self.token = access
        (long_lived,) = self.ws(
            {"type": "auth/long_lived_access_token", "client_name": "posed test", "lifespan": 1}
        )
        self.token = str(long_lived)

    def add_mqtt(self, host: str, port: int) -> None:
        """MQTT through the REST config flow, as the UI does it."""
        flow = self._request(
            "POST", "/api/config/config_entries/flow", {"handler": "mqtt", "show_advanced_options": False}
        )
        if flow.get("type") == "form":
            flow = self._request(
                "POST", f"/api/config/config_entries/flow/{flow['flow_id']}", {"broker": host, "port": port}
            )
        if flow.get("type") != "create_entry":
            raise RuntimeError(f"the MQTT config flow did not create an entry: {flow}")

    # -- APIs ---------------------------------------------------------------------------

    def state(self, entity_id: str) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = self._request("GET", f"/api/states/{entity_id}")
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise
        return result

    def states(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._request("GET", "/api/states")
        return result

    def call(self, domain: str, service: str, data: dict[str, Any] | None = None) -> None:
        """A service call through the REST API (e.g. automation.reload)."""
        self._request("POST", f"/api/services/{domain}/{service}", data or {})

    def raw(self, path: str) -> bytes:
        """The body of an authenticated GET (e.g. /api/image_proxy/ENTITY)."""
        request = urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body: bytes = response.read()
            return body

    def ws(self, *commands: dict[str, Any]) -> list[Any]:
        done = subprocess.run(
            [str(self.bin / "python"), str(WS_CLIENT), self.base, self.token, *map(json.dumps, commands)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        results: list[Any] = json.loads(done.stdout)
        return results

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        form: dict[str, str] | None = None,
        auth: bool = True,
    ) -> Any:
        headers = {}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
