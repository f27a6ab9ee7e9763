"""``hipsense analyze``: a recording or CSV through the live session, plus smoothed angles.

Reps come from replaying the input through exactly the live ``Session`` (so every rep has
the ``detected_s`` the live app would have announced it at); the exported angles and
orientation come from the offline (forward-backward) fusion with the same calibration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from hipsense.errors import CalibrationError
from hipsense.events import QualityUpdate
from hipsense.exercises import Leg, Posture, get_exercise
from hipsense.offline_windows import AnglePiece, Fuse, stitched, windowed
from hipsense.samples import SampleBatch
from hipsense.session import Session
from hipsense.signal.angles import AngleBatch, compute_angles
from hipsense.signal.calibration import MountingCalibration
from hipsense.signal.orientation import estimate_orientation_offline
from hipsense.signal.quality import Rep, SetSummary, summarise_set
from hipsense.sources.replay import LoadedInput

FloatArray = npt.NDArray[np.float64]
Progress = Callable[[float], None]
Sink = Callable[[AnglePiece], None]  # receives the per-sample results window by window


@dataclass(frozen=True, eq=False)
class Samples:
    t_s: FloatArray
    acc_mps2: FloatArray
    gyr_radps: FloatArray

    @classmethod
    def of(cls, batches: tuple[SampleBatch, ...]) -> Samples:
        if not batches:
            return cls(np.empty(0), np.empty((0, 3)), np.empty((0, 3)))
        return cls(
            np.concatenate([b.t_s for b in batches]),
            np.concatenate([b.acc_mps2 for b in batches]),
            np.concatenate([b.gyr_radps for b in batches]),
        )


@dataclass(frozen=True, eq=False)
class AnalysisResult:
    exercise_id: str
    leg: Leg
    rate_hz: float
    reps: tuple[Rep, ...]
    summary: SetSummary | None
    calibration: MountingCalibration | None
    calibration_error: CalibrationError | None
    t_s: FloatArray
    flexion_deg: FloatArray
    abduction_deg: FloatArray
    quat_wxyz: FloatArray
    quality: tuple[QualityUpdate, ...]


def analyze(
    loaded: LoadedInput,
    exercise_id: str,
    leg: Leg,
    progress: Progress | None = None,
    *,
    sink: Sink | None = None,
) -> AnalysisResult:
    """Reps from the live session, smoothed angles and orientation from offline fusion.

    With a ``sink``, the per-sample results go to it window by window (memory bounded by a
    window) and the result's per-sample arrays are left empty."""
    samples = Samples.of(loaded.batches)
    if exercise_id == "none":
        pieces = windowed(samples.t_s, loaded.rate_hz, _orientation_fuse(samples, loaded.rate_hz))
        kept = _deliver(pieces, sink)
        return AnalysisResult("none", leg, loaded.rate_hz, (), None, None, None, *_arrays(kept), ())
    exercise = get_exercise(exercise_id)
    session, quality = _replay_live(loaded, exercise_id, leg, progress)
    calibration = session.calibrations.get((loaded.sensor_id, exercise.posture))
    reps = tuple(r for ex, lg, set_reps in session.finished_sets for r in set_reps if lg is leg)
    summary = summarise_set(list(reps), exercise.target_reps)
    if calibration is None:  # calibrating on the whole recording: not windowed
        try:
            angles = _angles(samples, loaded.rate_hz, exercise.posture, leg, None)
        except CalibrationError as exc:
            fuse = _orientation_fuse(samples, loaded.rate_hz)
            pieces = (replace(p, angles=False) for p in windowed(samples.t_s, loaded.rate_hz, fuse))
            kept = _deliver(pieces, sink)
            return AnalysisResult(
                exercise_id, leg, loaded.rate_hz, (), None, None, exc, *_arrays(kept), quality
            )
        whole = AnglePiece(angles.t_s, angles.flexion_deg, angles.abduction_deg, angles.quat_wxyz)
        kept = _deliver(iter([whole]), sink)
    else:
        fuse = _angles_fuse(samples, loaded.rate_hz, exercise.posture, leg, calibration)
        kept = _deliver(windowed(samples.t_s, loaded.rate_hz, fuse), sink)
    return AnalysisResult(
        exercise_id, leg, loaded.rate_hz, reps, summary, calibration, None, *_arrays(kept), quality
    )


def _deliver(pieces: Iterator[AnglePiece], sink: Sink | None) -> AnglePiece | None:
    """To the sink piece by piece, or all stitched together (returned)."""
    if sink is None:
        return stitched(pieces)
    for piece in pieces:
        sink(piece)
    return None


def _arrays(piece: AnglePiece | None) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    if piece is None:
        piece = stitched(iter(()))
    return piece.t_s, piece.flexion_deg, piece.abduction_deg, piece.quat_wxyz


def _angles(
    samples: Samples,
    rate_hz: float,
    posture: Posture,
    leg: Leg,
    calibration: MountingCalibration | None,
    *,
    part: slice = slice(None),
) -> AngleBatch:
    return compute_angles(
        samples.t_s[part],
        samples.acc_mps2[part],
        samples.gyr_radps[part],
        rate_hz,
        posture=posture,
        leg=leg,
        calibration=calibration,
    )


def _angles_fuse(
    samples: Samples, rate_hz: float, posture: Posture, leg: Leg, calibration: MountingCalibration
) -> Fuse:
    def fuse(part: slice) -> tuple[FloatArray, FloatArray, FloatArray]:
        a = _angles(samples, rate_hz, posture, leg, calibration, part=part)
        return a.flexion_deg, a.abduction_deg, a.quat_wxyz

    return fuse


def _orientation_fuse(samples: Samples, rate_hz: float) -> Fuse:
    def fuse(part: slice) -> tuple[FloatArray, FloatArray, FloatArray]:
        acc, gyr = samples.acc_mps2[part], samples.gyr_radps[part]
        finite = np.asarray(np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1))
        quat = estimate_orientation_offline(gyr, acc, rate_hz, valid=finite)
        nan = np.full(len(acc), np.nan)
        return nan, nan, quat

    return fuse


def _replay_live(
    loaded: LoadedInput, exercise_id: str, leg: Leg, progress: Progress | None
) -> tuple[Session, tuple[QualityUpdate, ...]]:
    session = Session(exercise_id, leg, {loaded.sensor_id: loaded.rate_hz})
    quality: list[QualityUpdate] = []
    total = max(1, len(loaded.batches))
    for i, batch in enumerate(loaded.batches):
        quality += [e for e in session.feed(batch) if isinstance(e, QualityUpdate)]
        if progress is not None and i % 16 == 0:
            progress(i / total)
    quality += [e for e in session.finish() if isinstance(e, QualityUpdate)]
    if progress is not None:
        progress(1.0)
    return session, tuple(quality)


__all__ = ["AnalysisResult", "AnglePiece", "Posture", "Sink", "analyze"]
