"""Refit the face-score head on the crops the tracker itself makes, so detector boxes on animal
faces are no longer confirmed as faces (how atpn68-v2.1 was made from atpn68-v2).

Why: the face score was trained on random windows of non-face images and on windows shifted off
faces, never on the crops the tracker cuts from BlazeFace boxes on a dog's or a cat's face; those
scored 0.9-0.99 and started tracks. Only the face head changes (its linear layer, plus with
``--hidden H`` a residual branch ``v . relu(U x + c)`` started at zero): stage 1, the landmarks
and the pose stay the same bytes, so NME and pose MAE cannot move.

    python scripts/refit_face_head.py collect --out RUN      # crops + stage-2 features (minutes)
    python scripts/refit_face_head.py fit --out RUN --hidden 32 [--write DIR --version NAME]

Crops: every crop `Tracker()` sends to the network on the first frame of each image (300W and
AFLW2000 turned 0/45/90/180 deg: positives where the crop's landmarks land on the annotated face,
skipped where they do not; the non-face images in 20 views (turns, flips, scales) with the
detector's score threshold lowered to 0.3 for more near-misses: hard negatives), plus the training
recipe's own crops: landmark crops with jitter (positives), windows shifted off the face and random
windows of non-face images (negatives). Features come from the fp32 and the INT8 graph; the fit uses
both. The model's val_split.json names are collected under "val_" groups and never fitted: `fit`
reports them, and first leaves each train non-face image out in turn (all its views) to ask
whether a crop that can confirm a face on its upright view would still reach 0.5 / 0.7 / 0.9: the
honest estimate of false faces on images the fit never saw. `--write DIR` copies the model folder
with the new head in stage2.onnx, stage2.int8.onnx and fused.onnx (and ``--version`` in every
graph's metadata).

For training the network itself on the same crops (``train.hard_crops``, docs/TRAINING.md):
``--save-crops`` also writes ``images.npy`` (the uint8 BGR crops, row for row with crops.npz), and
``--videos DIR`` adds the crops the tracker sends the network on every ``--video-step``-th frame of
each video (group "video", names in ``--skip-videos`` left out), labelled later by the
``--teacher`` logit stored with them.
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

    def __init__(self, model_dir: Path, teacher: Path | None = None):
        files = resolve_model(model_dir)
        # Another model's face logit on the very same crop images (soft targets for ``--soft``).
        self.teacher = None
        if teacher is not None:
            tf = resolve_model(teacher)
            self.teacher = (open_session(tf.graph("stage1", "fp32"), "stage1"), open_session(tf.graph("stage2", "fp32"), "stage2"))
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
        if self.teacher is not None:
            s1, s2 = self.teacher
            landmarks, features = s1.run(["landmarks", "features"], {"image": image})
            heatmap = np.zeros((len(affines), 1, *i.heatmap_size), np.float32)
            _cpu.render_heatmap(np.ascontiguousarray(landmarks), i.heatmap_sigma, heatmap)
            out["teacher"] = s2.run(["face_logit"], {"features": features, "heatmap": heatmap})[0].reshape(-1)
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
    graphs = FeatureGraphs(args.model, args.teacher)
    recorder = Recorder(create_pipeline(model=args.model, backend="onnxruntime", precision="fp32", threads=1))
    rows: dict[str, list] = {k: [] for k in ("group", "image", "view", "call", "fp32", "int8", "teacher", "pixels")}
    size = recorder.info.input_size
    rng = np.random.default_rng(0)

    def add(group: str, image: str, view: str, frame: np.ndarray, affines: np.ndarray, calls: list[int] | None = None) -> None:
        """``calls``: which network call of the tracker's search each crop was in (0 = first
        crops, 1 = refined, 2-4 = the half-turn check); None for the recipe's own crops."""
        if len(affines) == 0:
            return
        feats = graphs(frame, affines)
        n = len(affines)
        rows["call"] += list(calls) if calls is not None else [-1] * n
        rows["group"] += [group] * n
        rows["image"] += [image] * n
        rows["view"] += [view] * n
        rows["fp32"].append(feats["fp32"])
        rows["int8"].append(feats["int8"])
        rows["teacher"].append(feats.get("teacher", np.full(n, np.nan, np.float32)))
        if args.save_crops:  # the training data's warp (bilinear, 0 border), kept as uint8
            rows["pixels"].append(np.stack([cv2.warpAffine(frame, a, (size, size), flags=cv2.INTER_LINEAR,
                                                           borderMode=cv2.BORDER_CONSTANT, borderValue=0) for a in affines]))

    def tracker_crops(tracker: Tracker, frame: np.ndarray) -> list:
        recorder.calls.clear()
        tracker.reset()
        tracker.track(frame)
        return list(recorder.calls)

    # The split's validation faces and images are collected too, under "val_" groups that the fit
    # never sees: they check it.
    faces = [("300w", s) for s in load_ibug_folder(data / "300w")]
    faces += [("aflw2000", s) for s in load_aflw2000(data / "aflw2000")]
    faces = faces[:: args.step]
    tracker = Tracker(pipeline=recorder)
    for k, (source, s) in enumerate(faces):
        val = "val_" if s.name in held[source] else ""
        original = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
        for deg in TURNS:
            frame, pts = rotate(original, s.landmarks, deg)
            gt = landmark_box(pts)
            keep, calls = [], []
            for call, (affines, landmarks, _) in enumerate(tracker_crops(tracker, frame)):
                for a, lm in zip(affines, landmarks):
                    nme = float(nme_inter_ocular(lm[None].astype(np.float64), pts[None])[0])
                    if nme < 0.10 and _centre_inside(landmark_box(lm), gt):
                        keep.append(a)
                        calls.append(call)
            add(val + "det_pos", f"{source}/{s.name}", str(deg), frame, np.array(keep).reshape(-1, 2, 3), calls)
        lm = np.asarray(s.landmarks, np.float64)
        if np.isfinite(lm).all():
            base = params_from_landmarks(lm, recorder.info.crop_rule)
            size = recorder.info.input_size
            jit = [base.jittered(shift=tuple(rng.normal(0, 0.05, 2)), scale=float(np.exp(rng.normal(0, 0.08))),
                                 rotate=float(np.radians(rng.normal(0, 8)))) for _ in range(2)]
            add(val + "track_pos", f"{source}/{s.name}", "0", original, np.array([crop_affine(p, size) for p in [base] + jit]))
            add(val + "offface", f"{source}/{s.name}", "0", original, np.array([crop_affine(offface_window(base, rng), size) for _ in range(2)]))
        if k % 200 == 0:
            print(f"faces {k}/{len(faces)}: {len(rows['group'])} crops", file=sys.stderr, flush=True)

    negatives = sorted(p for p in (data / "negatives").rglob("*") if p.suffix.lower() in (".jpg", ".png", ".jpeg"))
    low = Tracker(pipeline=recorder, detector=create_detector("blazeface", score_threshold=0.3))
    for p in negatives:
        name = f"{p.parent.name}/{p.stem}"
        val = "val_" if name in held["negatives"] else ""
        original = cv2.imread(str(p), cv2.IMREAD_COLOR)
        views = [(deg, flip, scale) for deg in (0, 90, 180, 270) for flip in (False, True) for scale in (1.0, 0.6)]
        for deg, flip, scale in views + [(20, False, 1.0), (-20, False, 1.0), (0, False, 0.4), (0, True, 1.5)]:
            frame = rotate(original[:, ::-1] if flip else original, np.zeros((1, 2)), deg)[0]
            if scale != 1.0:
                frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
            frame = np.ascontiguousarray(frame)
            view = f"{deg}{'f' if flip else ''}@{scale}"
            for t in ((tracker, low) if view == "0@1.0" else (low,)):
                calls = tracker_crops(t, frame)
                if calls:
                    add(val + "det_neg", name, view + ("" if t is low else "/default"), frame,
                        np.concatenate([c[0] for c in calls]), [k for k, c in enumerate(calls) for _ in c[0]])
        h, w = original.shape[:2]
        add(val + "nonface", name, "0", original, np.array([crop_affine(nonface_window(h, w, rng), recorder.info.input_size) for _ in range(8)]))
        print(f"negative {name}: {len(rows['group'])} crops", file=sys.stderr, flush=True)
    if args.videos is not None:
        skip = {v.strip() for v in (args.skip_videos or "").split(",") if v.strip()}
        for path in sorted(args.videos.glob("*.mp4")):
            if path.stem in skip or path.name in skip:
                continue
            cap, tracker_v, k = cv2.VideoCapture(str(path)), Tracker(pipeline=recorder), 0
            tracker_v.reset()
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                recorder.calls.clear()
                tracker_v.track(frame)
                if k % args.video_step == 0 and recorder.calls:
                    add("video", f"videos/{path.stem}", str(k), frame, np.concatenate([c[0] for c in recorder.calls]),
                        [j for j, c in enumerate(recorder.calls) for _ in c[0]])
                k += 1
            cap.release()
            print(f"video {path.name}: {len(rows['group'])} crops", file=sys.stderr, flush=True)
    if args.save_crops:
        np.save(out / "images.npy", np.concatenate(rows["pixels"]))
    np.savez_compressed(out / "crops.npz", group=np.array(rows["group"]), image=np.array(rows["image"]),
                        view=np.array(rows["view"]), call=np.array(rows["call"]),
                        teacher=np.concatenate(rows["teacher"]), fp32=np.concatenate(rows["fp32"]), int8=np.concatenate(rows["int8"]))
    counts = {g: int(sum(1 for x in rows["group"] if x == g)) for g in sorted(set(rows["group"]))}
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


