"""A test RTSP server on 127.0.0.1, run with the SYSTEM python3 (GStreamer's Python bindings come
from Debian packages: python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-rtsp and the
base/good/ugly plugins, x264enc being in -ugly).

    /usr/bin/python3 tests/rtsp_server.py PORT [SECONDS]

Serves a 160x120 test pattern at 25 fps as H.264 on rtsp://127.0.0.1:PORT/test, prints "ready"
once it listens, and exits after SECONDS (default 60): a test restarts it to simulate a drop.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PIPELINE = ("( videotestsrc is-live=true pattern=ball ! video/x-raw,width=160,height=120,framerate=25/1 "
            "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 ! rtph264pay name=pay0 pt=96 )")


def main() -> None:
    port, seconds = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(PIPELINE)
    factory.set_shared(True)
    server.get_mount_points().add_factory("/test", factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{port}", flush=True)
        sys.exit(1)
    loop = GLib.MainLoop()
    GLib.timeout_add(int(seconds * 1000), loop.quit)
    print("ready", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
