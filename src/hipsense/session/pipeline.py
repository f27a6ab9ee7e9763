"""One sensor's pipeline: samples -> mounting calibration -> angles -> reps, as events."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hipsense.events import (
    AngleUpdate,
    CalibrationPhase,
    CalibrationUpdate,
    QualityUpdate,
    RepUpdate,
)
from hipsense.exercises import Angle, Exercise, Leg, Posture
from hipsense.samples import SampleBatch
from hipsense.signal.angles import (
    AngleBatch,
    AnglePipeline,
    Published,
    shown_angles,
    thigh_angles,
)
from hipsense.signal.calibration import MountingCalibration
from hipsense.signal.calibration_tracker import CalibrationProgress
from hipsense.signal.quality import Rep
from hipsense.signal.reps import RepCompleted, RepDetector, RepEvent, RepPeak, RepStarted
from hipsense.signal.sensor_calibration import SensorCalibration

FloatArray = npt.NDArray[np.float64]
PipelineEvent = AngleUpdate | CalibrationUpdate | QualityUpdate | RepUpdate

LIVE_BATCH_S = 0.1  # about what one or two notifications carry


def live_sized(batch: SampleBatch, rate_hz: float) -> list[SampleBatch]:
    """Split a long block (an import, a replay at full speed) into live-sized batches, so the
    pipeline sees every source the way it sees a sensor: calibration is guided on a stream."""
    size = max(1, round(LIVE_BATCH_S * rate_hz))
    if len(batch) <= size:
        return [batch]
    return [
        SampleBatch(
            batch.sensor_id,
            batch.t_s[i : i + size],
            batch.acc_mps2[i : i + size],
            batch.gyr_radps[i : i + size],
            None if batch.mag_ut is None else batch.mag_ut[i : i + size],
            batch.lost_before if i == 0 else 0,
        )
        for i in range(0, len(batch), size)
    ]


def _joined(batches: list[SampleBatch]) -> SampleBatch:
    first = batches[0]
    mags = [b.mag_ut for b in batches]
    return SampleBatch(
        first.sensor_id,
        np.concatenate([b.t_s for b in batches]),
        np.concatenate([b.acc_mps2 for b in batches]),
        np.concatenate([b.gyr_radps for b in batches]),
        None if any(m is None for m in mags) else np.concatenate(mags),  # type: ignore[arg-type]
        first.lost_before,
    )


_PHASES: dict[tuple[Posture, str], CalibrationPhase] = {
    (Posture.STANDING, "still"): "still",
    (Posture.STANDING, "move"): "swings",
    (Posture.STANDING, "still_again"): "still-again",
    (Posture.SUPINE, "still"): "lie-still",
    (Posture.SUPINE, "move"): "first-raise",
    (Posture.SUPINE, "still_again"): "first-raise",
}


class SensorPipeline:
    """Feed ``SampleBatch``es of one sensor; get events. Sets are counted while ``counting``.

    Standing, the calibration swings are never counted. Supine, the first raise *is* the
    calibration: once it is known the buffered quaternions are turned into angles, so that
    raise is counted like every later one.
    """

    def __init__(
        self,
        role: str,
        rate_hz: float,
        exercise: Exercise,
        leg: Leg,
        calibration: MountingCalibration | None = None,
        *,
        sensor_calibration: SensorCalibration | None = None,
    ) -> None:
        self.role, self.rate_hz, self.exercise, self.leg = role, float(rate_hz), exercise, leg
        self.sensor_calibration = sensor_calibration  # the sensor's six-face calibration
        self.angles = AnglePipeline(rate_hz, exercise.posture, leg, calibration)
        self.detector = RepDetector(exercise, leg=leg)
        self.counting = True
        self._backlog: list[tuple[FloatArray, FloatArray]] = []  # (t_s, quat) until calibrated
        self._published = Published.for_posture(exercise.posture)  # an unchecked bridge's rows wait
        self._last_progress: CalibrationProgress | None = None

    @property
    def calibration(self) -> MountingCalibration | None:
        return self.angles.calibration

    def new_set(self) -> None:
        self.detector = RepDetector(self.exercise, leg=self.leg)

    def use_exercise(self, exercise: Exercise) -> None:
        """Count ``exercise`` from now on, as a new pipeline would (same posture: the angles
        carry on as they are)."""
        if exercise.posture is not self.exercise.posture:
            raise ValueError(f"{exercise.id} is not done {self.exercise.posture.value}")
        self.exercise = exercise
        self.new_set()
        self.counting = True

    def feed(self, batch: SampleBatch) -> list[PipelineEvent]:
        if self.sensor_calibration is not None:
            batch = self.sensor_calibration.apply(batch)
        if self._calibrated():
            return self._feed(batch)  # calibrated: any block size gives the same result
        events: list[PipelineEvent] = []
        pieces = live_sized(batch, self.rate_hz)
        for i, piece in enumerate(pieces):
            events += self._feed(piece)
            if self._calibrated() and i + 1 < len(pieces):
                return events + self._feed(_joined(pieces[i + 1 :]))
        return events

    def _calibrated(self) -> bool:
        return self.angles.calibration is not None

    def _feed(self, batch: SampleBatch) -> list[PipelineEvent]:
        was_calibrated = self.calibration is not None  # before the update that may calibrate
        return self._taken(self.angles.update(batch), was_calibrated)

    def _taken(self, out: AngleBatch, was_calibrated: bool) -> list[PipelineEvent]:
        events: list[PipelineEvent] = [
            QualityUpdate(self.role, e.kind, e.t_s, e.message) for e in out.events
        ]
        events += self._progress_events(out.progress)
        if not was_calibrated:
            self._backlog.append((out.t_s, out.quat_wxyz))
            if self.calibration is None:
                return events
            events += self._replay_backlog(out.backfill)
        else:
            events += self._show(self._published.add(out))
        return events

    def _show(self, rows: AngleBatch | None) -> list[PipelineEvent]:
        if rows is None or not len(rows):
            return []
        # Rows after an unchecked bridge count but are not shown (``AngleBatch.unshown``).
        events: list[PipelineEvent] = [AngleUpdate(self.role, rows.t_s, *rows.shown_deg())]
        return events + self._count(rows)

    def flush(self) -> list[PipelineEvent]:
        """Fuse the sample waiting for its successor, and show (and count) the rows held for an
        unchecked gap bridge now, as they stand: the set is being closed."""
        events = self._taken(self.angles.flush(), self.calibration is not None)
        return events + self._show(self._published.finish())

    def finish(self) -> list[PipelineEvent]:
        return self.flush() + self._rep_events(self.detector.finish())

    def _replay_backlog(self, backfill: AngleBatch | None) -> list[PipelineEvent]:
        calibration = self.calibration
        assert calibration is not None
        t = np.concatenate([b[0] for b in self._backlog])
        quat = np.concatenate([b[1] for b in self._backlog])
        self._backlog = []
        flex, abd = thigh_angles(quat, calibration)
        ok = np.isfinite(quat).all(axis=1)
        flex, abd = np.where(ok, flex, np.nan), np.where(ok, abd, np.nan)
        hide = np.zeros(len(t), dtype=bool)  # rows after an unchecked bridge: counted only
        if backfill is not None:  # re-fused knowing the calibration: replaces what it covers
            older = t < backfill.t_s[0]
            # history: released whole, so no row of it is counted later by _show
            shown = self._published.add_all(backfill)
            t = np.concatenate([t[older], shown.t_s])
            flex = np.concatenate([flex[older], shown.flexion_deg])
            abd = np.concatenate([abd[older], shown.abduction_deg])
            hide = np.concatenate([hide[older], shown.unshown_rows()])
        events: list[PipelineEvent] = [AngleUpdate(self.role, t, *shown_angles(flex, abd, hide))]
        if self.exercise.posture is Posture.SUPINE:
            events += self._count_arrays(t, flex, abd)
        return events

    def _count(self, out: AngleBatch) -> list[PipelineEvent]:
        return self._count_arrays(out.t_s, out.flexion_deg, out.abduction_deg)

    def _count_arrays(
        self, t: FloatArray, flex: FloatArray, abd: FloatArray
    ) -> list[PipelineEvent]:
        if not self.counting:
            return []
        primary, secondary = (
            (abd, flex) if self.exercise.primary is Angle.ABDUCTION else (flex, abd)
        )
        return self._rep_events(self.detector.update(t, primary, secondary))

    def _rep_events(self, found: list[RepEvent]) -> list[PipelineEvent]:
        return [self._rep_update(e) for e in found]

    def _rep_update(self, e: RepEvent) -> RepUpdate:
        base = (self.role, self.exercise.id, self.leg.value)
        if isinstance(e, RepStarted):
            return RepUpdate(*base, "started", e.index, e.t_s)
        if isinstance(e, RepPeak):
            return RepUpdate(*base, "peak", e.index, e.t_s, peak_deg=e.peak_deg)
        return _completed(base, e)

    def _progress_events(self, progress: CalibrationProgress | None) -> list[PipelineEvent]:
        if progress is None or progress == self._last_progress:
            return []
        self._last_progress = progress
        phase: CalibrationPhase = _PHASES.get((self.exercise.posture, progress.phase), "done")
        message = (
            progress.message if not progress.problem else f"{progress.problem} — {progress.message}"
        )
        return [CalibrationUpdate(self.role, phase, message, progress.fraction)]

    @property
    def reps(self) -> list[Rep]:
        return self.detector.reps


def _completed(base: tuple[str, str, str], e: RepCompleted) -> RepUpdate:
    rep = e.rep
    return RepUpdate(
        *base,
        "completed",
        rep.index,
        rep.detected_s,
        peak_deg=rep.peak_deg,
        rom_deg=rep.rom_deg,
        duration_s=rep.duration_s,
        flags=rep.flags,
    )
