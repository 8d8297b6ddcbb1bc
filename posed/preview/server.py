"""The preview's web server: aiohttp on its own event loop, in its own thread.

The daemon's preview part owns one `PreviewServer` and closes it like its other
parts. Closing ends every open stream at once (a viewer's WebSocket is closed with
"going away"), so SIGTERM is not held up by a browser tab.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from importlib import resources
from pathlib import Path

from aiohttp import WSCloseCode, web
from aiohttp.typedefs import Handler

from posed.errors import PreviewError
from posed.preview.config import PreviewConfig
from posed.preview.feed import Feed, hello
from posed.preview.guard import add_headers, make_guard
from posed.preview.limits import HANDLER_LIMITS, MAX_BODY, MAX_CONNECTIONS, ConnectionGate
from posed.preview.tap import PreviewTap
from posed.preview.timeline import Timeline
from posed.preview.zone_edit import ZoneEditor

log = logging.getLogger(__name__)

STATIC = Path(str(resources.files("posed.preview") / "static"))
START_TIMEOUT = 10.0  # seconds to bind the port
SHUTDOWN_GRACE = 1.0  # seconds aiohttp gives a plain request in flight when stopping


class PreviewApp:
    """The routes. Every one is GET, except saving a zone with `allow_edit` (posed.preview.zone_edit)."""

    def __init__(self, config: PreviewConfig, tap: PreviewTap, editor: ZoneEditor | None = None) -> None:
        self._config = config
        self._tap = tap
        self._editor = editor if config.allow_edit else None
        self._feeds: dict[str, Feed] = {}
        self._websockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()

    def build(self) -> web.Application:
        app = web.Application(middlewares=[make_guard(self._config.token)], client_max_size=MAX_BODY)
        app.on_response_prepare.append(add_headers)
        app.router.add_get("/", self._page("index.html"))
        app.router.add_get("/camera/{camera}", self._camera_page)
        app.router.add_get("/api/stats", self._stats)
        app.router.add_get("/api/cameras/{camera}/ws", self._stream)
        Timeline(self._tap).add_routes(app)
        if self._editor is not None:
            self._editor.add_routes(app)
        app.router.add_static("/static/", STATIC, follow_symlinks=False)
        app.on_shutdown.append(self._close_streams)
        return app

    def _page(self, name: str) -> Handler:
        async def page(request: web.Request) -> web.StreamResponse:
            return web.FileResponse(STATIC / name)

        return page

    def _known(self, request: web.Request) -> str:
        camera = request.match_info["camera"]
        if camera not in self._tap.cameras():
            raise web.HTTPNotFound(text=f"404: no camera named {camera!r}\n")
        return camera

    async def _camera_page(self, request: web.Request) -> web.StreamResponse:
        self._known(request)
        return web.FileResponse(STATIC / "camera.html")

    async def _stats(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self._tap.stats())

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        camera = self._known(request)
        ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=4096)
        await ws.prepare(request)
        self._websockets.add(ws)
        feed = self._feeds.get(camera)
        if feed is None:
            feed = self._feeds[camera] = Feed(camera, self._tap, self._config.max_fps, self._drop_feed)
        feed.join()
        sender = asyncio.create_task(self._send(ws, feed, camera))
        try:
            async for _ in ws:  # the page sends nothing; this notices the viewer leaving
                pass
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
            feed.leave()
        return ws

    async def _send(self, ws: web.WebSocketResponse, feed: Feed, camera: str) -> None:
        await ws.send_str(hello(camera, self._config.max_fps))
        seq = 0
        while not ws.closed:
            message = await feed.next_after(seq)
            seq = message.seq
            await ws.send_str(message.text)
            await ws.send_bytes(message.jpeg)

    def _drop_feed(self, feed: Feed) -> None:
        if self._feeds.get(feed.camera) is feed:
            del self._feeds[feed.camera]

    async def _close_streams(self, app: web.Application) -> None:
        for ws in list(self._websockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"posed is stopping")


class PreviewServer:
    """Serves the page on `config.host:config.port` until `close()`."""

    def __init__(self, config: PreviewConfig, tap: PreviewTap, editor: ZoneEditor | None = None) -> None:
        self.config = config
        self._app = PreviewApp(config, tap, editor)
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self.gate: ConnectionGate | None = None
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="preview", daemon=True)
        self.port = config.port

    @property
    def url(self) -> str:
        host = self.config.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}/"

    def start(self) -> None:
        """Bind and serve; PreviewError if the port cannot be had."""
        self._thread.start()
        if not self._started.wait(START_TIMEOUT):
            raise PreviewError(f"preview: the web server did not start within {START_TIMEOUT:.0f} s")
        if self._failure is not None:
            self._thread.join()
            raise PreviewError(
                f"preview: cannot listen on {self.config.host}:{self.config.port}: {self._failure}"
            ) from self._failure
        log.info("preview page on %s", self.url)

    def close(self, timeout: float = 3.0) -> None:
        if not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(max(timeout, 0.1))
        if self._thread.is_alive():
            log.warning("preview: the web server did not stop within %.1f s; leaving it", timeout)

    def __enter__(self) -> PreviewServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            try:
                loop.run_until_complete(self._bind())
            except BaseException as exc:  # reported to start(), which raises it in the daemon
                self._failure = exc
                return
            finally:
                self._started.set()
            loop.run_forever()  # until close() stops it
            loop.run_until_complete(self._unbind())
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    async def _bind(self) -> None:
        runner = web.AppRunner(
            self._app.build(),
            handle_signals=False,
            access_log=None,
            shutdown_timeout=SHUTDOWN_GRACE,
            **HANDLER_LIMITS,
        )
        await runner.setup()
        self._runner = runner
        server = runner.server
        assert server is not None  # set by setup()
        # The listening socket is ours, not a web.TCPSite's: its protocol factory is the
        # connection gate (posed.preview.limits), which aiohttp's sites cannot take.
        self.gate = ConnectionGate(server, MAX_CONNECTIONS)
        try:
            self._listener = await asyncio.get_running_loop().create_server(
                self.gate, self.config.host, self.config.port, reuse_address=True, backlog=MAX_CONNECTIONS
            )
        except BaseException:
            await runner.cleanup()
            raise
        sockets = self._listener.sockets
        if sockets:  # the port really bound, when the config asked for any free one
            self.port = int(sockets[0].getsockname()[1])

    async def _unbind(self) -> None:
        if self._listener is not None:
            self._listener.close()  # no new connections; the open ones close below
        if self._runner is not None:
            await self._runner.cleanup()  # on_shutdown closes the streams first
