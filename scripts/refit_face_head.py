"""Refit the face-score head (stage 2's last linear layer, 128 -> 1) on the crops the tracker
itself makes, so detector boxes on animal faces are no longer confirmed as faces.

Why: the face score was trained on random windows of non-face images and on windows shifted off
faces, never on the crops the tracker cuts from BlazeFace boxes on a dog's or a cat's face; those
scored 0.9-0.99 and started tracks. Only the face head changes: stage 1, the landmarks and the
pose are the same bytes, so NME and pose MAE cannot move.

    python scripts/refit_face_head.py collect --out RUN            # crops + stage-2 features (minutes)
    python scripts/refit_face_head.py fit --out RUN [--write DIR]  # leave-one-image-out check, final fit

Crops (all from the train side of engines/atpn68/val_split.json; the split's validation names are
never used): every crop `Tracker()` sends to the network on the first frame of each train image
(300W and AFLW2000 turned 0/45/90/180 deg: positives where the crop's landmarks land on the
annotated face, skipped where they do not; the non-face images turned and flipped, with the
detector's score threshold lowered to 0.3 for more near-misses: hard negatives), plus the training
recipe's own crops: landmark crops with jitter (positives), windows shifted off the face and random
windows of non-face images (negatives). Features come from the fp32 and the INT8 graph; the fit uses
both. `fit` first leaves each non-face image out in turn (all its turns and flips) and asks whether
any crop the tracker made on it would still score >= 0.5: the honest estimate of false faces on
images the fit never saw. `--write DIR` copies the model folder with the new head in stage2.onnx,
stage2.int8.onnx and fused.onnx.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import onnx
from onnx import numpy_helper

from atpn_edge import _cpu
from atpn_edge.core.crop import crop_affine, params_from_landmarks
from atpn_edge.core.crop_windows import nonface_window, offface_window
from atpn_edge.core.face import landmark_box
from atpn_edge.datasets import load_aflw2000, load_ibug_folder
from atpn_edge.detection import create_detector
from atpn_edge.eval.detection import rotate
from atpn_edge.eval.metrics import nme_inter_ocular
from atpn_edge.runtime import create_pipeline
from atpn_edge.runtime.models import load_info, resolve_model
from atpn_edge.runtime.onnxruntime_backend import open_session
from atpn_edge.tracking.tracker import Tracker

ROOT = Path(__file__).resolve().parents[1]
POOLED = "/Flatten_output_0"  # stage 2's pooled features, the face head's input
GROUPS = ("det_pos", "track_pos", "det_neg", "offface", "nonface")
TURNS = (0, 45, 90, 180)


class FeatureGraphs:
    """Stage 1 + native heatmap + stage 2 up to the pooled features, fp32 and INT8."""

    def __init__(self, model_dir: Path):
        files = resolve_model(model_dir)
        self.info = load_info(files)
        self.sessions = {}
        for precision in ("fp32", "int8"):
            m = onnx.load(str(files.graph("stage2", precision)))
            m.graph.output.append(onnx.helper.make_tensor_value_info(POOLED, onnx.TensorProto.FLOAT, None))
            tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"stage2_pooled_{precision}_{os.getpid()}.onnx"
            onnx.save(m, str(tmp))
            self.sessions[precision] = (open_session(files.graph("stage1", precision), "stage1"), open_session(tmp, "stage2"))
            tmp.unlink()

    def __call__(self, frame: np.ndarray, affines: np.ndarray) -> dict[str, np.ndarray]:
        i = self.info
        image = np.zeros((len(affines), 3, i.input_size, i.input_size), np.float32)
        _cpu.warp_crop_batch(frame, np.ascontiguousarray(affines, np.float64), i.input_size, tuple(i.mean), tuple(i.std), image)
        out = {}
        for precision, (s1, s2) in self.sessions.items():
            landmarks, features = s1.run(["landmarks", "features"], {"image": image})
            heatmap = np.zeros((len(affines), 1, *i.heatmap_size), np.float32)
            _cpu.render_heatmap(np.ascontiguousarray(landmarks), i.heatmap_sigma, heatmap)
            out[precision] = s2.run([POOLED], {"features": features, "heatmap": heatmap})[0]
        return out


class Recorder:
    """A pipeline stand-in that passes every call through and keeps its affines and results."""

    def __init__(self, pipeline):
        self._pipeline, self.calls = pipeline, []

    def __getattr__(self, name):
        return getattr(self._pipeline, name)

    def run(self, frame, affines, timed=False):
        result = self._pipeline.run(frame, affines, timed)
        self.calls.append((np.array(affines, np.float64), result.landmarks.copy(), result.face_score.copy()))
        return result


def collect(args: argparse.Namespace) -> int:
    data, out = args.data, args.out
    out.mkdir(parents=True, exist_ok=True)
    split = json.loads((args.model / "val_split.json").read_text())
    held = {k: set(split[k]) for k in ("300w", "aflw2000", "negatives")}
    graphs = FeatureGraphs(args.model)
    recorder = Recorder(create_pipeline(model=args.model, backend="onnxruntime", precision="fp32", threads=1))
    rows: dict[str, list] = {k: [] for k in ("group", "image", "view", "fp32", "int8")}
    rng = np.random.default_rng(0)

    def add(group: str, image: str, view: str, frame: np.ndarray, affines: np.ndarray) -> None:
        if len(affines) == 0:
            return
        feats = graphs(frame, affines)
        n = len(affines)
        rows["group"] += [group] * n
        rows["image"] += [image] * n
        rows["view"] += [view] * n
        rows["fp32"].append(feats["fp32"])
        rows["int8"].append(feats["int8"])

    def tracker_crops(tracker: Tracker, frame: np.ndarray) -> list:
        recorder.calls.clear()
        tracker.reset()
        tracker.track(frame)
        return list(recorder.calls)

    faces = [("300w", s) for s in load_ibug_folder(data / "300w") if s.name not in held["300w"]]
    faces += [("aflw2000", s) for s in load_aflw2000(data / "aflw2000") if s.name not in held["aflw2000"]]
    faces = faces[:: args.step]
    tracker = Tracker(pipeline=recorder)
    for k, (source, s) in enumerate(faces):
        original = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
        for deg in TURNS:
            frame, pts = rotate(original, s.landmarks, deg)
            gt = landmark_box(pts)
            keep = []
            for affines, landmarks, _ in tracker_crops(tracker, frame):
                for a, lm in zip(affines, landmarks):
                    nme = float(nme_inter_ocular(lm[None].astype(np.float64), pts[None])[0])
                    if nme < 0.10 and _centre_inside(landmark_box(lm), gt):
                        keep.append(a)
            add("det_pos", f"{source}/{s.name}", str(deg), frame, np.array(keep).reshape(-1, 2, 3))
        lm = np.asarray(s.landmarks, np.float64)
        if np.isfinite(lm).all():
            base = params_from_landmarks(lm, recorder.info.crop_rule)
            size = recorder.info.input_size
            jit = [base.jittered(shift=tuple(rng.normal(0, 0.05, 2)), scale=float(np.exp(rng.normal(0, 0.08))),
                                 rotate=float(np.radians(rng.normal(0, 8)))) for _ in range(2)]
            add("track_pos", f"{source}/{s.name}", "0", original, np.array([crop_affine(p, size) for p in [base] + jit]))
            add("offface", f"{source}/{s.name}", "0", original, np.array([crop_affine(offface_window(base, rng), size) for _ in range(2)]))
        if k % 200 == 0:
            print(f"faces {k}/{len(faces)}: {len(rows['group'])} crops", file=sys.stderr, flush=True)

    negatives = sorted(p for p in (data / "negatives").rglob("*") if p.suffix.lower() in (".jpg", ".png", ".jpeg"))
    low = Tracker(pipeline=recorder, detector=create_detector("blazeface", score_threshold=0.3))
    for p in negatives:
        name = f"{p.parent.name}/{p.stem}"
        if name in held["negatives"]:
            continue
        original = cv2.imread(str(p), cv2.IMREAD_COLOR)
        for deg in (0, 90, 180, 270):
            for flip in (False, True):
                for scale in (1.0, 0.6):
                    frame = rotate(original[:, ::-1] if flip else original, np.zeros((1, 2)), deg)[0]
                    if scale != 1.0:
                        frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                    frame = np.ascontiguousarray(frame)
                    view = f"{deg}{'f' if flip else ''}@{scale}"
                    for t in ((tracker, low) if view == "0@1.0" else (low,)):
                        calls = tracker_crops(t, frame)
                        add("det_neg", name, view + ("" if t is low else "/default"), frame,
                            np.concatenate([c[0] for c in calls]) if calls else np.zeros((0, 2, 3)))
        h, w = original.shape[:2]
        add("nonface", name, "0", original, np.array([crop_affine(nonface_window(h, w, rng), recorder.info.input_size) for _ in range(8)]))
        print(f"negative {name}: {len(rows['group'])} crops", file=sys.stderr, flush=True)
    np.savez_compressed(out / "crops.npz", group=np.array(rows["group"]), image=np.array(rows["image"]),
                        view=np.array(rows["view"]), fp32=np.concatenate(rows["fp32"]), int8=np.concatenate(rows["int8"]))
    counts = {g: int(sum(1 for x in rows["group"] if x == g)) for g in GROUPS}
    print(json.dumps({"crops": counts}))
    return 0


def _centre_inside(a, b) -> bool:
    (ax, ay, aw, ah), (bx, by, bw, bh) = a, b
    return bx <= ax + aw / 2 <= bx + bw and by <= ay + ah / 2 <= by + bh and ax <= bx + bw / 2 <= ax + aw and ay <= by + bh / 2 <= ay + ah


def head_weights(model_dir: Path) -> tuple[np.ndarray, float]:
    m = onnx.load(str(model_dir / "stage2.onnx"))
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    return init["face.weight"][0].astype(np.float64), float(init["face.bias"][0])


def fit_head(x: np.ndarray, y: np.ndarray, weight: np.ndarray, w0: np.ndarray, b0: float, l2: float) -> tuple[np.ndarray, float]:
    """Weighted logistic regression, pulled towards the shipped head by ``l2 * |w - w0|^2``."""
    from scipy.optimize import minimize

    weight = weight / weight.sum()

    def loss(theta):
        w, b = theta[:-1], theta[-1]
        z = x @ w + b
        p = 1.0 / (1.0 + np.exp(-z))
        ll = np.logaddexp(0.0, z) - y * z
        g = weight * (p - y)
        d = w - w0
        return float(weight @ ll + l2 * d @ d), np.append(x.T @ g + 2 * l2 * d, g.sum())

    res = minimize(loss, np.append(w0, b0), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    return res.x[:-1], float(res.x[-1])


def sample_weights(group: np.ndarray, shares: dict[str, float]) -> np.ndarray:
    w = np.zeros(len(group))
    for g, share in shares.items():
        m = group == g
        if m.any():
            w[m] = share / m.sum()
    return w


SHARES = {"det_pos": 0.25, "track_pos": 0.25, "det_neg": 0.25, "offface": 0.15, "nonface": 0.10}


def fit(args: argparse.Namespace) -> int:
    d = np.load(args.out / "crops.npz")
    group, image, view = d["group"], d["image"], d["view"]
    x = np.concatenate([d["fp32"], d["int8"]]).astype(np.float64)
    group2, image2, view2 = (np.concatenate([a, a]) for a in (group, image, view))
    y = np.isin(group2, ("det_pos", "track_pos")).astype(np.float64)
    w0, b0 = head_weights(args.model)
    weight = sample_weights(group2, SHARES)
    score = lambda w, b, m: 1.0 / (1.0 + np.exp(-(x[m] @ w + b)))
    report: dict = {"crops": {g: int((group == g).sum()) for g in GROUPS}, "l2": args.l2}
    # Leave each non-face image out: would the tracker's crops on it (its upright view, the
    # default detector) still reach the confirmation threshold?
    neg_images = sorted(set(image[group == "det_neg"]))
    shipped, refit = [], []
    for name in neg_images:
        out = image2 == name
        w, b = fit_head(x[~out], y[~out], weight[~out], w0, b0, args.l2)
        test = out & (view2 == "0@1.0/default")
        if test.any():
            shipped.append(bool((score(w0, b0, test) >= 0.5).any()))
            refit.append(bool((score(w, b, test) >= 0.5).any()))
    report["leave_one_image_out"] = {"images_with_default_crops": len(refit), "images_over_0.5_shipped": int(sum(shipped)),
                                     "images_over_0.5_refit": int(sum(refit)), "non_face_images_total": int(len(set(image[group == "nonface"])))}
    w, b = fit_head(x, y, weight, w0, b0, args.l2)
    for g in GROUPS:
        m = group2 == g
        report[f"{g}_share_over_0.5"] = {"shipped": round(float((score(w0, b0, m) >= 0.5).mean()), 4),
                                         "refit": round(float((score(w, b, m) >= 0.5).mean()), 4)}
    report["weight_change"] = round(float(np.linalg.norm(w - w0) / np.linalg.norm(w0)), 4)
    print(json.dumps(report, indent=1))
    if args.write:
        write_model(args.model, args.write, w, b, args.version)
    return 0


def write_model(src: Path, dst: Path, w: np.ndarray, b: float, version: str | None) -> None:
    """A copy of ``src`` with the new face head in every stage-2 graph (fused.onnx included)."""
    if dst.resolve() != src.resolve():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    for name in ("stage2.onnx", "stage2.int8.onnx", "fused.onnx"):
        path = dst / name
        if not path.exists():
            continue
        m = onnx.load(str(path))
        found = 0
        for init in m.graph.initializer:
            if init.name.endswith("face.weight"):
                init.CopyFrom(numpy_helper.from_array(w.astype(np.float32)[None], init.name))
                found += 1
            elif init.name.endswith("face.bias"):
                init.CopyFrom(numpy_helper.from_array(np.array([b], np.float32), init.name))
                found += 1
        if found != 2:
            raise SystemExit(f"{path}: face.weight / face.bias not found ({found} of 2)")
        if version:
            for p in m.metadata_props:
                if p.key == "atpn.model_version":
                    p.value = json.dumps(version)
        onnx.save(m, str(path))
        print(f"wrote {path}", file=sys.stderr)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("action", choices=("collect", "fit"))
    ap.add_argument("--model", type=Path, default=ROOT / "engines" / "atpn68")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("ATPN_SHARED_DATA") or ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", type=Path, required=True, help="folder for crops.npz (outside the repository)")
    ap.add_argument("--step-faces", dest="step", type=int, default=1, help="collect: every Nth train face")
    ap.add_argument("--l2", type=float, default=1e-3, help="fit: pull towards the shipped head")
    ap.add_argument("--write", type=Path, help="fit: write the model folder with the new head here")
    ap.add_argument("--version", help="fit: new atpn.model_version for the written graphs")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    return collect(args) if args.action == "collect" else fit(args)


if __name__ == "__main__":
    sys.exit(main())
