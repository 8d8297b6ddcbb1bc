"""Saving a zone from the page (`preview.allow_edit`): the only endpoint that changes anything.

Routes exist only when allow_edit is on. On top of the guard every request passes
(token, Origin, Host), a save must:
- carry an Origin header naming this page (a browser always sends one on a POST; a
  form or script on another site names its own and is refused by the guard; a request
  with none is refused here);
- be `application/json` (a cross-site form cannot send it without a CORS preflight,
  which this server never grants);
- name the version (SHA-256) of the file the page loaded: a file changed since is refused
  (409), so a save never overwrites an edit made meanwhile.
posed's own validation errors come back as text (422), for the page to show.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from posed.config.zone_write import StaleConfigError, ZoneWriter
from posed.errors import ConfigError

log = logging.getLogger(__name__)

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_POINTS = 64
MAX_BODY = 16 * 1024  # bytes of a save request


class ZoneEditor:
    """The endpoints; `on_saved` asks the daemon to reload (it runs on the server's thread)."""

    def __init__(self, writer: ZoneWriter, on_saved: Callable[[], None]) -> None:
        self._writer = writer
        self._on_saved = on_saved

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/api/config/version", self._version)
        app.router.add_post("/api/cameras/{camera}/zones", self._save)

    async def _version(self, request: web.Request) -> web.StreamResponse:
        version = await asyncio.get_running_loop().run_in_executor(None, self._writer.version)
        return web.json_response({"version": version})

    async def _save(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Origin") is None:
            raise web.HTTPForbidden(text="403: a save must come from the page (no Origin header)\n")
        if request.content_type != "application/json":
            raise web.HTTPUnsupportedMediaType(text="415: a save is JSON (application/json)\n")
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length)
        camera = request.match_info["camera"]
        name, points, version = _parse(await request.content.read(MAX_BODY + 1))
        loop = asyncio.get_running_loop()
        try:
            saved = await loop.run_in_executor(None, self._writer.save, camera, name, points, version)
        except StaleConfigError as exc:
            raise web.HTTPConflict(text=f"409: {exc}\n") from None
        except ConfigError as exc:
            text = "\n".join(str(issue) for issue in exc.issues)
            raise web.HTTPUnprocessableEntity(text=f"posed refused the zone:\n{text}\n") from None
        log.info("preview: zone %s of camera %s saved to %s; reloading", name, camera, self._writer.path)
        self._on_saved()
        return web.json_response({"version": saved.version, "backup": str(saved.backup)})


def _parse(body: bytes) -> tuple[str, list[tuple[float, float]], str]:
    if len(body) > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=len(body))
    try:
        data: Any = json.loads(body)
    except ValueError:
        raise web.HTTPBadRequest(text="400: the body is not JSON\n") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="400: expected {name, points, version}\n")
    name, points, version = data.get("name"), data.get("points"), data.get("version")
    if not isinstance(name, str) or not NAME.match(name):
        raise web.HTTPBadRequest(text="400: name: 1 to 64 letters, digits, - and _\n")
    if not isinstance(version, str) or not re.fullmatch(r"[0-9a-f]{64}", version):
        raise web.HTTPBadRequest(text="400: version: the SHA-256 the page loaded\n")
    if not isinstance(points, list) or not 3 <= len(points) <= MAX_POINTS:
        raise web.HTTPBadRequest(text=f"400: points: 3 to {MAX_POINTS} [x, y] pairs\n")
    parsed = []
    for point in points:
        if (
            not isinstance(point, list)
            or len(point) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
        ):
            raise web.HTTPBadRequest(text="400: each point is [x, y] with numbers\n")
        parsed.append((float(point[0]), float(point[1])))
    return name, parsed, version
