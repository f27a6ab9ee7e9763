"""``--plain``: session events as lines for scripts (angles a few times a second)."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from typing import TextIO

from hipsense.events import (
    AngleUpdate,
    CalibrationUpdate,
    ExerciseChanged,
    LinkUpdate,
    QualityUpdate,
    RepUpdate,
    SessionEvent,
    SetUpdate,
    SlrUpdate,
)

ANGLE_EVERY_S = 0.5
LINK_EVERY_S = 10.0


def _fmt(value: float | None, unit: str = "°") -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.1f}{unit}"


def describe(event: SessionEvent) -> str | None:
    if isinstance(event, CalibrationUpdate):
        return f"calibration {event.role}: {event.phase} {event.fraction:.0%} {event.message}"
    if isinstance(event, RepUpdate) and event.kind == "completed":
        flags = ",".join(event.flags) or "-"
        moved = event.down_leg_moved_deg  # SLR: measured where the other leg moved
        return (
            f"rep {event.exercise_id} {event.leg} #{event.index} t={event.t_s:.2f}s"
            f" peak={_fmt(event.peak_deg)} rom={_fmt(event.rom_deg)}"
            f" dur={_fmt(event.duration_s, 's')} flags={flags}"
            + ("" if moved is None else f" measured={_fmt(moved)}")
        )
    if isinstance(event, SetUpdate) and event.done:
        return (
            f"set {event.exercise_id} {event.leg}: {event.rep_count}/{event.target_reps} reps,"
            f" mean ROM {_fmt(event.mean_rom_deg)}, CV {_fmt(event.rom_cv_pct, '%')}"
        )
    if isinstance(event, SlrUpdate):
        verdict = "passes" if event.passed else "below"
        return (
            f"slr {event.leg}: best {_fmt(event.best_deg)} grade {event.grade},"
            f" {verdict} the {event.pass_line_deg:.1f}° line"
        )
    if isinstance(event, ExerciseChanged):
        return f"exercise {event.exercise_id} ({event.leg} leg), target {event.target_reps} reps"
    if isinstance(event, LinkUpdate):
        return (
            f"link {event.role} {event.name}: {event.state}, {_fmt(event.rate_hz, ' Hz')},"
            f" loss {event.loss_pct:.1f}%, battery {event.battery_pct}%"
        )
    if isinstance(event, QualityUpdate):
        return f"data {event.role} {event.kind} t={event.t_s:.2f}s: {event.message}"
    return None


async def print_events(events: AsyncIterator[SessionEvent], out: TextIO) -> int:
    """Print events as lines; returns the number of completed reps."""
    reps = 0
    next_angle_s: dict[str, float] = {}
    last_phase: dict[str, tuple[str, str]] = {}
    last_link: dict[str, tuple[str, float]] = {}
    async for event in events:
        if isinstance(event, LinkUpdate):
            state, at_s = last_link.get(event.role, ("", -math.inf))
            if state == event.state and time.monotonic() - at_s < LINK_EVERY_S:
                continue  # a status each second is for the app's status bar
            last_link[event.role] = (event.state, time.monotonic())
        if isinstance(event, CalibrationUpdate):
            if last_phase.get(event.role) == (event.phase, event.message):
                continue  # progress within a phase: the app shows it, lines need not
            last_phase[event.role] = (event.phase, event.message)
        if isinstance(event, AngleUpdate) and len(event.t_s):
            t = float(event.t_s[-1])
            if t >= next_angle_s.get(event.role, -math.inf):
                next_angle_s[event.role] = t + ANGLE_EVERY_S
                flex, abd = float(event.flexion_deg[-1]), float(event.abduction_deg[-1])
                print(
                    f"angle {event.role} t={t:.2f}s flexion={_fmt(flex)} abduction={_fmt(abd)}",
                    file=out,
                )
            continue
        line = describe(event)
        if line is not None:
            reps += isinstance(event, RepUpdate)
            print(line, file=out, flush=True)
    return reps
