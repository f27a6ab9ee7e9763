"""The session: one or more sensor pipelines, the current exercise and leg, sets and the SLR
test. It implements ``SessionControl`` for the live app and turns everything into events."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hipsense.events import ExerciseChanged, SessionEvent, SetCounting, SetUpdate, SlrUpdate
from hipsense.exercises import Exercise, Leg, Posture, get_exercise, leg_of_role
from hipsense.samples import SampleBatch
from hipsense.session.down_leg import DownLegWatch
from hipsense.session.pipeline import PipelineEvent, SensorPipeline
from hipsense.signal.calibration import MountingCalibration
from hipsense.signal.quality import Rep, summarise_set, symmetry_index
from hipsense.signal.sensor_calibration import SensorCalibration
from hipsense.signal.slr import DEFAULT_LINES, GradeLines, assess_leg, change_is_real


@dataclass(frozen=True)
class SessionOptions:
    grade_lines: GradeLines = DEFAULT_LINES
    previous_slr_deg: dict[Leg, float] = field(default_factory=dict)  # from the history
    # A sensor on the other thigh that has no pipeline here, only watched (``watch``) for the
    # SLR's down leg: analyze of one sensor of a recording that has both thighs'.
    other_thigh: str | None = None


@dataclass(frozen=True)
class Recalibrated:
    """The calibrate key (``Session.recalibrate``), pressed on this drill and leg."""

    exercise_id: str
    leg: str


@dataclass(frozen=True)
class SessionState:
    """The session's drill and leg and whether it counts, noted (``Session.mark``) where a
    recording starts."""

    exercise_id: str
    leg: str
    counting: bool


# What the session acted on, placed in the samples (``Placed``) for the recorder to mark.
Control = SetCounting | ExerciseChanged | Recalibrated | SessionState


@dataclass(frozen=True)
class Placed:
    """Where a control took effect in one sensor's samples (its input's clock): between the
    last sample of ``sensor`` fed before it and the first fed after it. ``first``: no other
    sensor's samples had placed it (the sensor whose batch came first after it)."""

    control: Control
    sensor: str
    at_s: float
    first: bool


@dataclass(frozen=True)
class FinishedSet:
    """A set closed in this session, with the target it was judged against and the mounting
    calibration its angles were computed with (its pipeline's: the session's own, per sensor
    and posture, is replaced when a later set of that posture calibrates again, e.g. on the
    other leg)."""

    exercise_id: str
    leg: Leg
    reps: tuple[Rep, ...]
    target_reps: int
    calibration: MountingCalibration | None


