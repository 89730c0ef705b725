"""`atpn-edge track SOURCE`: track faces in a camera, video file, RTSP stream or GStreamer pipeline.

Data flows one way: source (capture thread) -> tracker -> sinks (annotated video, JSON lines,
window). Every output is closed on every exit path (end of input, --max-frames, Ctrl-C, a source
that stops delivering), so what was written so far stays readable.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

EXAMPLES = """\
SOURCE examples:
  0                                   camera index (V4L2 / USB webcam)
  video.mp4                           video file
  rtsp://user:pass@10.0.0.5:554/live  RTSP stream
  Jetson CSI camera (needs OpenCV built with GStreamer, e.g. JetPack's python3-opencv):
  "nvarguscamerasrc sensor-id=0 ! video/x-raw(memory:NVMM),width=1280,height=720,framerate=30/1 !
   nvvidconv ! video/x-raw,format=BGRx ! videoconvert ! video/x-raw,format=BGR ! appsink drop=1"
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    from .options import add_model_options

    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EXAMPLES
    p.add_argument("source", help="camera index, video file, rtsp:// URL, or GStreamer pipeline (contains '!')")
    p.add_argument("--output", "-o", metavar="FILE.mp4", help="write an annotated video (.mp4, .avi, .mkv, .mov)")
    p.add_argument("--jsonl", metavar="FILE", help="write per-frame results as JSON lines")
    p.add_argument("--display", action="store_true", help="show a window (needs an OpenCV with GUI support)")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last stdout line")
    add_model_options(p)
    p.add_argument("--detector", default="blazeface",
                   help="blazeface (default: the shipped BlazeFace short range), blazeface:full, blazeface:MODEL.onnx, haar, yunet:MODEL.onnx")
    p.add_argument("--detect-every", type=int, default=12, metavar="N",
                   help="also look for new faces every N frames (off the critical path); 0 = only when no face is tracked or one is lost (default: 12)")
    p.add_argument("--max-faces", type=int, default=4, help="most faces tracked at once (default: 4)")
    p.add_argument("--score-threshold", type=float, default=0.5, help="a track ends when the face score falls below this (default: 0.5)")
    p.add_argument("--no-smooth", action="store_true", help="turn off landmark/pose smoothing")
    p.add_argument("--max-frames", type=int, default=0, metavar="N", help="stop after N frames (0 = all)")
    p.add_argument("--read-timeout", type=float, default=5.0, metavar="S", help="give up on a live source silent for S seconds (default: 5)")
    p.add_argument("--no-progress", action="store_true", help="no progress line (shown on stderr when it is a terminal)")


def _check_display() -> None:
    import cv2

    gui = next((ln.split(":", 1)[1].strip() for ln in cv2.getBuildInformation().splitlines() if ln.strip().startswith("GUI:")), "")
    if gui.upper() in ("", "NONE"):
        raise RuntimeError(
            "--display needs an OpenCV with GUI support, but this one is headless (GUI: NONE); "
            "install opencv-python instead of opencv-python-headless, or write --output and watch the file"
        )


def run(args: argparse.Namespace) -> int:
    from ..io.draw import draw_faces
    from ..io.jsonl import JsonlSink
    from ..io.progress import Progress
    from ..io.sources import FrameSource, SourceError
    from ..io.video_writer import VideoSink
    from ..tracking.tracker import Tracker, TrackerConfig

    if args.display:
        _check_display()
    source = FrameSource(args.source, read_timeout=args.read_timeout)  # a wrong path fails before a model loads
    try:
        tracker = Tracker(detector=args.detector, model=args.model, backend=args.backend, threads=args.threads,
                          config=TrackerConfig.from_args(args, live=source.live))
    except BaseException:
        source.close()
        raise
    sinks: list = []
    error, interrupted, frames = None, False, 0
    try:
        video = VideoSink(args.output, fps=source.fps or 30.0) if args.output else None
        jsonl = JsonlSink(args.jsonl) if args.jsonl else None
        sinks = [s for s in (video, jsonl) if s is not None]
        progress = Progress(source.frame_count, enabled=False if args.no_progress else None)
        t0, rate = time.perf_counter(), None
        try:
            for frame in source:
                faces = tracker.track(frame.image, timestamp=frame.timestamp)
                frames += 1
                now = time.perf_counter()
                rate = frames / (now - t0) if now > t0 else None
                if jsonl is not None:
                    jsonl.write(frame.index, frame.timestamp, faces)
                if video is not None or args.display:
                    shown = draw_faces(_drawable(frame.image), faces, fps=rate)
                    if video is not None:
                        video.write(shown)
                    if args.display and _show(shown):
                        break
                progress.update(frames, len(faces))
                if args.max_frames and frames >= args.max_frames:
                    break
        except SourceError as exc:
            error = str(exc)
        except KeyboardInterrupt:
            interrupted = True
        elapsed = time.perf_counter() - t0
        progress.finish(frames, tracker.num_tracks)
    finally:
        tracker.close()  # the detector thread
        source.close()
        for sink in sinks:
            sink.close()
        if args.display:
            _close_windows()
    if error:
        print(f"atpn-edge track: {error}; stopped after {frames} frames, outputs kept", file=sys.stderr)
    if interrupted:
        print(f"atpn-edge track: interrupted after {frames} frames, outputs closed", file=sys.stderr)
    if frames == 0 and not error and not interrupted:
        print(f"atpn-edge track: no frame could be read from {args.source}", file=sys.stderr)
    s = tracker.stats
    summary = {
        "frames": s.frames, "frames_with_face": s.frames_with_face, "detector_calls": s.detector_calls,
        "tracks": s.tracks_started, "fps": round(frames / elapsed, 2) if elapsed > 0 else 0.0,
        "tracks_resumed": s.tracks_resumed, "dropped_frames": source.dropped, "size_resets": s.size_resets,
        "backend": getattr(tracker.pipeline, "backend", "?"), "detector": args.detector,
        "source": str(args.source), "stopped_by": "error" if error else "interrupt" if interrupted else "end",
        "latency_ms": tracker.latency(),  # per-frame track() time (decode excluded) and the detector's
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{s.frames} frames, face on {s.frames_with_face}, {s.detector_calls} detector calls, "
              f"{s.tracks_started} tracks, {summary['fps']} fps")
    if error or frames == 0:
        return 1
    return 130 if interrupted else 0


def _drawable(image):
    """The frame as drawn: BGR (grey and BGRA inputs are converted), a copy so the source's buffer stays intact."""
    from ..core.frames import as_bgr

    out = as_bgr(image)
    return out.copy() if out is image else out


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
