"""The page's event timeline: recent stored events per camera, and their snapshots and clips.

GET only, on the same application as the rest of the page, so the same guard checks
the token, the Origin and the Host of every request. A file is served only for an id
the store holds (the id's pattern excludes every path trick), through aiohttp's
FileResponse.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from posed.events import wording
from posed.evidence.config import SNAPSHOT_KINDS
from posed.preview.tap import PreviewTap

TIMELINE_LIMIT = 100  # most events one request returns
FILE_PATTERN = re.compile(r"^(?P<id>[0-9]{13}-[A-Za-z0-9_-]{1,64}-(?:fall|gesture|zone|rep)-[0-9a-f]{1,12})"
                          r"\.(?P<suffix>jpg|thumb\.jpg|mp4)$")  # fmt: skip
CONTENT_TYPES = {"jpg": "image/jpeg", "thumb.jpg": "image/jpeg", "mp4": "video/mp4"}


class Timeline:
    def __init__(self, tap: PreviewTap) -> None:
        self._tap = tap

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/api/timeline", self._timeline)
        app.router.add_get("/api/evidence/{name}", self._file)

    async def _timeline(self, request: web.Request) -> web.StreamResponse:
        camera = request.query.get("camera") or None
        kind = request.query.get("kind") or None
        if camera is not None and camera not in self._tap.cameras():
            raise web.HTTPNotFound(text=f"404: no camera named {camera!r}\n")
        if kind is not None and kind not in SNAPSHOT_KINDS:
            raise web.HTTPBadRequest(text=f"400: kind must be one of {', '.join(SNAPSHOT_KINDS)}\n")
        store = self._tap.evidence
        if store is None:
            return web.json_response({"enabled": False, "events": []})
        entries = store.entries(camera, kind, TIMELINE_LIMIT)
        return web.json_response({"enabled": True, "events": [self._describe(e) for e in entries]})

    @staticmethod
    def _describe(entry: Any) -> dict[str, Any]:
        return {
            "id": entry.id,
            "camera": entry.camera,
            "kind": entry.kind,
            "timestamp": entry.wall,
            "text": wording.describe(entry.event),
            "snapshot": f"/api/evidence/{entry.id}.jpg" if "jpg" in entry.files else None,
            "thumbnail": f"/api/evidence/{entry.id}.thumb.jpg" if "thumb.jpg" in entry.files else None,
            "clip": f"/api/evidence/{entry.id}.mp4" if "mp4" in entry.files else None,
        }

    async def _file(self, request: web.Request) -> web.StreamResponse:
        match = FILE_PATTERN.match(request.match_info["name"])
        store = self._tap.evidence
        path = None
        if match is not None and store is not None:
            path = store.path(match["id"], match["suffix"])
        if match is None or path is None or not path.is_file():
            raise web.HTTPNotFound(text="404: no such snapshot or clip (it may have expired)\n")
        # Kept pictures do not change: a browser may keep them (they are still behind the guard).
        headers = {"Content-Type": CONTENT_TYPES[match["suffix"]], "Cache-Control": "private, max-age=3600"}
        return web.FileResponse(path, headers=headers)
