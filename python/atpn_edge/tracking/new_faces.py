"""Starting tracks from detections: candidates ranked and batched, first crops turned to the eye
line (and tried upright, or at every quarter turn with ``orientation_search``), confirmed by the
face score, and given a lost track's id when they are found where it was lost. A part of
``Tracker`` (tracker.py), kept apart so each file reads on its own.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..core.crop import crop_affine
from ..core.face import box_iou, landmark_box
from .smoothing import FaceSmoother
from .tracks import Track, centre_distance, overlaps, valid_box

# A first crop placed by the keypoint fit (detection/keypoint_fit.py) whose face score is at least
# this is not refined: on the 300W faces that costs 0.03 NME points upright and gains on turned
# faces, where the box crop was worst (BENCHMARKS.md, Detection); the track's next crop refines it.
FIRST_PASS_SURE = 0.999
# ... if it is turned aside less than this (degrees of yaw, the first pass's own estimate): the
# fit is rougher on profile faces (AFLW2000 half: pose MAE over found faces 5.03 deg with this
# limit, 5.13 without).
FIRST_PASS_MAX_YAW = 45.0
# A first crop at the detected angle that the face score rates below this may show the face upside
# down (BlazeFace's keypoints take most upside-down faces for upright ones): it is checked against
# its half turn. Every 300W face turned 0 or 45 deg scored >= 0.999 (no extra cost there); 83 of 85
# upside-down faces cropped upright scored lower.
UPSIDE_DOWN_DOUBT = 0.999
# ... unless its refined crop scores at least this: on the 1207 300W faces turned 180 deg, no
# half turn won for a doubtful candidate whose refined crop scored >= 0.9999 (42 such, 697 half
# turns won), and on the upright ones 13 of 123 doubtful candidates were spared the check.
REFINED_SURE = 0.9999
# The half turn must score at least this to replace the crop: a false detection's half turn,
# refined twice, can creep over the confirmation threshold (upside-down faces turned the right
# way up score about 1.0).
HALF_TURN_CONFIRM = 0.99
# A doubtful candidate that the face score confirms may still be turned a quarter round: BlazeFace
# reads some faces turned 90 deg as upright, and such a crop, refined, can score 0.88-0.99 with its
# landmarks nowhere near the face (2 of the 1207 300W faces turned 90 deg, NME 70-90 %). Its quarter
# turns are tried too; one replaces it only at this score: on the AFLW2000 half, quarter turns that
# scored 0.9936-0.9998 would have replaced the right turn about as often as the wrong one, the two
# 300W faces' right turns scored 0.99999.
QUARTER_TURN_CONFIRM = 0.9999


class NewFaces:
    """Methods of ``Tracker`` that turn detections into tracks (they use its config, pipeline,
    detector, tracks and lost list)."""

    def _add_faces(self, frame: np.ndarray, index: int, detections: list, searched_boxes: dict[int, tuple]) -> None:
        """Start tracks from detections; ``searched_boxes``: the live tracks' boxes on the frame
        that was searched (a box there belongs to a track that is still live)."""
        cfg = self.config
        taken = [tr.box for tr in self._tracks] + [b for i, b in searched_boxes.items() if any(tr.id == i for tr in self._tracks)]
        cands = [d for d in detections if valid_box(d.box) and not any(overlaps(d.box, b, cfg.overlap_iou) for b in taken)]
        free = cfg.max_faces - len(self._tracks)
        if free <= 0 or not cands:
            return
        # Most faces first. False boxes are rejected by the face score, so a place they took goes
        # to the next candidates: batches of what the pipeline takes in one call, until the places
        # are filled (two batches at most: the next search finds the rest).
        cands.sort(key=lambda d: float(d.score) * math.sqrt(d.box[2] * d.box[3]), reverse=True)
        batch = int(getattr(self.pipeline, "max_faces", cfg.max_faces))
        for start in range(0, min(len(cands), 2 * batch), batch):
            self._confirm(frame, index, cands[start:start + batch])
            if len(self._tracks) >= cfg.max_faces:
                break
        self._tracks.sort(key=lambda x: x.id)

    def _confirm(self, frame: np.ndarray, index: int, cands: list) -> None:
        cfg = self.config
        calib, scale = self.detector.calibration, self.rule.landmark_scale
        windows, fitted = zip(*(calib.first_crop(d.box, scale, getattr(d, "keypoints", None)) for d in cands))
        turns = [self._turns(w.angle) for w in windows]
        owner = [c for c, ts in enumerate(turns) for _ in ts]  # candidate of each crop
        first_crop = {c: owner.index(c) for c in range(len(cands))}  # the crop at the detected angle
        affines = [crop_affine(dataclasses.replace(w, angle=a), self.rule.size) for w, ts in zip(windows, turns) for a in ts]
        landmarks, pose, score = self._run_batches(frame, affines)
        first_score = np.asarray(score, dtype=np.float64)
        # A first crop from the keypoint fit whose result the face score is sure of is about as
        # good as a refined one: its result is kept as it is.
        sure = {c for c, i in first_crop.items() if fitted[c] and first_score[i] >= FIRST_PASS_SURE
                and abs(float(pose[i][0])) < FIRST_PASS_MAX_YAW}
        keep = list(range(len(affines)))
        if cfg.refine:
            # A first crop is rougher than a landmark crop: one pass from the predicted landmarks
            # gives the crop the track will use next frame, and its score is the one that counts.
            kept = [first_crop[c] for c in sorted(sure)]
            refined = {i: self._affine(np.asarray(landmarks[i], dtype=np.float64)) for i in keep if owner[i] not in sure}
            redo = [i for i, a in refined.items() if a is not None]
            if not kept and not redo:
                return
            parts = [(landmarks[kept], pose[kept], score[kept])] if kept else []
            if redo:
                parts.append(self._run_batches(frame, [refined[i] for i in redo]))
            landmarks, pose, score = (np.concatenate(p) for p in zip(*parts))
            keep = kept + redo
        rows: dict[int, list[int]] = {}  # candidate -> its result rows, detected angle first
        for row, i in enumerate(keep):
            rows.setdefault(owner[i], []).append(row)
        best = {c: self._pick_turn(r, score) for c, r in rows.items()}
        doubt: list[int] = []
        if cfg.refine and cfg.upside_down_check and self._upright_only and not cfg.orientation_search:
            detected = {c: owner.index(c) for c in rows}  # crop at the detected angle
            doubt = [c for c in sorted(best)
                     if first_score[detected[c]] < UPSIDE_DOWN_DOUBT and float(score[best[c]]) < REFINED_SURE]
            if doubt:
                landmarks, pose, score = self._check_other_turns(frame, [windows[c] for c in doubt],
                                                                [best[c] for c in doubt], landmarks, pose, score)
        for c in sorted(best):
            row = best[c]
            lm = np.asarray(landmarks[row], dtype=np.float64)
            if float(score[row]) < cfg.confirm or not self._plausible(lm):
                continue
            box = landmark_box(lm)
            if any(box_iou(box, tr.box) > cfg.merge_iou for tr in self._tracks):
                continue  # two boxes on one face, or the refinement walked onto a tracked face
            self._tracks.append(self._start(lm, np.asarray(pose[row], dtype=np.float64), float(score[row]), index))
            self._doubted |= c in doubt
            if len(self._tracks) >= cfg.max_faces:
                return

    def _turns(self, angle: float) -> list[float]:
        """Angles to try for a first crop at the detection's ``angle``. A tilted detection is also
        tried upright: a weak detection's eye keypoints can be tens of degrees off (a face looking
        down in a portrait clip: 35 deg), and the upright crop is used when the face score
        rejects the turned one."""
        if self.config.orientation_search:
            return [angle + k * math.pi / 2 for k in range(4)]
        return [angle, 0.0] if abs(angle) > math.radians(10) else [angle]

    def _pick_turn(self, rows: list[int], score: np.ndarray) -> int:
        # The detected angle wins when the face score confirms it (the upright alternative only
        # rescues a wrong keypoint angle); orientation_search takes the best-scored turn.
        if not self.config.orientation_search and float(score[rows[0]]) >= self.config.confirm:
            return rows[0]
        return max(rows, key=lambda r: float(score[r]))

    def _check_other_turns(self, frame: np.ndarray, windows: list, rows: list[int], landmarks: np.ndarray,
                           pose: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each doubtful candidate cropped again turned half round (and, when its row is
        confirmed, a quarter turn either way) and refined twice, its chosen crop refined once
        more; the best other turn replaces the result row when the face score prefers it and
        rates it as high as that turn must (``HALF_TURN_CONFIRM``, ``QUARTER_TURN_CONFIRM``).
        An upside-down face cropped upright can score high after one refinement, but after two
        the right way up scores higher (on 339 found 300W faces turned 0, 45 and 180 deg the
        higher score after two refinements picked the better of the two crops on 336)."""
        confirm = self.config.confirm
        others = [(k, t) for k, r in enumerate(rows)
                  for t in ((math.pi, math.pi / 2, -math.pi / 2) if float(score[r]) >= confirm else (math.pi,))]
        n = len(others)
        crops: list[np.ndarray | None] = [crop_affine(dataclasses.replace(windows[k], angle=windows[k].angle + t), self.rule.size)
                                          for k, t in others]
        crops += [self._affine(np.asarray(landmarks[r], dtype=np.float64)) for r in rows]
        results: list[tuple | None] = [None] * len(crops)
        for step in range(3):  # other turns: crop, refine, refine; the chosen crops: refine in step 0
            todo = [i for i, a in enumerate(crops) if a is not None]
            if not todo:
                break
            lm, ps, sc = self._run_batches(frame, [crops[i] for i in todo])
            crops = [None] * len(crops)
            for j, i in enumerate(todo):
                results[i] = (lm[j], ps[j], sc[j])
                # A quarter turn is refined only while it scores as a half turn must (the wrong
                # quarter turns of an upright face score ~0 at once: no extra passes for them).
                if i < n and step < 2 and (others[i][1] == math.pi or float(sc[j]) >= HALF_TURN_CONFIRM):
                    crops[i] = self._affine(np.asarray(lm[j], dtype=np.float64))
        landmarks, pose, score = np.array(landmarks), np.array(pose), np.array(score)
        for k, r in enumerate(rows):
            # The best other turn wins over the same crop refined once more; that crop replaces
            # the row when the row was confirmed already, or when it scores as high as a half
            # turn must (a face whose box crop was poor, e.g. looking down in a portrait clip,
            # needs a second refinement; a non-face refined again stays below that with the
            # refitted face head).
            turned = [results[i] for i, (c, t) in enumerate(others) if c == k and results[i] is not None
                      and float(results[i][2]) >= (HALF_TURN_CONFIRM if t == math.pi else QUARTER_TURN_CONFIRM)]
            best = max(turned, key=lambda x: float(x[2]), default=None)
            same = results[n + k]
            if best is not None and float(best[2]) > (float(same[2]) if same is not None else float(score[r])):
                landmarks[r], pose[r], score[r] = best
            elif same is not None and (float(score[r]) >= confirm or float(same[2]) >= HALF_TURN_CONFIRM):
                landmarks[r], pose[r], score[r] = same
        return landmarks, pose, score

    def _run_batches(self, frame: np.ndarray, affines: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(landmarks, pose, face_score) for any number of crops, in calls of what the pipeline takes.
        While ``_crop_memo`` is a dict (one search of one frame), a crop already run is not run
        again: the turned search tries the first search's candidates a second time."""
        memo = self._crop_memo
        keys = [np.asarray(a, np.float32).tobytes() for a in affines]
        todo = [i for i, k in enumerate(keys) if memo is None or k not in memo]
        batch = int(getattr(self.pipeline, "max_faces", self.config.max_faces))
        rows: dict[int, tuple] = {}
        for start in range(0, len(todo), batch):
            part = todo[start:start + batch]
            r = self._run(frame, [affines[i] for i in part])
            for j, i in enumerate(part):
                rows[i] = (np.asarray(r.landmarks[j]), np.asarray(r.pose[j]), float(r.face_score[j]))
                if memo is not None:
                    memo[keys[i]] = rows[i]
        got = [rows[i] if i in rows else memo[keys[i]] for i in range(len(affines))]
        return (np.stack([g[0] for g in got]), np.stack([g[1] for g in got]),
                np.array([g[2] for g in got], np.float32))

    def _start(self, landmarks: np.ndarray, pose: np.ndarray, score: float, index: int) -> Track:
        box, cfg = landmark_box(landmarks), self.config
        near = [x for x in self._lost if overlaps(box, x[1], cfg.overlap_iou) or centre_distance(box, x[1]) < 1.0]
        old = min(near, key=lambda x: centre_distance(box, x[1]), default=None)
        if old is not None and all(tr.id != old[0] for tr in self._tracks):
            self._lost.remove(old)
            self.stats.tracks_resumed += 1
            track_id = old[0]
        else:
            self.stats.tracks_started += 1
            self._last_id += 1
            track_id = self._last_id
        smoother = FaceSmoother(cfg.smoothing) if cfg.smooth else None
        return Track(track_id, landmarks, pose, score, index, smoother)
