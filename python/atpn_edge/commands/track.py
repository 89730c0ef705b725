"""`atpn-edge track SOURCE`: track faces in a camera, video file, still image, folder of images,
RTSP stream or GStreamer pipeline.

Data flows one way: source (capture thread) -> tracker -> sinks (annotated video or images, JSON
lines, window). Before anything is opened, outputs that would overwrite the input (or each other)
are refused. Every output is closed on every exit path (end of input, --max-frames, Ctrl-C,
SIGTERM, SIGHUP, a source that stops delivering, a write error), so what was written so far stays
readable; the summary says why the run stopped (``stopped_by``).

Exit status: 0 the input ended (or --max-frames, or the window was closed); 1 the source failed,
no frame could be read, or an output could not be written; 2 bad options or setup (from the CLI);
128 + the signal's number when a signal stopped it (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time

from .arg_types import non_negative_float, non_negative_int, open_unit_interval, positive_float, positive_int
from .options import add_model_options

EXAMPLES = """\
SOURCE examples:
  0                                   camera index (V4L2 / USB webcam)
  video.mp4                           video file
  photo.jpg                           one still image (--output out.jpg)
  photos/                             a folder of images (--output annotated/ writes one image each)
  rtsp://user:pass@10.0.0.5:554/live  RTSP stream (credentials never appear in messages or outputs)
  Jetson CSI camera (needs OpenCV built with GStreamer, e.g. JetPack's python3-opencv):
  "nvarguscamerasrc sensor-id=0 ! video/x-raw(memory:NVMM),width=1280,height=720,framerate=30/1 !
   nvvidconv ! video/x-raw,format=BGRx ! videoconvert ! video/x-raw,format=BGR ! appsink drop=1"

Outputs: .mp4 is H.264 in fragmented MP4 (plays in a browser; after a crash it plays up to its
last second). --jsonl - streams JSON lines to stdout; the summary then goes to stderr.
Exit status: 0 done, 1 source or write failure, 2 bad options, 128+N stopped by signal N
(130 Ctrl-C, 143 SIGTERM, 129 SIGHUP). Fields: docs/OUTPUT.md.
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EXAMPLES
    p.add_argument("source", help="camera index, video file, image, folder of images, rtsp:// URL, or GStreamer pipeline (contains '!')")
    p.add_argument("--output", "-o", metavar="FILE",
                   help="write annotated output: a video (.mp4, .mov, .m4v, .mkv: H.264; .webm: VP9; .avi: MJPEG), "
                        "an image (.jpg, .png, ...) for a still, a folder for a folder of images")
    p.add_argument("--jsonl", metavar="FILE", help="write a header line, then per-frame results as JSON lines; - = stdout")
    p.add_argument("--display", action="store_true", help="show a window (needs an OpenCV with GUI support)")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line (stdout; stderr with --jsonl -)")
    add_model_options(p)
    p.add_argument("--detector", default="blazeface",
                   help="blazeface (default: the shipped BlazeFace short range), blazeface:full, blazeface:short+tiles "
                        "(also square tiles of wide frames: smaller faces, 3x the time), blazeface:MODEL.onnx, haar, yunet:MODEL.onnx")
    p.add_argument("--detect-every", type=non_negative_int, default=12, metavar="N",
                   help="also look for new faces every N frames (off the critical path); 0 = only when no face is tracked or one is lost (default: 12)")
    p.add_argument("--max-faces", type=positive_int, default=4, metavar="N", help="most faces tracked at once, >= 1 (default: 4)")
    p.add_argument("--score-threshold", type=open_unit_interval, default=0.5, metavar="T",
                   help="a track ends when the face score falls below this, in (0, 1) (default: 0.5)")
    p.add_argument("--no-smooth", action="store_true", help="turn off landmark/pose smoothing")
    p.add_argument("--max-frames", type=positive_int, default=None, metavar="N", help="stop after N frames, N >= 1 (default: all)")
    p.add_argument("--read-timeout", type=positive_float, default=5.0, metavar="S",
                   help="give up on a live source silent for S seconds (default: 5)")
    p.add_argument("--open-timeout", type=positive_float, default=10.0, metavar="S",
                   help="give up opening a network stream after S seconds (default: 10)")
    p.add_argument("--reconnect", type=non_negative_float, default=30.0, metavar="S",
                   help="a network stream that drops is reopened for up to S seconds; 0 = off; never for files (default: 30)")
    p.add_argument("--reconnect-backoff", type=positive_float, default=0.5, metavar="S",
                   help="first wait between reconnect attempts, doubled after each failure up to 5 s (default: 0.5)")
    p.add_argument("--no-progress", action="store_true", help="no progress line (shown on stderr when it is a terminal)")
    p.add_argument("--decode-thread", choices=("auto", "on", "off"), default="auto",
                   help="decode a video file on a thread of its own: auto = with 3 or more usable cores (with 2 it "
                        "takes the tracking thread's core and doubles its p99 latency); on = the most frames/s on 2 "
                        "cores; live sources always are (default: auto)")


def run(args: argparse.Namespace) -> int:
    from ..io.outputs import STDOUT, check_outputs
    from ..io.signals import StopSignals
    from ..io.sources import parse_source

    spec = parse_source(args.source)
    check_outputs(spec.target if not spec.live else None, {"--output": args.output, "--jsonl": args.jsonl})
    if args.display:
        _check_display()
    report = sys.stderr if args.jsonl == STDOUT else sys.stdout  # stdout then carries only JSON lines
    with StopSignals() as stop:
        return _run(args, spec, stop, report)


def _image_output(args: argparse.Namespace, spec, fps: float | None):
    """The sink for --output: a video, one still, or a folder of stills (validated, nothing opened)."""
    from ..io.stills import FolderSink, ImageSink, is_image_path
    from ..io.video_writer import VideoSink

    if args.output is None:
        return None
    if spec.kind == "folder":
        return FolderSink(args.output)
    if is_image_path(args.output):
        if spec.kind != "image":
            raise ValueError(f"--output {args.output} is an image, but the source is a {spec.kind}: write a video (.mp4)")
        return ImageSink(args.output)
    return VideoSink(args.output, fps=fps or 30.0)


def _run(args: argparse.Namespace, spec, stop, report) -> int:
    from ..io.draw import draw_faces
    from ..io.jsonl import JsonlSink
    from ..io.progress import Progress, RecentRate
    from ..io.redact import redact
    from ..io.signals import Stop, exit_code
    from ..io.sources import FrameSource, SourceError
    from ..io.stream_reconnect import ReconnectPolicy
    from ..io.video_writer import WriteError
    from ..tracking.tracker import Tracker, TrackerConfig

    source = tracker = None
    try:
        source = FrameSource(args.source, read_timeout=args.read_timeout, open_timeout=args.open_timeout,
                             reconnect=ReconnectPolicy(args.reconnect, args.reconnect_backoff, max(5.0, args.reconnect_backoff)),
                             threaded={"auto": None, "on": True, "off": False}[args.decode_thread])
        video = _image_output(args, spec, source.fps)
        tracker = Tracker(detector=args.detector, model=args.model, backend=args.backend, threads=args.threads,
                          config=TrackerConfig.from_args(args, live=source.live))
        source.defer_to(tracker.search_gate)
    except Stop as exc:
        if source is not None:
            source.close()
        print(f"atpn-edge track: {signal.Signals(exc.signum).name} before the first frame; nothing written", file=sys.stderr)
        return exit_code(exc.signum)
    except BaseException:
        if source is not None:
            source.close()
        raise

    stills = spec.kind in ("image", "folder")  # unrelated pictures: each one is detected afresh
    jsonl = None
    error = write_error = None
    signum, stopped_by, frames = None, "end", 0
    progress = Progress(source.frame_count, enabled=False if args.no_progress else None)
    rate, t0 = RecentRate(1.0), time.perf_counter()
    try:
        if args.jsonl:
            info = tracker.pipeline.info
            jsonl = JsonlSink(args.jsonl, header={
                "model_version": info.model_version, "landmark_scheme": info.landmark_scheme,
                "num_landmarks": info.num_landmarks, "fps": source.fps, "source": spec.shown,
                "source_kind": spec.kind, "box": "landmarks"})
        for frame in source:
            with stop.hold():  # a signal waits until this frame is tracked and written whole
                if stills:
                    tracker.reset()
                faces = tracker.track(frame.image, timestamp=frame.timestamp)
                frames += 1
                now_fps = rate.tick()
                if jsonl is not None:
                    size = (frame.image.shape[1], frame.image.shape[0])
                    jsonl.write(frame.index, frame.timestamp, faces, frame_size=size, image=frame.name)
                if video is not None or args.display:
                    shown = draw_faces(_drawable(frame.image), faces, fps=None if stills else now_fps)
                    if video is not None:
                        if stills:
                            video.write(shown, frame.name)
                        else:
                            video.write(shown, frame.timestamp if source.live else None)
                    if args.display and _show(shown):
                        stopped_by = "window"
                        break
            progress.update(frames, len(faces))
            if args.max_frames and frames >= args.max_frames:
                stopped_by = "max_frames"
                break
    except SourceError as exc:
        error = str(exc)
    except WriteError as exc:
        write_error = str(exc)
    except Stop as exc:
        signum = exc.signum
    except KeyboardInterrupt:  # raised by code that runs outside our handlers (tests, embedding)
        signum = signal.SIGINT
    finally:
        stop.finishing()  # from here on a second signal cannot cut the outputs short
        elapsed = time.perf_counter() - t0
        source.close()
        tracker.close()  # the detector thread
        for sink in (video, jsonl):
            if sink is None:
                continue
            try:
                sink.close()
            except WriteError as exc:
                write_error = write_error or str(exc)
        if args.display:
            _close_windows()
    progress.finish(frames, tracker.num_tracks)

    if write_error:
        stopped_by = "write_error"
        print(f"atpn-edge track: {redact(write_error)}; stopped after {frames} frames, what was written is kept", file=sys.stderr)
    elif error:
        stopped_by = "error"
        print(f"atpn-edge track: {redact(error)}; stopped after {frames} frames, outputs kept", file=sys.stderr)
    elif signum is not None:
        stopped_by = "interrupt"
        print(f"atpn-edge track: interrupted by {signal.Signals(signum).name} after {frames} frames, outputs closed", file=sys.stderr)
    if frames == 0 and stopped_by == "end":
        print(f"atpn-edge track: no frame could be read from {spec.shown}", file=sys.stderr)
    expected = source.frame_count if spec.kind == "file" else 0
    ended_early = bool(stopped_by == "end" and expected and frames < expected)
    if ended_early:
        print(f"atpn-edge track: {spec.shown} ended after {frames} of the {expected} frames its header announces "
              "(truncated or damaged file)", file=sys.stderr)
    for path in source.skipped:
        print(f"atpn-edge track: skipped {path.name}: not a readable image", file=sys.stderr)

    s = tracker.stats
    summary = {
        "frames": s.frames, "frames_with_face": s.frames_with_face, "detector_calls": s.detector_calls,
        "tracks": s.tracks_started, "fps": round(frames / elapsed, 2) if elapsed > 0 else 0.0,
        "tracks_resumed": s.tracks_resumed, "dropped_frames": source.dropped, "size_resets": s.size_resets,
        "reconnects": source.reconnects, "lost_s": round(source.lost_s, 2),
        "backend": getattr(tracker.pipeline, "backend", "?"),
        "backend_reason": getattr(tracker.pipeline, "backend_reason", ""), "detector": args.detector,
        "source": spec.shown, "stopped_by": stopped_by,
        "latency_ms": tracker.latency(),  # per-frame track() time (decode excluded) and the detector's
    }
    if expected:
        summary.update(frames_expected=expected, ended_early=ended_early)
    if signum is not None:
        summary["signal"] = signal.Signals(signum).name
    if args.json:
        print(json.dumps(summary), file=report)
    else:
        print(f"{s.frames} frames, face on {s.frames_with_face}, {s.detector_calls} detector calls, "
              f"{s.tracks_started} tracks, {summary['fps']} fps", file=report)
    if signum is not None:
        return exit_code(signum)
    return 1 if (error or write_error or frames == 0) else 0


def _drawable(image):
    """The frame as drawn: BGR (grey and BGRA inputs are converted), a copy so the source's buffer stays intact."""
    from ..core.frames import as_bgr

    out = as_bgr(image)
    return out.copy() if out is image else out


def _check_display() -> None:
    import cv2

    gui = next((ln.split(":", 1)[1].strip() for ln in cv2.getBuildInformation().splitlines() if ln.strip().startswith("GUI:")), "")
    if gui.upper() in ("", "NONE"):
        raise RuntimeError(
            "--display needs an OpenCV with GUI support, but this one is headless (GUI: NONE); "
            "install opencv-python instead of opencv-python-headless, or write --output and watch the file"
        )


def _show(image) -> bool:
    """Show a frame; True when the user pressed q or Esc."""
    import cv2

    cv2.imshow("atpn-edge", image)
    return (cv2.waitKey(1) & 0xFF) in (ord("q"), 27)


def _close_windows() -> None:
    import cv2

    try:
        cv2.destroyAllWindows()
    except cv2.error:
        pass
