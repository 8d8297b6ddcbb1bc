"""A real RTSP server for the camera tests: GStreamer's gst-rtsp-server on loopback.

Run by the system Python (`/usr/bin/python3`, which has python3-gi); the venv has
no `gi`. Usage: gst_rtsp_server.py PORT. Serves a live 320x240 30 fps H.264
stream of a solid red picture at rtsp://127.0.0.1:PORT/cam and prints READY once
it listens. SIGTERM stops it cleanly; the tests also SIGKILL it, as a crash.
"""

from __future__ import annotations

import signal
import sys

import gi  # type: ignore[import-not-found,unused-ignore]

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # type: ignore[import-not-found,unused-ignore]  # noqa: E402

PIPELINE = (
    "( videotestsrc is-live=true pattern=solid-color foreground-color=0xffff0000 "
    "! video/x-raw,width=320,height=240,framerate=30/1 "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 "
    "! rtph264pay name=pay0 pt=96 config-interval=1 )"
)


def main() -> int:
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(sys.argv[1])
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(PIPELINE)
    factory.set_shared(True)
    server.get_mount_points().add_factory("/cam", factory)
    if server.attach(None) == 0:
        print("FAILED to listen", flush=True)
        return 1
    loop = GLib.MainLoop()
    # A GLib source, not signal.signal: Python handlers wait for bytecode, and loop.run() runs none.
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda *_: loop.quit() or False)
    print("READY", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