def fit_residual(x: np.ndarray, y: np.ndarray, weight: np.ndarray, w0: np.ndarray, b0: float, hidden: int,
                 l2: float, seed: int = 0) -> dict:
    """The shipped linear head plus a small residual branch, ``v . relu(U x + c)``, started at
    v = 0 (exactly the shipped head) and trained with a pull of ``l2`` towards that start."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    wt = torch.tensor(weight / weight.sum(), dtype=torch.float32)
    w = torch.tensor(w0, dtype=torch.float32, requires_grad=True)
    b = torch.tensor([b0], dtype=torch.float32, requires_grad=True)
    u = (torch.randn(hidden, x.shape[1]) / np.sqrt(x.shape[1])).requires_grad_()
    c = torch.zeros(hidden, requires_grad=True)
    v = torch.zeros(hidden, requires_grad=True)
    w0t = torch.tensor(w0, dtype=torch.float32)
    opt = torch.optim.Adam([w, b, u, c, v], lr=3e-3)
    for _ in range(600):
        opt.zero_grad()
        z = xt @ w + b + torch.relu(xt @ u.T + c) @ v
        loss = (wt * torch.nn.functional.binary_cross_entropy_with_logits(z, yt, reduction="none")).sum()
        loss = loss + l2 * (((w - w0t) ** 2).sum() + (v ** 2).sum() + 1e-2 * (u ** 2).sum())
        loss.backward()
        opt.step()
    return {k: t.detach().numpy().astype(np.float64) for k, t in dict(w=w, b=b, u=u, c=c, v=v).items()}


def head_logit(head: dict, x: np.ndarray) -> np.ndarray:
    z = x @ head["w"] + float(np.ravel(head["b"])[0])
    if "v" in head:
        z = z + np.maximum(x @ head["u"].T + head["c"], 0.0) @ head["v"]
    return z


def fit_any(x, y, weight, w0, b0, args) -> dict:
    if args.hidden:
        return fit_residual(x, y, weight, w0, b0, args.hidden, args.l2)
    w, b = fit_head(x, y, weight, w0, b0, args.l2)
    return {"w": w, "b": np.array([b])}


def sample_weights(group: np.ndarray, shares: dict[str, float]) -> np.ndarray:
    w = np.zeros(len(group))
    for g, share in shares.items():
        m = group == g
        if m.any():
            w[m] = share / m.sum()
    return w


SHARES = {"det_pos": 0.25, "track_pos": 0.35, "det_neg": 0.20, "offface": 0.12, "nonface": 0.08}


THRESHOLDS = (0.5, 0.7, 0.9)


def false_images(head: dict, x: np.ndarray, mask: np.ndarray, image: np.ndarray, call: np.ndarray, t: float) -> set[str]:
    """Images of ``mask`` where a crop that can confirm a face (refined or half-turned: any call
    after the first crops) scores >= ``t`` (an upper bound on what the tracker confirms)."""
    m = mask & (call >= 1)
    z = head_logit(head, x[m])
    return set(image[m][z >= np.log(t / (1 - t))])


def fit(args: argparse.Namespace) -> int:
    d = np.load(args.out / "crops.npz")
    group, image, view, call = d["group"], d["image"], d["view"], d["call"]
    x = np.concatenate([d["fp32"], d["int8"]]).astype(np.float64)
    group, image, view, call = (np.concatenate([a, a]) for a in (group, image, view, call))
    y = np.isin(group, ("det_pos", "track_pos", "val_det_pos", "val_track_pos")).astype(np.float64)
    if args.soft:  # the teacher's face probability on the same crops instead of the labels
        t = np.concatenate([d["teacher"], d["teacher"]]).astype(np.float64)
        if not np.isfinite(t).all():
            raise SystemExit(f"{args.out / 'crops.npz'}: collected without --teacher")
        y = 1.0 / (1.0 + np.exp(-t))
    train = np.isin(group, GROUPS)  # the "val_" groups are the split's validation names: never fitted
    w0, b0 = head_weights(args.model)
    shipped = {"w": w0, "b": np.array([b0])}
    weight = sample_weights(group, json.loads(args.shares) if args.shares else SHARES)
    report: dict = {"crops": {g: int((group == g).sum() // 2) for g in sorted(set(group))}, "l2": args.l2, "hidden": args.hidden}
    head = fit_any(x[train], y[train], weight[train], w0, b0, args)
    heads = {"shipped": shipped, "refit": head}
    default_view = view == "0@1.0/default"
    # Each train non-face image left out in turn (all its views): would the tracker's crops on its
    # upright view still confirm a face?
    loo: dict[str, dict[str, set]] = {k: {str(t): set() for t in THRESHOLDS} for k in heads}
    for name in ([] if args.skip_left_out else sorted(set(image[(group == "det_neg") & default_view]))):
        out = image == name
        fold = {"shipped": shipped, "refit": fit_any(x[train & ~out], y[train & ~out], weight[train & ~out], w0, b0, args)}
        for k, h in fold.items():
            for t in THRESHOLDS:
                loo[k][str(t)] |= false_images(h, x, out & default_view, image, call, t)
    n_train = len(set(image[group == "nonface"]))
    n_val = len(set(image[group == "val_nonface"]))
    report["false_images_left_out"] = {k: {t: sorted(v) for t, v in per.items()} for k, per in loo.items()}
    report["false_images_left_out_count"] = {k: {t: f"{len(v)} of {n_train}" for t, v in per.items()} for k, per in loo.items()}
    report["false_images_val_split"] = {k: {str(t): f"{len(false_images(h, x, (group == 'val_det_neg') & default_view, image, call, t))} of {n_val}"
                                            for t in THRESHOLDS} for k, h in heads.items()}
    # Positives of the validation split: the best confirming crop per face and turn.
    for g in ("val_det_pos", "val_track_pos", "val_offface"):
        m = group == g
        report[g] = {k: {str(t): round(float((head_logit(h, x[m]) >= np.log(t / (1 - t))).mean()), 4) for t in THRESHOLDS}
                     for k, h in heads.items()}
    for deg in TURNS:
        m = (group == "val_det_pos") & (view == str(deg)) & (call >= 1)
        names = sorted(set(image[m]))
        for k, h in heads.items():
            z = head_logit(h, x[m])
            best = {n: z[image[m] == n].max() for n in names}
            report.setdefault(f"val_faces_confirmed_turned_{deg}", {})[k] = {
                str(t): f"{sum(v >= np.log(t / (1 - t)) for v in best.values())} of {len(best)}" for t in THRESHOLDS}
    upright = (group == "det_pos") & (view == "0") & (call == 0)
    report["upright_first_crops_over_0.999"] = {k: round(float((head_logit(h, x[upright]) >= np.log(999)).mean()), 4)
                                                for k, h in heads.items()}
    print(json.dumps(report, indent=1))
    if args.write:
        write_model(args.model, args.write, head, args.version)
    return 0


def write_model(src: Path, dst: Path, head: dict, version: str | None) -> None:
    """A copy of ``src`` with the new face head in every stage-2 graph (fused.onnx included); a
    residual branch becomes Gemm, Relu, Gemm and Add nodes after the pooled features."""
    if dst.resolve() != src.resolve():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    for name in ("stage2.onnx", "stage2.int8.onnx", "fused.onnx"):
        path = dst / name
        if not path.exists():
            continue
        m = onnx.load(str(path))
        g = m.graph
        gemm = next(n for n in g.node if n.op_type == "Gemm" and n.output[0] == "face_logit")
        pooled, w_name, b_name = gemm.input
        arrays = {w_name: head["w"].astype(np.float32)[None], b_name: np.ravel(head["b"]).astype(np.float32)}
        for init in g.initializer:
            if init.name in arrays:
                init.CopyFrom(numpy_helper.from_array(arrays.pop(init.name), init.name))
        if arrays:
            raise SystemExit(f"{path}: {', '.join(arrays)} not found")
        if "v" in head:
            prefix = w_name.rsplit("weight", 1)[0] + "residual."
            g.initializer.extend([numpy_helper.from_array(head["u"].astype(np.float32), prefix + "0.weight"),
                                  numpy_helper.from_array(head["c"].astype(np.float32), prefix + "0.bias"),
                                  numpy_helper.from_array(head["v"].astype(np.float32)[None], prefix + "2.weight"),
                                  numpy_helper.from_array(np.zeros(1, np.float32), prefix + "2.bias")])
            gemm.output[0] = prefix + "linear"
            at = list(g.node).index(gemm) + 1
            new_nodes = [
                onnx.helper.make_node("Gemm", [pooled, prefix + "0.weight", prefix + "0.bias"], [prefix + "hidden"], transB=1, name=prefix + "0.Gemm"),
                onnx.helper.make_node("Relu", [prefix + "hidden"], [prefix + "relu"], name=prefix + "1.Relu"),
                onnx.helper.make_node("Gemm", [prefix + "relu", prefix + "2.weight", prefix + "2.bias"], [prefix + "out"], transB=1, name=prefix + "2.Gemm"),
                onnx.helper.make_node("Add", [prefix + "linear", prefix + "out"], ["face_logit"], name=prefix + "Add"),
            ]
            for k, node in enumerate(new_nodes):
                g.node.insert(at + k, node)
        if version:
            for p in m.metadata_props:
                if p.key == "atpn.model_version":
                    p.value = json.dumps(version)
        onnx.checker.check_model(m)
        onnx.save(m, str(path))
        print(f"wrote {path}", file=sys.stderr)
    for name in ("stage1.onnx", "stage1.int8.onnx"):  # same weights; the version must agree with stage 2's
        path = dst / name
        if version and path.exists():
            m = onnx.load(str(path))
            for p in m.metadata_props:
                if p.key == "atpn.model_version":
                    p.value = json.dumps(version)
            onnx.save(m, str(path))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("action", choices=("collect", "fit"))
    ap.add_argument("--model", type=Path, default=ROOT / "engines" / "atpn68")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("ATPN_SHARED_DATA") or ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", type=Path, required=True, help="folder for crops.npz (outside the repository)")
    ap.add_argument("--step-faces", dest="step", type=int, default=1, help="collect: every Nth train face")
    ap.add_argument("--l2", type=float, default=1e-3, help="fit: pull towards the shipped head")
    ap.add_argument("--hidden", type=int, default=0, help="fit: units of a residual branch (0 = refit the linear head only)")
    ap.add_argument("--shares", help='fit: JSON share of the loss per group, e.g. {"det_pos": 0.3, ...} (default: SHARES)')
    ap.add_argument("--teacher", type=Path, help="collect: also store this model's face logit on every crop")
    ap.add_argument("--save-crops", action="store_true", help="collect: also write the uint8 crops to images.npy")
    ap.add_argument("--videos", type=Path, help="collect: also the tracker's crops on these videos (group video)")
    ap.add_argument("--skip-videos", help="collect: comma-separated video names to leave out (kept unseen)")
    ap.add_argument("--video-step", type=int, default=2, help="collect: crops of every Nth video frame")
    ap.add_argument("--soft", action="store_true", help="fit: the teacher's face probability as the target (distillation)")
    ap.add_argument("--skip-left-out", action="store_true", help="fit: skip the leave-one-image-out check")
    ap.add_argument("--write", type=Path, help="fit: write the model folder with the new head here")
    ap.add_argument("--version", help="fit: new atpn.model_version for the written graphs")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    return collect(args) if args.action == "collect" else fit(args)


if __name__ == "__main__":
    sys.exit(main())
