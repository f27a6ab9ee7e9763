"""``hipsense analyze``: a recording or CSV through the live session, plus smoothed angles.

Reps come from replaying the input through exactly the live ``Session`` (so every rep has
the ``detected_s`` the live app would have announced it at); the exported angles and
orientation come from the offline (forward-backward) fusion with the same calibration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hipsense.errors import CalibrationError
from hipsense.events import QualityUpdate
from hipsense.exercises import Leg, Posture, get_exercise
from hipsense.samples import SampleBatch
from hipsense.session import Session
from hipsense.signal.angles import compute_angles
from hipsense.signal.calibration import MountingCalibration
from hipsense.signal.orientation import estimate_orientation_offline
from hipsense.signal.quality import Rep, SetSummary, summarise_set
from hipsense.sources.replay import LoadedInput

FloatArray = npt.NDArray[np.float64]
Progress = Callable[[float], None]


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
    loaded: LoadedInput, exercise_id: str, leg: Leg, progress: Progress | None = None
) -> AnalysisResult:
    samples = Samples.of(loaded.batches)
    if exercise_id == "none":
        return _orientation_only(loaded, samples, leg)
    exercise = get_exercise(exercise_id)
    session, quality = _replay_live(loaded, exercise_id, leg, progress)
    calibration = session.calibrations.get((loaded.sensor_id, exercise.posture))
    reps = tuple(r for ex, lg, set_reps in session.finished_sets for r in set_reps if lg is leg)
    try:
        angles = compute_angles(
            samples.t_s,
            samples.acc_mps2,
            samples.gyr_radps,
            loaded.rate_hz,
            posture=exercise.posture,
            leg=leg,
            calibration=calibration,
        )
    except CalibrationError as exc:
        quat = _orientation(samples, loaded.rate_hz)
        nan = np.full(len(samples.t_s), np.nan)
        return AnalysisResult(
            exercise_id,
            leg,
            loaded.rate_hz,
            (),
            None,
            None,
            exc,
            samples.t_s,
            nan,
            nan,
            quat,
            quality,
        )
    return AnalysisResult(
        exercise_id=exercise_id,
        leg=leg,
        rate_hz=loaded.rate_hz,
        reps=reps,
        summary=summarise_set(list(reps), exercise.target_reps),
        calibration=calibration,
        calibration_error=None,
        t_s=angles.t_s,
        flexion_deg=angles.flexion_deg,
        abduction_deg=angles.abduction_deg,
        quat_wxyz=angles.quat_wxyz,
        quality=quality,
    )


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


def _orientation(samples: Samples, rate_hz: float) -> FloatArray:
    finite = np.asarray(
        np.isfinite(samples.acc_mps2).all(axis=1) & np.isfinite(samples.gyr_radps).all(axis=1)
    )
    return estimate_orientation_offline(samples.gyr_radps, samples.acc_mps2, rate_hz, valid=finite)


def _orientation_only(loaded: LoadedInput, samples: Samples, leg: Leg) -> AnalysisResult:
    quat = _orientation(samples, loaded.rate_hz)
    nan = np.full(len(samples.t_s), np.nan)
    return AnalysisResult(
        "none", leg, loaded.rate_hz, (), None, None, None, samples.t_s, nan, nan, quat, ()
    )


__all__ = ["AnalysisResult", "Posture", "analyze"]
