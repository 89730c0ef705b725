"""The tracker with the real network on scenes built from the shared data: faces turned in the image
plane (upright first crops from the eye keypoints), a hard cut between two clips (no id survives),
and a 2x2 mosaic of four clips (four faces, four stable ids). Skipped without the model or data."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from atpn_edge.core.face import landmark_box
from atpn_edge.detection import BoxCalibration, Detection

from helpers import shipped_pipeline

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def pipeline():
    return shipped_pipeline(max_faces=4)


def read_pts(path) -> np.ndarray:
    lines = path.read_text().splitlines()
    i = lines.index("{") + 1
    return np.array([[float(v) for v in ln.split()] for ln in lines[i:i + 68]]) - 1.0  # 1-based -> 0-based


def rotate(image: np.ndarray, points: np.ndarray, deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Turn an image by ``deg`` clockwise on a canvas large enough to keep all of it."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), -deg, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(np.ceil(w * c + h * s)), int(np.ceil(w * s + h * c))
    m[0, 2] += (nw - w) / 2
    m[1, 2] += (nh - h) / 2
    return cv2.warpAffine(image, m, (nw, nh), borderMode=cv2.BORDER_REPLICATE), points @ m[:, :2].T + m[:, 2]


class GroundTruthDetector:
    """A detector that finds the annotated face: its (axis-aligned) landmark box and, like
    BlazeFace, the eye centres in MediaPipe's order (the person's right eye first)."""

    name = "ground-truth"
    calibration = BoxCalibration()
    upright_only = True  # like BlazeFace: the tracker checks new faces for being upside down

    def __init__(self, keypoints: bool = True) -> None:
        self.keypoints, self.points = keypoints, None

    def detect(self, frame):
        kp = np.stack([self.points[36:42].mean(0), self.points[42:48].mean(0)]) if self.keypoints else None
        return [Detection(box=landmark_box(self.points), keypoints=kp)]


def mean_nme(pipeline, faces, deg: float, keypoints: bool = True, detector=None, **options) -> tuple[float, int]:
    """Mean NME (% of the outer-eye-corner distance) of the first frame's face over rotated photos;
    a missed face counts as inf. ``detector``: a real one (else the ground-truth detector)."""
    from atpn_edge import Tracker
    from atpn_edge.core.face import centre_inside

    errors, found = [], 0
    if detector is None:  # the ground-truth box does not move with the frame turned half round
        options.setdefault("upside_down_search", False)
    for image, points in faces:
        image, points = rotate(image, points, deg)
        det = detector or GroundTruthDetector(keypoints)
        det.points = points
        with Tracker(pipeline, det, detect_every=0, **options) as tracker:
            out = [f for f in tracker.track(image) if centre_inside(f.box, landmark_box(points))]
        if not out:
            errors.append(np.inf)
            continue
        found += 1
        inter_ocular = np.linalg.norm(points[36] - points[45])
        errors.append(100 * float(np.mean(np.linalg.norm(out[0].landmarks - points, axis=1))) / inter_ocular)
    return float(np.mean(errors)), found


def test_faces_turned_up_to_180_degrees_get_upright_first_crops(pipeline, shared_data):
    faces = [(cv2.imread(str(p.with_suffix(".jpg"))), read_pts(p))
             for p in sorted((shared_data / "300w" / "helen_train").glob("*.pts"))[:24]]
    upright, _ = mean_nme(pipeline, faces, 0)
    assert upright < 6.0
    for deg in (45, 90, 180):
        nme, found = mean_nme(pipeline, faces, deg)
        assert found == len(faces) and nme < upright + 0.5, (deg, nme, upright)
    # Without the eye keypoints the first crop is upright in the image: a face upside down is lost,
    # unless the half-turn check (on by default) tries it the other way round.
    nme, found = mean_nme(pipeline, faces, 180, keypoints=False, upside_down_check=False)
    assert found < len(faces) or nme > upright + 5
    nme, found = mean_nme(pipeline, faces, 180, keypoints=False)
    assert found == len(faces) and nme < upright + 0.5, (nme, upright)


def blazeface_and_faces(shared_data, n=24):
    """The shipped BlazeFace detector and the first ``n`` HELEN-train photos with their points."""
    from atpn_edge.detection import DetectorUnavailable, create_detector

    try:
        det = create_detector("blazeface")
    except DetectorUnavailable as exc:
        pytest.skip(str(exc))
    faces = [(cv2.imread(str(p.with_suffix(".jpg"))), read_pts(p))
             for p in sorted((shared_data / "300w" / "helen_train").glob("*.pts"))[:n]]
    return det, faces


def test_turned_faces_with_the_blazeface_detector(pipeline, shared_data):
    det, faces = blazeface_and_faces(shared_data)
    upright, found = mean_nme(pipeline, faces, 0, detector=det)
    assert found == len(faces) and upright < 6.0
    turned, found = mean_nme(pipeline, faces, 45, detector=det)
    assert found == len(faces) and turned < upright + 0.5  # the keypoints' angle is right at 45 deg
    # At 90 deg BlazeFace's own second look and the half-turn check get the angle right; trying
    # every quarter turn instead recovers most faces too.
    plain, found = mean_nme(pipeline, faces, 90, detector=det)
    assert found == len(faces) and plain < upright + 1.0, (plain, upright)
    searched, found = mean_nme(pipeline, faces, 90, detector=det, orientation_search=True)
    assert found >= len(faces) - 2 and searched < 10.0, searched


def test_faces_read_as_upright_when_turned_90_degrees_are_turned_a_quarter_round(pipeline, shared_data):
    """BlazeFace reads these two HELEN faces turned 90 deg as upright; cropped at that turn and
    refined they still score 0.88-0.99, with landmarks nowhere near the face (NME 70-90 %). The
    quarter turns of a doubtful candidate put them the right way up."""
    det, _ = blazeface_and_faces(shared_data, n=0)
    folder = shared_data / "300w" / "helen_train"
    faces = [(cv2.imread(str(folder / f"{name}.jpg")), read_pts(folder / f"{name}.pts"))
             for name in ("2072336994_1", "2222444403_1")]
    nme, found = mean_nme(pipeline, faces, 90, detector=det)
    assert found == 2 and nme < 8.0, nme


def clip(path, n: int, size: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while len(out) < n:
        ok, frame = cap.read()
        if not ok:
            break
        out.append(cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA))
    cap.release()
    assert len(out) == n, path
    return out


def test_no_id_survives_a_hard_cut_between_two_clips(pipeline, shared_data):
    from atpn_edge import Tracker

    videos = shared_data / "videos"
    first, second = clip(videos / "d3.mp4", 40, 480), clip(videos / "d18.mp4", 40, 480)  # two people, one place
    with Tracker(pipeline) as tracker:
        before = [tracker.track(f) for f in first]
        after = [tracker.track(f) for f in second]
    ids_before = {f.id for fs in before for f in fs}
    ids_after = {f.id for fs in after for f in fs}
    assert len(ids_before) == 1 and sum(map(bool, before)) >= 38
    assert ids_after and not ids_before & ids_after
    assert sum(map(bool, after)) >= 38 and tracker.stats.cuts == 1


def test_four_clips_in_a_mosaic_give_four_stable_ids(pipeline, shared_data):
    from atpn_edge import Tracker

    videos = shared_data / "videos"
    quads = [clip(videos / name, 60, 320) for name in ("d3.mp4", "d9.mp4", "d18.mp4", "d19.mp4")]
    calls = []
    with Tracker(pipeline, max_faces=4) as tracker:
        per_frame = []
        for t in range(60):
            frame = np.vstack([np.hstack([quads[0][t], quads[1][t]]), np.hstack([quads[2][t], quads[3][t]])])
            before = tracker.stats.pipeline_calls
            faces = tracker.track(frame)
            calls.append(tracker.stats.pipeline_calls - before)
            per_frame.append({(int(f.box[0] + f.box[2] / 2 > 320), int(f.box[1] + f.box[3] / 2 > 320)): f.id for f in faces})
    assert all(len(p) == 4 for p in per_frame[1:]), [len(p) for p in per_frame]
    assert len({tuple(sorted(p.items())) for p in per_frame[1:]}) == 1  # the same id in the same quadrant throughout
    assert tracker.stats.tracks_started == 4
    assert calls[1:].count(1) >= 55  # tracking: one batched network call per frame


def test_upside_down_faces_are_found_and_cropped_the_right_way_up(pipeline, shared_data):
    """BlazeFace misses about a fifth of upside-down faces and takes most of the others for upright
    ones; the search on the frame turned half round and the half-turn check of doubtful first
    crops (both on by default) find them with an NME close to upright."""
    det, faces = blazeface_and_faces(shared_data)
    upright, _ = mean_nme(pipeline, faces, 0, detector=det)
    found_errors = {}
    for deg in (135, 180):
        nme, found = mean_nme(pipeline, faces, deg, detector=det)
        off, found_off = mean_nme(pipeline, faces, deg, detector=det, upside_down_check=False, upside_down_search=False)
        found_errors[deg] = (nme, found, off, found_off)
        assert found > found_off, found_errors
    nme, found, off, found_off = found_errors[180]
    assert found >= len(faces) - 2 and found_off < len(faces) - 6, found_errors


def test_the_turned_search_does_not_run_a_crop_twice(pipeline, shared_data):
    """When the search on the frame turned half round runs (a doubtful candidate: here a
    1280x720 frame with two faces, an AFW photo pasted on a talking-head frame), every candidate of
    both searches is tried again; the first search's crops come from a memo, not the network."""
    from atpn_edge import Tracker
    from atpn_edge.detection import DetectorUnavailable, create_detector

    try:
        det = create_detector("blazeface")
    except DetectorUnavailable as exc:
        pytest.skip(str(exc))
    cap = cv2.VideoCapture(str(shared_data / "videos" / "d3.mp4"))
    ok, back = cap.read()
    cap.release()
    assert ok
    photos = sorted((shared_data / "300w" / "afw").glob("*.jpg"))[5:7]
    seen: list[bytes] = []

    class Counting:
        def __getattr__(self, name):
            return getattr(pipeline, name)

        def run(self, frame, affines, timed=False):
            seen.extend(np.asarray(a, np.float32).tobytes() for a in affines)
            return pipeline.run(frame, affines, timed)

    turned_searches = 0
    for path, side, x in zip(photos, (240, 320), (650, 760)):
        frame = cv2.resize(back, (1280, 720))
        frame[720 - side - 80 * (side == 240):720 - 80 * (side == 240), x:x + side] = cv2.resize(cv2.imread(str(path)), (side, side))
        seen.clear()
        with Tracker(Counting(), det, detect_every=0) as tracker:
            assert tracker.track(frame)
            turned_searches += tracker.stats.detector_calls == 2
        assert len(seen) == len(set(seen)), "a crop went through the network twice in one search"
    assert turned_searches >= 1