class Session:
    """Feed batches from any source (``feed``); call the control methods from the UI."""

    def __init__(
        self,
        exercise_id: str,
        leg: Leg,
        sensors: dict[str, float],
        *,
        calibrations: dict[tuple[str, Posture], MountingCalibration] | None = None,
        sensor_calibrations: dict[str, SensorCalibration] | None = None,
        options: SessionOptions | None = None,
    ) -> None:
        self.exercise: Exercise = get_exercise(exercise_id)
        self.target_reps = self.exercise.target_reps  # what sets count to
        self.leg = leg
        self.rates_hz = dict(sensors)
        self.options = options or SessionOptions()
        self.calibrations = dict(calibrations or {})
        self.sensor_calibrations = dict(sensor_calibrations or {})  # per role, six-face
        self.pipelines: dict[str, SensorPipeline] = {}
        self._down_leg: DownLegWatch | None = None  # SLR: the other thigh's sensor
        self.finished_sets: list[FinishedSet] = []
        self._pending: list[SessionEvent] = []
        self.recording = False
        # Where each set start and stop, drill or leg change and recalibration took effect,
        # per sensor, on the input's clock. The recorder writes its markers there, so replay
        # and analyze act at the very sample the live session did.
        self.placed: list[Placed] = []
        self._fed_until_s: dict[str, float] = {}  # per sensor, the last sample time fed
        self._unplaced: dict[str, list[tuple[int, Control]]] = {}  # per sensor, numbered
        self._controls = 0  # controls numbered so far
        self._first_placed = -1  # the number of the latest control any sensor has placed
        self._build_pipelines()

    # -- data ---------------------------------------------------------------------------
    def feed(self, batch: SampleBatch) -> list[SessionEvent]:
        events = self.drain()
        pipe = self.pipelines.get(batch.sensor_id)
        if pipe is None:
            return events
        if len(batch):
            self._fed(batch)
            if self._down_leg is not None:
                self._down_leg.add_samples(batch)
        before = pipe.detector.count
        events += self._watched(pipe, pipe.feed(batch))
        self._remember_calibration(pipe)
        if pipe.detector.count != before and pipe.leg is self.leg:
            events += self._set_events(pipe, done=False)
        return events

    def watch(self, batch: SampleBatch) -> None:
        """Samples of ``options.other_thigh``: kept for the SLR's down-leg check only."""
        if self._down_leg is not None and len(batch):
            self._down_leg.add_samples(batch)

    def finish(self) -> list[SessionEvent]:
        """End of input: close the running set and report it."""
        events = self.drain()
        for pipe in self.pipelines.values():
            events += self._watched(pipe, pipe.finish())
        self.stop_set()
        return events + self.drain()

    def drain(self) -> list[SessionEvent]:
        events, self._pending = self._pending, []
        return events

    # -- SessionControl -----------------------------------------------------------------
    @property
    def counting(self) -> bool:
        """A set is running: reps are being counted."""
        return any(pipe.counting for pipe in self._active())

    def start_set(self) -> None:
        for pipe in self._active():
            # rows held for a gap's check belong to this set
            self._pending += self._watched(pipe, pipe.flush())
            if not pipe.counting or pipe.reps:
                self._close_set(pipe)
                pipe.new_set()
            pipe.counting = True
        self._emit(SetCounting(self.exercise.id, self.leg.value, counting=True))

    def stop_set(self) -> None:
        was_counting = self.counting
        for pipe in self._active():
            # rows held for a gap's check belong to this set
            self._pending += self._watched(pipe, pipe.flush())
            if pipe.counting:
                self._close_set(pipe)
                pipe.new_set()
            pipe.counting = False
        if was_counting:
            self._emit(SetCounting(self.exercise.id, self.leg.value, counting=False))

    def switch_leg(self) -> None:
        self.stop_set()
        self.leg = self.leg.other
        if len(self.pipelines) == 1:  # one sensor: it has moved to the other thigh
            self._build_pipelines()
        self._announce()
        self.start_set()

    def select_exercise(self, exercise_id: str, target_reps: int | None = None) -> None:
        self.stop_set()
        self.exercise = get_exercise(exercise_id)
        self.target_reps = target_reps or self.exercise.target_reps
        self._build_pipelines()
        self._announce()

    def toggle_recording(self) -> bool:
        self.recording = not self.recording
        return self.recording

    def recalibrate(self) -> None:
        """Forget the current posture's calibration and calibrate again (the sensor slipped
        or was re-strapped): the running set closes, and a new one starts counting from zero,
        its reps counted once the routine has found the new calibration."""
        self.stop_set()
        self.calibrations = {
            k: v for k, v in self.calibrations.items() if k[1] != self.exercise.posture
        }
        self._build_pipelines()
        self.mark(Recalibrated(self.exercise.id, self.leg.value))
        self.start_set()

    def mark(self, control: Control) -> None:
        """Have ``control`` placed in each sensor's samples, once its next sample is fed
        (``placed``); the session's own controls are marked as they happen."""
        for sensor in self.rates_hz:
            self._unplaced.setdefault(sensor, []).append((self._controls, control))
        self._controls += 1

    def placed_at_end(self, unfed_s: float) -> list[Placed]:
        """The controls no sensor has placed yet, placed after the last sample fed (half a
        sample period after it; at ``unfed_s`` if none was), as if the input ended there:
        what is fed later is not in the recording being closed. ``placed`` is left as it is."""
        ends = [
            (until + 0.5 / self.rates_hz[sensor], sensor)
            for sensor, until in self._fed_until_s.items()
        ]
        at_s, sensor = max(ends, default=(unfed_s, next(iter(self.rates_hz), "")))
        waiting = {n: c for pending in self._unplaced.values() for n, c in pending}
        return [
            Placed(waiting[n], sensor, at_s, first=True)
            for n in sorted(waiting)
            if n > self._first_placed
        ]

    # -- internals ----------------------------------------------------------------------
    def _emit(self, event: SetCounting | ExerciseChanged) -> None:
        self._pending.append(event)
        self.mark(event)

    def _fed(self, batch: SampleBatch) -> None:
        """Note where ``batch`` (not empty) is in its sensor's input: the controls since its
        sensor's last batch took effect between that batch's last sample and this one's
        first."""
        sensor, first = batch.sensor_id, float(batch.t_s[0])
        pending = self._unplaced.pop(sensor, [])
        if pending:
            before = self._fed_until_s.get(sensor)
            if before is not None and before < first:
                at_s = (before + first) / 2
            else:  # nothing fed before: half a sample period before the first
                at_s = first - 0.5 / self.rates_hz[sensor]
            for n, control in pending:
                self.placed.append(Placed(control, sensor, at_s, first=n > self._first_placed))
                self._first_placed = max(self._first_placed, n)
        self._fed_until_s[sensor] = float(batch.t_s[-1])

    def _build_pipelines(self) -> None:
        for pipe in self.pipelines.values():  # rows held for a gap's check are shown first
            self._pending += self._watched(pipe, pipe.flush())
        single = len(self.rates_hz) == 1  # one sensor goes wherever the user straps it
        for role, rate_hz in self.rates_hz.items():
            leg = self.leg if single else leg_of_role(role, self.leg)
            known = self.calibrations.get((role, self.exercise.posture))
            if known is not None and known.leg is not leg:
                known = None
            old = self.pipelines.get(role)
            if old is not None and known is not None and old.calibration is known:
                # Same thigh, posture and mounting: the fusion runs on, only the drill's
                # counting starts afresh. Started again mid-movement (the warm-up moves on as
                # a set reaches its target), the filter's first attitude came from a moving
                # leg's accelerometer, and a switch during a drive or swing lost 3-4 of the
                # next 6-7 reps.
                old.use_exercise(self.exercise)
                continue
            self.pipelines[role] = SensorPipeline(
                role,
                rate_hz,
                self.exercise,
                leg,
                known,
                sensor_calibration=self.sensor_calibrations.get(role),
            )
        legs = {role: pipe.leg for role, pipe in self.pipelines.items()}
        other = self.options.other_thigh
        if other is not None and other not in legs:
            legs[other] = leg_of_role(other, self.leg.other)
        self._down_leg = DownLegWatch.for_session(self.exercise, legs, previous=self._down_leg)

    def _watched(self, pipe: SensorPipeline, events: list[PipelineEvent]) -> list[SessionEvent]:
        """``pipe``'s events, its completed reps checked against the other thigh (SLR)."""
        if self._down_leg is None or pipe.leg is not self.leg:
            return list(events)
        return self._down_leg.watch(pipe.reps, pipe.leg, events)

    def _active(self) -> list[SensorPipeline]:
        return [p for p in self.pipelines.values() if p.leg is self.leg]

    def _remember_calibration(self, pipe: SensorPipeline) -> None:
        if pipe.calibration is not None:
            self.calibrations[(pipe.role, pipe.exercise.posture)] = pipe.calibration

    @property
    def target_deg(self) -> float | None:
        """The angle the drill aims at. The SLR test's is the door-jamb line this session
        grades against (75.5° from proportions, or personalised), not the catalogue's round
        75°, so the gauge's target and the pass/below verdict never disagree."""
        if self.exercise.id == "slr":
            return self.options.grade_lines.mid_thigh_deg
        return self.exercise.target_deg

    def _announce(self) -> None:
        e = self.exercise
        self._emit(ExerciseChanged(e.id, self.leg.value, self.target_reps, self.target_deg))

    def _close_set(self, pipe: SensorPipeline) -> None:
        if pipe.reps:
            done = FinishedSet(
                pipe.exercise.id, pipe.leg, tuple(pipe.reps), self.target_reps, pipe.calibration
            )
            self.finished_sets.append(done)
            self._pending += self._set_events(pipe, done=True)

    def _set_events(self, pipe: SensorPipeline, *, done: bool) -> list[SessionEvent]:
        reps = pipe.reps
        s = summarise_set(reps, self.target_reps)
        update = SetUpdate(
            role=pipe.role,
            exercise_id=pipe.exercise.id,
            leg=pipe.leg.value,
            rep_count=s.count,
            target_reps=s.target_reps,
            mean_rom_deg=_finite(s.mean_rom_deg),
            best_rom_deg=_finite(s.best_rom_deg),
            rom_cv_pct=_finite(s.rom_cv_pct),
            mean_duration_s=_finite(s.mean_duration_s),
            flag_counts=s.flag_counts,
            symmetry_index_pct=self._symmetry(pipe.exercise.id, pipe.leg, s.mean_rom_deg),
            done=done,
        )
        events: list[SessionEvent] = [update]
        if pipe.exercise.id == "slr" and reps:
            events.append(self._slr_update(pipe.leg, reps))
        return events

    def _symmetry(self, exercise_id: str, leg: Leg, mean_rom_deg: float) -> float | None:
        other = [
            list(f.reps)
            for f in self.finished_sets
            if f.exercise_id == exercise_id and f.leg is not leg
        ]
        if not other or not math.isfinite(mean_rom_deg):
            return None
        other_rom = summarise_set(other[-1], 1).mean_rom_deg
        left, right = (mean_rom_deg, other_rom) if leg is Leg.LEFT else (other_rom, mean_rom_deg)
        return _finite(symmetry_index(left, right))

    def _slr_update(self, leg: Leg, reps: list[Rep]) -> SlrUpdate:
        lines = self.options.grade_lines
        result = assess_leg(leg, reps, lines)
        previous = self.options.previous_slr_deg.get(leg)
        change = None if previous is None else result.best_deg - previous
        return SlrUpdate(
            leg=leg.value,
            trial_peaks_deg=result.trials_deg,
            best_deg=result.best_deg,
            grade=result.grade,
            passed=result.passed,
            pass_line_deg=lines.mid_thigh_deg,
            knee_line_deg=lines.knee_line_deg,
            previous_best_deg=previous,
            change_deg=change,
            real_change=None if previous is None else change_is_real(previous, result.best_deg),
            trials_counted=result.counted,
            trials_down_leg_moved=result.down_leg_moved,
        )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
