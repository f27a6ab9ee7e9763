"""The drill and leg changes and the set starts and stops a recording holds (``set-start``
and ``set-stop`` markers), followed on replay.

``replay`` and ``analyze`` both feed a recording through a ``Session`` that switches drill
and leg, starts sets and stops counting at the sample where the recording did, as it did
live: a batch spanning a mark is cut there, its head fed before the mark and its tail after.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from hipsense.exercises import CATALOGUE, Leg
from hipsense.recording.model import CalibrationRecord, Marker
from hipsense.recording.stream import stream_recording
from hipsense.samples import SampleBatch
from hipsense.session import Session


@dataclass(frozen=True)
class ExerciseMark:
    """A recorded change of drill or leg (a ``set-start`` marker), and/or a set started
    (``counting`` True) or the count stopped (False), on the recording's clock."""

    t_host_s: float
    exercise_id: str | None
    leg: Leg | None
    counting: bool | None = None  # None: the marker says nothing of it (older recordings)

    @property
    def switches(self) -> bool:
        """It names a drill or leg (after ``changing_marks``: it changes one)."""
        return self.exercise_id is not None or self.leg is not None


def exercise_marks(
    markers: Iterable[Marker], *, exercises: bool = True, legs: bool = True
) -> list[ExerciseMark]:
    """The ``set-start`` markers that name a drill (``exercises``) or a leg (``legs``), and
    the ``set-start``/``set-stop`` markers that say whether the session was counting (older
    recordings' ``set-stop`` markers do not: they are not followed)."""
    marks = []
    for marker in markers:
        if marker.kind not in {"set-start", "set-stop"}:
            continue
        exercise, leg = marker.data.get("exercise"), marker.data.get("leg")
        starts = marker.kind == "set-start"
        exercise_id = exercise if starts and exercises and exercise in CATALOGUE else None
        side = Leg(leg) if starts and legs and leg in {x.value for x in Leg} else None
        counting = marker.data.get("counting")
        counting = counting if isinstance(counting, bool) and counting is starts else None
        if exercise_id is not None or side is not None or counting is not None:
            marks.append(ExerciseMark(marker.t_host_s, exercise_id, side, counting))
    return sorted(marks, key=lambda m: m.t_host_s)


def markers_and_calibrations_in(
    path: str | os.PathLike[str],
) -> tuple[list[Marker], list[CalibrationRecord]]:
    """A recording's markers and calibration records, read block by block (memory bounded
    like the samples')."""
    markers: list[Marker] = []
    calibrations: list[CalibrationRecord] = []
    for block in stream_recording(path, salvage=True):
        markers += block.markers
        calibrations += block.calibrations
    return markers, calibrations


def apply_mark(mark: ExerciseMark, session: Session) -> None:
    """Bring the session to the marked drill and leg (nothing happens if it is there), then
    start a set or stop counting as the recording did."""
    if mark.leg is not None and mark.leg is not session.leg:
        session.switch_leg()
    if mark.exercise_id is not None and mark.exercise_id != session.exercise.id:
        session.select_exercise(mark.exercise_id)
    if mark.counting is True:
        session.start_set()
    elif mark.counting is False:
        session.stop_set()


def split_batch(batch: SampleBatch, k: int) -> tuple[SampleBatch, SampleBatch]:
    """The first ``k`` samples and the rest (the rest lost nothing before it)."""
    mag = batch.mag_ut
    head = replace(
        batch,
        t_s=batch.t_s[:k],
        acc_mps2=batch.acc_mps2[:k],
        gyr_radps=batch.gyr_radps[:k],
        mag_ut=None if mag is None else mag[:k],
        meta=dict(batch.meta),
    )
    tail = replace(
        batch,
        t_s=batch.t_s[k:],
        acc_mps2=batch.acc_mps2[k:],
        gyr_radps=batch.gyr_radps[k:],
        mag_ut=None if mag is None else mag[k:],
        lost_before=0,
        meta=dict(batch.meta),
    )
    return head, tail


def cut_at_marks(
    batch: SampleBatch, pending: deque[ExerciseMark], session: Session
) -> Iterator[SampleBatch]:
    """``batch`` in pieces, the session switched to each pending mark it reaches between
    them: each piece must be fed to the session before the next is asked for."""
    while pending and len(batch):
        k = int(np.searchsorted(batch.t_s, pending[0].t_host_s, side="left"))
        if k >= len(batch):
            break
        if k > 0:
            head, batch = split_batch(batch, k)
            yield head  # fed to the session before the mark applies
        apply_mark(pending.popleft(), session)
    yield batch


def follow_marks_in(
    batches: Iterable[SampleBatch], session: Session, marks: Iterable[ExerciseMark]
) -> Iterator[SampleBatch]:
    """The batches, with the session switched to each recorded drill and leg at the sample
    where the recording switched (see ``cut_at_marks``)."""
    pending = deque(marks)
    for batch in batches:
        yield from cut_at_marks(batch, pending, session)


def changing_marks(marks: Iterable[ExerciseMark], exercise_id: str, leg: Leg) -> list[ExerciseMark]:
    """The marks that change the drill or leg, starting from ``exercise_id`` on ``leg``
    (a recording marks the drill it starts with too), and those that start or stop a set
    (stripped of a drill and leg they do not change): none ``switches`` for a one-drill
    recording."""
    changing = []
    for mark in marks:
        new_exercise = mark.exercise_id or exercise_id
        new_leg = mark.leg or leg
        if (new_exercise, new_leg) != (exercise_id, leg):
            changing.append(mark)
        elif mark.counting is not None:
            changing.append(replace(mark, exercise_id=None, leg=None))
        exercise_id, leg = new_exercise, new_leg
    return changing