class FaceAndFalseBox(GroundTruthDetector):
    """On the frame it is given first: the annotated face (unless ``points`` is None) and a box on
    the textured background beside it (a false detection, listed first: the tracker must not rely
    on the order). Nothing on the frame turned half round, where those places would be wrong."""

    false_box = None

    def detect(self, frame):
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls > 1:
            return []
        false = Detection(box=self.false_box, keypoints=None)
        return [false] if self.points is None else [false, *super().detect(frame)]


def test_a_false_box_beside_an_upright_face_does_not_search_the_frame_turned(pipeline, shared_data):
    """A doubtful candidate that is no face (its crops score low) does not make the tracker search
    the frame turned half round when an upright face started a track; with nothing confirmed it
    still does."""
    from atpn_edge import Tracker

    rng = np.random.default_rng(5)
    calls = []
    for p in sorted((shared_data / "300w" / "helen_train").glob("*.pts"))[:6]:
        photo, points = cv2.imread(str(p.with_suffix(".jpg"))), read_pts(p)
        h, w = photo.shape[:2]
        frame = cv2.GaussianBlur(rng.integers(0, 255, (h, 2 * w, 3), dtype=np.uint8), (0, 0), 3)
        frame[:, :w] = photo
        for points_or_none in (points, None):
            det = FaceAndFalseBox()
            det.false_box, det.points = (w + 0.2 * w, 0.2 * h, 0.6 * w, 0.6 * h), points_or_none
            with Tracker(pipeline, det, detect_every=0) as tracker:
                faces = tracker.track(frame)
                calls.append((points_or_none is not None, len(faces), tracker.stats.detector_calls))
    with_face = [c for c in calls if c[0]]
    assert all(n == 1 for _, n, _ in with_face), calls  # the face, not the false box
    assert all(d == 1 for _, _, d in with_face), calls
    assert all(n == 0 and d == 2 for has, n, d in calls if not has), calls
