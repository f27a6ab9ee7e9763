"""``hipsense analyze``: a recording or CSV through the live session, plus smoothed angles.

Reps come from replaying the input through exactly the live ``Session`` (so every rep has
the ``detected_s`` the live app would have announced it at); the exported angles and
orientation come from the offline (forward-backward) fusion with the same calibration.

It streams: batches go to the session as the input is read, and once the session has its
mounting calibration the offline fusion runs in overlapping windows behind it, handing each
window's rows to a sink. Memory is bounded by the windows, not by the session, except that
samples are held until the calibration is known. Where the live session recalibrated (the
sensor re-strapped), the session recalibrates on the same samples and the fusion starts
again behind it with the new calibration (see ``recalibrations_in``).
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from hipsense.errors import CalibrationError
from hipsense.events import QualityUpdate
from hipsense.exercises import Leg, Posture, get_exercise
from hipsense.offline_windows import AnglePiece, Fuse, WindowedFusion, stitched
from hipsense.recording import CalibrationRecord, Marker
from hipsense.samples import SampleBatch
from hipsense.sensors import calibrations_in
from hipsense.session import Session
from hipsense.session.coordinator import SessionOptions
from hipsense.set_marks import ExerciseMark, follow_marks_in, split_batch
from hipsense.signal.angles import compute_angles
from hipsense.signal.axis_check import apply_axes, check_axes
from hipsense.signal.calibration import MountingCalibration
from hipsense.signal.orientation import estimate_orientation_offline
from hipsense.signal.quality import Rep, SetSummary, summarise_set
from hipsense.sources.replay import LoadedInput
from hipsense.sources.streamed import InputStream

FloatArray = npt.NDArray[np.float64]
Progress = Callable[[float], None]
Sink = Callable[[AnglePiece], None]  # receives the per-sample results window by window
PROGRESS_EVERY = 16  # batches


@dataclass(frozen=True, eq=False)
class AnalysisResult:
    exercise_id: str
    leg: Leg
    rate_hz: float
    reps: tuple[Rep, ...]
    summary: SetSummary | None
    calibration: MountingCalibration | None
    calibration_error: CalibrationError | None
    t_s: FloatArray  # per-sample results: empty when they went to a sink
    flexion_deg: FloatArray
    abduction_deg: FloatArray
    quat_wxyz: FloatArray
    quality: tuple[QualityUpdate, ...]
    sets: tuple[AnalysedSet, ...] = ()  # a recording of several drills: one per set
    per_set: bool = False  # recorded drill changes were followed: the results are ``sets``
    missing_sets: tuple[MissingSet, ...] = ()  # followed drills that gave no set


@dataclass(frozen=True)
class MissingSet:
    """A drill of a recording of several that gave no set, and why."""

    exercise_id: str
    leg: Leg
    from_s: float  # where the drill started (recording time of its first sample)
    calibrated: bool  # False: it never calibrated, so no reps could be counted

    @property
    def message(self) -> str:
        drill = f"{self.exercise_id} ({self.leg.value} leg, from {self.from_s:.1f} s)"
        if self.calibrated:
            return f"{drill}: no reps seen, so it has no set"
        posture = get_exercise(self.exercise_id).posture
        return f"{drill}: {never_calibrated(posture, self.leg, None)}"


@dataclass(frozen=True)
class AnalysedSet:
    """One set of a recording that holds several drills (or both legs): the session's
    ``FinishedSet`` as analyze reports it, with its summary worked out (the session keeps the
    target and summarises when it reports) and the mounting calibration its angles were
    computed with (the set's own, not the session's for its posture: a later set of that
    posture may have replaced that one, e.g. on the other leg)."""

    exercise_id: str
    leg: Leg
    reps: tuple[Rep, ...]
    summary: SetSummary
    calibration: MountingCalibration | None


@dataclass(frozen=True)
class Recalibrations:
    """Where the live session recalibrated one sensor (its recording's time, ascending), and
    a one-line warning for each record or marker about it that could not be read."""

    at_s: tuple[float, ...] = ()
    warnings: tuple[str, ...] = ()


def recalibrations_in(
    records: Iterable[CalibrationRecord], markers: Iterable[Marker], sensor_id: str
) -> Recalibrations:
    """Where the live session that made a recording recalibrated ``sensor_id`` (the app's
    calibrate key, e.g. after re-strapping the sensor), so that analyze and replay
    recalibrate there too and the sets after it are counted with the new mounting, as live
    counted them.

    The live session writes a ``calibration-start`` marker for each press of the key, where
    it took effect in the samples (between the last sample fed before it and the first fed
    after it); a marker naming a ``sensor`` applies to that sensor only. A recording with such
    markers is followed by them. Recordings made before live wrote them hold none; where they
    recalibrated is inferred from their calibration records (``_inferred``).

    A malformed marker (its ``sensor`` not a name) cannot say whose recalibration it was;
    this sensor's calibration records can. So when one is present, each recalibration
    inferred from the records (``_inferred``) that no well-formed marker of this sensor
    accounts for (none lies between the two records it was inferred from) is followed too,
    at its inferred time: the set-stop the key wrote, which is where its marker was, or the
    user's own stop before the key, from which nothing was counted. Otherwise the markers
    alone are followed: they are exact, the records' times only the host's when each was
    noted."""
    markers = list(markers)
    keys = [m for m in markers if m.kind == "calibration-start"]
    if not keys:
        return _inferred(records, markers, sensor_id)
    at: list[float] = []
    malformed: list[Marker] = []
    for key in keys:
        sensor = key.data.get("sensor")
        if sensor is not None and not isinstance(sensor, str):
            malformed.append(key)
        elif sensor is None or sensor == sensor_id:
            at.append(key.t_host_s)
    if not malformed:
        return Recalibrations(tuple(sorted(at)))
    inferred = _inferred_between(records, markers, sensor_id)
    lost = [i.at_s for i in inferred.found if not any(i.after_s < t < i.before_s for t in at)]
    warnings = [*inferred.warnings, *(_malformed_key(key, lost) for key in malformed)]
    return Recalibrations(tuple(sorted(at + lost)), tuple(warnings))


def _malformed_key(key: Marker, followed: Sequence[float]) -> str:
    """One line on a malformed calibration-start marker and what is followed instead."""
    shown = json.dumps(key.data.get("sensor"))
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    if len(followed) == 1:
        instead = ", and the recalibration inferred from the calibration records at"
        instead += f" {followed[0]:.1f} s (no marker places it) is followed instead"
    elif followed:
        times = ", ".join(f"{t:.1f}" for t in followed)
        instead = ", and the recalibrations inferred from the calibration records at"
        instead += f" {times} s (no marker places them) are followed instead"
    else:
        instead = " (the calibration records show no recalibration that the markers miss)"
    return (
        f"the calibration-start marker at {key.t_host_s:.1f} s is malformed"
        f" (its sensor is {shown}, not a sensor's name); it is ignored{instead}"
    )


@dataclass(frozen=True)
class _Inferred:
    """A recalibration inferred from two calibration records: it began at ``at_s``, after
    the record at ``after_s`` and before the one at ``before_s``."""

    at_s: float
    after_s: float
    before_s: float


def _inferred(
    records: Iterable[CalibrationRecord], markers: Sequence[Marker], sensor_id: str
) -> Recalibrations:
    """Where the live session recalibrated ``sensor_id``, for a recording without
    ``calibration-start`` markers: inferred from its calibration records.

    The live session writes a ``calibration`` record each time it calibrates. A leg switch
    calibrates for the other leg; a drill of the same posture, or of another and back,
    keeps or reuses the calibration it has: only the key calibrates the same sensor, posture
    and leg again. So two consecutive records of one sensor and posture for the same leg
    mean a recalibration between them. The key itself is not recorded, but it stops a
    running set, and that is: a ``set-stop`` marker saying the count stopped. The latest
    such marker between the two records is where the recalibration begins (if the user had
    stopped the set before pressing the key, that stop: nothing was counted from there to
    the key, and the routine is found in the samples after it as live found it after the
    key). Without one nothing was counted since the first record, and the recalibration
    begins right after it."""
    inferred = _inferred_between(records, markers, sensor_id)
    return Recalibrations(tuple(i.at_s for i in inferred.found), inferred.warnings)


@dataclass(frozen=True)
class _InferredAll:
    """The recalibrations inferred from a recording's calibration records (by ``at_s``), and
    a one-line warning for each record that could not be read."""

    found: tuple[_Inferred, ...]
    warnings: tuple[str, ...]


def _inferred_between(
    records: Iterable[CalibrationRecord], markers: Sequence[Marker], sensor_id: str
) -> _InferredAll:
    """``_inferred``'s recalibrations, each with the two records it was inferred from."""
    stops = sorted(
        m.t_host_s for m in markers if m.kind == "set-stop" and m.data.get("counting") is False
    )
    last: dict[Posture, tuple[float, Leg]] = {}  # the latest record per posture: time, leg
    found: list[_Inferred] = []
    warnings: list[str] = []
    for record in sorted(records, key=lambda r: r.t_host_s):
        sensor = record.calibration.get("sensor")
        if sensor is not None and sensor != sensor_id:
            continue
        try:
            if not isinstance(sensor, str):
                raise ValueError("it names no sensor")
            calibration = MountingCalibration.from_dict(record.calibration)
        except (CalibrationError, ValueError) as exc:
            warnings.append(
                f"the calibration record at {record.t_host_s:.1f} s is malformed"
                f" ({_why(exc)}); it is ignored"
            )
            continue
        posture, leg, t = calibration.posture, calibration.leg, record.t_host_s
        before = last.get(posture)
        if before is not None and before[1] is leg:
            since = [s for s in stops if before[0] < s < t]
            found.append(_Inferred(since[-1] if since else before[0], before[0], t))
        last[posture] = (t, leg)
    return _InferredAll(tuple(sorted(found, key=lambda i: i.at_s)), tuple(warnings))


def _why(exc: Exception) -> str:
    """What is wrong with a calibration record, in a few words."""
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    if isinstance(cause, KeyError):
        return f"it has no {cause.args[0]}"
    return str(cause)


NOTED_VERDICTS = ("permuted", "mirrored", "mismatch")


UNRELIABLE_VERDICTS = ("mirrored", "mismatch")


def checked_axes(loaded: LoadedInput) -> tuple[LoadedInput, str | None]:
    """An imported file's gyroscope checked against its accelerometer: a clear permutation
    of its axes is undone, a mirror or mismatch is reported. Also returns why its angles
    are unreliable (the check's message), or None when they can be trusted."""
    if not loaded.batches:
        return loaded, None
    check = check_axes(
        np.concatenate([b.t_s for b in loaded.batches]),
        np.concatenate([b.acc_mps2 for b in loaded.batches]),
        np.concatenate([b.gyr_radps for b in loaded.batches]),
        loaded.rate_hz,
    )
    if check.verdict not in NOTED_VERDICTS:
        return loaded, None
    batches = tuple(replace(b, gyr_radps=apply_axes(b.gyr_radps, check)) for b in loaded.batches)
    unreliable = check.message if check.verdict in UNRELIABLE_VERDICTS else None
    return replace(loaded, batches=batches, warnings=(*loaded.warnings, check.message)), unreliable


def analyze(
    loaded: LoadedInput,
    exercise_id: str,
    leg: Leg,
    progress: Progress | None = None,
    *,
    sink: Sink | None = None,
    per_sample: bool = True,
) -> AnalysisResult:
    """``analyze_stream`` of an input loaded whole."""
    return analyze_stream(
        InputStream.of(loaded), exercise_id, leg, progress, sink=sink, per_sample=per_sample
    )


def analyze_stream(
    source: InputStream,
    exercise_id: str,
    leg: Leg,
    progress: Progress | None = None,
    *,
    sink: Sink | None = None,
    per_sample: bool = True,
    marks: Sequence[ExerciseMark] = (),
    recalibrate_at: Sequence[float] = (),
    other_thigh: InputStream | None = None,
) -> AnalysisResult:
    """Reps from the live session, smoothed angles and orientation from offline fusion.

    With a ``sink`` the per-sample results go to it window by window and the result's
    per-sample arrays are left empty; without, they are all in the result. Without
    ``per_sample`` there are none (no offline fusion: the reps, summary, calibration and
    quality are the same).

    ``marks``: the drill and leg changes and the set starts and stops the recording holds
    (``changing_marks``); the session follows them as replay does. With a change of drill
    or leg the result has one entry in ``sets`` per set (no per-sample results: their
    angles would need one calibration per drill).

    ``recalibrate_at``: where the live session recalibrated (``recalibrations_in``); the
    session recalibrates there as live did, and the per-sample results after it are fused
    with the calibration it then finds (the result's ``calibration`` is the last one).

    ``other_thigh``: the same recording's sensor on the other thigh, watched as live watches
    it during straight leg raises (the down leg's check); its samples go nowhere else."""
    if any(m.switches for m in marks):
        return _analyze_sets(
            source,
            exercise_id,
            leg,
            marks,
            progress,
            recalibrate_at=recalibrate_at,
            other_thigh=other_thigh,
        )
    out, rate = _Output(sink), source.rate_hz
    batches = _sensor_calibrated(source)
    if exercise_id == "none":
        alone = WindowedFusion(rate, _orientation_fuse(rate))
        for i, batch in enumerate(batches):
            if per_sample:
                out.add(alone.push(batch.t_s, batch.acc_mps2, batch.gyr_radps))
            _report(progress, source, i)
        if per_sample:
            out.add(alone.finish())
        return AnalysisResult("none", leg, rate, (), None, None, None, *out.arrays(), ())
    exercise = get_exercise(exercise_id)
    session = _session(source, exercise_id, leg, other_thigh)
    batches = _watching(batches, other_thigh, session)
    if marks:  # sets started and stopped, as live
        batches = follow_marks_in(batches, session, marks)
    batches = _recalibrating(batches, session, recalibrate_at)
    key = (source.sensor_id, exercise.posture)
    behind = _FusionBehind(rate, exercise.posture, leg, out, per_sample=per_sample)
    quality: list[QualityUpdate] = []
    for i, batch in enumerate(batches):
        behind.before(session.calibrations.get(key))
        quality += [e for e in session.feed(batch) if isinstance(e, QualityUpdate)]
        behind.push(batch, session.calibrations.get(key))
        _report(progress, source, i)
    quality += [e for e in session.finish() if isinstance(e, QualityUpdate)]
    if progress is not None:
        progress(1.0)
    calibrated = [f.calibration for f in session.finished_sets if f.calibration is not None]
    calibration = session.calibrations.get(key)
    if calibration is None and calibrated:  # recalibrating when the input ended
        calibration = calibrated[-1]
    reps = tuple(r for f in session.finished_sets for r in f.reps if f.leg is leg)
    error, fusion = None, behind.fusion
    if fusion is not None and fusion.fuse is not None:
        out.add(fusion.finish())
    elif fusion is not None and calibration is not None and per_sample:
        _orientation_only(fusion, rate, out)  # after a recalibration that never finished
    elif fusion is not None:
        error = _uncalibrated(fusion, rate, exercise.posture, leg, out if per_sample else None)
    if calibration is None:  # never calibrated live (perhaps on the whole file): no reps
        error = never_calibrated(exercise.posture, leg, error)
    if error is not None:
        return AnalysisResult(
            exercise_id, leg, rate, (), None, None, error, *out.arrays(), tuple(quality)
        )
    summary = summarise_set(list(reps), exercise.target_reps)
    return AnalysisResult(
        exercise_id, leg, rate, reps, summary, calibration, None, *out.arrays(), tuple(quality)
    )


def _analyze_sets(
    source: InputStream,
    exercise_id: str,
    leg: Leg,
    marks: Sequence[ExerciseMark],
    progress: Progress | None,
    *,
    recalibrate_at: Sequence[float],
    other_thigh: InputStream | None,
) -> AnalysisResult:
    """``analyze_stream`` of a recording of several drills: counts and summaries per set."""
    rate = source.rate_hz
    session = _session(source, exercise_id, leg, other_thigh)
    quality: list[QualityUpdate] = []
    watched = _watching(_sensor_calibrated(source), other_thigh, session)
    batches = follow_marks_in(watched, session, marks)
    batches = _recalibrating(batches, session, recalibrate_at)
    visits: list[_Visit] = []  # the drills fed, in order, each with the sets it closed
    for i, batch in enumerate(batches):
        if not len(batch):
            continue
        drill = (session.exercise.id, session.leg)
        if not visits or (visits[-1].exercise_id, visits[-1].leg) != drill:
            visits.append(_Visit(*drill, float(batch.t_s[0]), len(session.finished_sets)))
        quality += [e for e in session.feed(batch) if isinstance(e, QualityUpdate)]
        visits[-1].calibrated = visits[-1].calibrated or _calibrated(session, source.sensor_id)
        _report(progress, source, i)
    quality += [e for e in session.finish() if isinstance(e, QualityUpdate)]
    if progress is not None:
        progress(1.0)
    ends = [v.sets_before for v in visits[1:]] + [len(session.finished_sets)]
    missing = tuple(
        MissingSet(v.exercise_id, v.leg, v.from_s, v.calibrated)
        for v, end in zip(visits, ends, strict=True)
        if end == v.sets_before
    )
    sets = tuple(
        AnalysedSet(
            f.exercise_id,
            f.leg,
            f.reps,
            summarise_set(list(f.reps), f.target_reps),
            f.calibration,
        )
        for f in session.finished_sets
    )
    reps = tuple(r for s in sets for r in s.reps)
    return AnalysisResult(
        exercise_id,
        leg,
        rate,
        reps,
        None,
        None,
        None,
        *_empty_arrays(),
        tuple(quality),
        sets,
        per_set=True,
        missing_sets=missing,
    )


def _session(
    source: InputStream, exercise_id: str, leg: Leg, other_thigh: InputStream | None
) -> Session:
    other = None if other_thigh is None else other_thigh.sensor_id
    options = SessionOptions(other_thigh=other)
    return Session(exercise_id, leg, {source.sensor_id: source.rate_hz}, options=options)


def _watching(
    batches: Iterable[SampleBatch], other_thigh: InputStream | None, session: Session
) -> Iterator[SampleBatch]:
    """The batches; before each, the other thigh's samples up to its end are given to the
    session to watch (``Session.watch``), so each of its checks has them, as live had."""
    if other_thigh is None:
        yield from batches
        return
    others = other_thigh.batches()
    pending = next(others, None)
    for batch in batches:
        until_s = float(batch.t_s[-1]) if len(batch) else -math.inf
        while pending is not None and (not len(pending) or pending.t_s[0] <= until_s):
            k = int(np.searchsorted(pending.t_s, until_s, side="right"))
            if k < len(pending):  # it goes on after this batch: the rest waits
                head, pending = split_batch(pending, k)
                session.watch(head)
                break
            session.watch(pending)
            pending = next(others, None)
        yield batch


@dataclass
class _Visit:
    """A stretch of the input fed as one drill on one leg."""

    exercise_id: str
    leg: Leg
    from_s: float
    sets_before: int  # finished sets when it started: the sets after are its own
    calibrated: bool = False


def _calibrated(session: Session, sensor_id: str) -> bool:
    """The session's current drill has its mounting calibration for the current leg."""
    known = session.calibrations.get((sensor_id, session.exercise.posture))
    return known is not None and known.leg is session.leg


def _empty_arrays() -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    return _Output(None).arrays()


def never_calibrated(
    posture: Posture, leg: Leg, error: CalibrationError | None
) -> CalibrationError:
    """Why no reps were counted when the session never calibrated (its calibration is the
    first clear movement of the leg the sensor is on): the whole file's calibration
    ``error``, or, if the whole file did calibrate, that no movement was clear enough live;
    either way with the likely cause, a file of the other thigh."""
    movement = "leg raise" if posture is Posture.SUPINE else "leg swing"
    reason = f"no clear {movement} seen" if error is None else str(error)
    return CalibrationError(
        f"{reason}; no reps were counted: is the sensor on the {leg.value} thigh of the"
        " moving leg? (a file of the other thigh, such as the down leg's, has none to count)"
    )


def _sensor_calibrated(source: InputStream) -> Iterator[SampleBatch]:
    """The input as live fed it: with the six-face calibration the recording carries applied
    once, here, so the session and the offline fusion both see calibrated samples."""
    applied = None if source.header is None else calibrations_in(source.header, source.path)
    calibration = None if not applied else applied.get(source.sensor_id)
    if calibration is None:
        return source.batches()
    return (calibration.apply(b) for b in source.batches())


class _Output:
    """Pieces to the sink as they come, or kept to be stitched into the result."""

    def __init__(self, sink: Sink | None) -> None:
        self.sink = sink
        self.kept: list[AnglePiece] = []

    def add(self, pieces: list[AnglePiece]) -> None:
        for piece in pieces:
            if self.sink is None:
                self.kept.append(piece)
            else:
                self.sink(piece)

    def arrays(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        whole = stitched(self.kept)
        return whole.t_s, whole.flexion_deg, whole.abduction_deg, whole.quat_wxyz


def _recalibrating(
    batches: Iterable[SampleBatch], session: Session, at_s: Sequence[float]
) -> Iterator[SampleBatch]:
    """The batches, with the session recalibrated (as by the live app's calibrate key) at
    each of ``at_s`` (see ``cut_at_recalibrations``). Outside ``follow_marks_in``, so that a
    set-stop marker at the same time stops the set first, as the key did live."""
    pending = deque(sorted(at_s))
    for batch in batches:
        yield from cut_at_recalibrations(batch, pending, session)


def cut_at_recalibrations(
    batch: SampleBatch, pending: deque[float], session: Session
) -> Iterator[SampleBatch]:
    """``batch`` in pieces, the session recalibrated at each of the ``pending`` times (sorted)
    it reaches: a batch spanning one is cut there, its head fed before and its tail after
    (as ``cut_at_marks`` cuts at a mark; each piece must be fed to the session before the
    next is asked for)."""
    rest = batch
    while pending and len(rest):
        k = int(np.searchsorted(rest.t_s, pending[0], side="left"))
        if k >= len(rest):
            break
        if k > 0:
            head, rest = split_batch(rest, k)
            yield head
        pending.popleft()
        session.recalibrate()
    yield rest


class _FusionBehind:
    """The offline fusion behind the session: it holds the samples until the session's
    calibration is known, then fuses them with it (``per_sample``) or is dropped (``fusion``
    None). Where the session recalibrates, the samples so far are fused with the calibration
    they had and the next ones held until the new one is known."""

    def __init__(
        self, rate_hz: float, posture: Posture, leg: Leg, out: _Output, *, per_sample: bool
    ) -> None:
        self.rate_hz, self.posture, self.leg, self.out = rate_hz, posture, leg, out
        self.per_sample = per_sample
        self.fusion: WindowedFusion | None = WindowedFusion(rate_hz)
        self.fused_with: MountingCalibration | None = None  # the calibration it fuses with

    def before(self, calibration: MountingCalibration | None) -> None:
        """The session's calibration before a batch is fed to it."""
        if self.fused_with is None or calibration is self.fused_with:
            return
        if self.fusion is not None:  # recalibrated
            self.out.add(self.fusion.finish())
            self.fusion = WindowedFusion(self.rate_hz)
        self.fused_with = None

    def push(self, batch: SampleBatch, calibration: MountingCalibration | None) -> None:
        """``batch``, once fed to the session, which then has ``calibration``."""
        if self.fused_with is None and calibration is not None:
            self.fused_with = calibration
            if self.fusion is not None:
                self.fusion.fuse = _angles_fuse(self.rate_hz, self.posture, self.leg, calibration)
                if not self.per_sample:
                    self.fusion = None
        if self.fusion is not None:
            self.out.add(self.fusion.push(batch.t_s, batch.acc_mps2, batch.gyr_radps))


def _orientation_only(fusion: WindowedFusion, rate_hz: float, out: _Output) -> None:
    """The samples ``fusion`` holds, without a calibration to turn them into angles: their
    orientation only (``angles`` False)."""
    t, acc, gyr = fusion.held
    alone = WindowedFusion(rate_hz, _orientation_fuse(rate_hz))
    pieces = alone.push(t, acc, gyr) + alone.finish()
    out.add([replace(p, angles=False) for p in pieces])


def _uncalibrated(
    fusion: WindowedFusion, rate_hz: float, posture: Posture, leg: Leg, out: _Output | None
) -> CalibrationError | None:
    """The session never calibrated: calibrate on the whole recording (all samples were
    held), or, if that fails too, orientation only (the error is returned). ``out`` None:
    only whether it calibrates."""
    t, acc, gyr = fusion.held
    try:
        a = compute_angles(t, acc, gyr, rate_hz, posture=posture, leg=leg)
    except CalibrationError as exc:
        if out is None:
            return exc
        alone = WindowedFusion(rate_hz, _orientation_fuse(rate_hz))
        pieces = alone.push(t, acc, gyr) + alone.finish()
        out.add([replace(p, angles=False) for p in pieces])
        return exc
    if out is not None:
        out.add([AnglePiece(a.t_s, a.flexion_deg, a.abduction_deg, a.quat_wxyz)])
    return None


def _angles_fuse(
    rate_hz: float, posture: Posture, leg: Leg, calibration: MountingCalibration
) -> Fuse:
    def fuse(
        t: FloatArray, acc: FloatArray, gyr: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        a = compute_angles(t, acc, gyr, rate_hz, posture=posture, leg=leg, calibration=calibration)
        return a.flexion_deg, a.abduction_deg, a.quat_wxyz

    return fuse


def _orientation_fuse(rate_hz: float) -> Fuse:
    def fuse(
        t: FloatArray, acc: FloatArray, gyr: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        finite = np.asarray(np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1))
        quat = estimate_orientation_offline(gyr, acc, rate_hz, valid=finite)
        nan = np.full(len(t), np.nan)
        return nan, nan, quat

    return fuse


def _report(progress: Progress | None, source: InputStream, i: int) -> None:
    if progress is not None and i % PROGRESS_EVERY == 0:
        progress(source.fraction_read)


__all__ = [
    "AnalysedSet",
    "AnalysisResult",
    "AnglePiece",
    "MissingSet",
    "Posture",
    "Sink",
    "analyze",
    "analyze_stream",
]
