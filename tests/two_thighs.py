"""Straight leg raises seen by two sensors, one per thigh, from the simulator.

The simulator simulates one sensor per session, but the body's motion comes from the plan
and the seed: the same plan and seed with the sensor strapped to the other thigh is the same
session seen from the down leg (which follows the pelvis, plus any down-leg fault the plan's
reps ask for).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.spatial.transform import Rotation

from hipsense.events import SessionEvent
from hipsense.exercises import Leg
from hipsense.samples import SampleBatch
from hipsense.session.coordinator import Session
from hipsense.sim import Conditions, RepSpec, SessionPlan, SimSession, plan_set, simulate

UP, DOWN = "right_thigh", "left_thigh"  # the right leg raises, the left one lies on the floor
RATE_HZ = 100.0


@dataclass(frozen=True, eq=False)
class TwoThighs:
    plan: SessionPlan
    up: SimSession  # the raised (right) thigh's sensor
    down: SimSession  # the down (left) thigh's sensor


def slr_plan(seed: int, n_reps: int, faults: dict[int, dict[str, float]]) -> SessionPlan:
    """An SLR test of the right leg; ``faults``: rep index (0-based) -> RepSpec changes, e.g.
    ``{2: {"down_leg_lift_deg": 6.0}}``."""
    plan = plan_set("slr", Leg.RIGHT, n_reps, np.random.default_rng(seed))
    steps = list(plan.steps)
    k = next(i for i, s in enumerate(steps) if s.kind == "set")
    reps: list[RepSpec] = list(steps[k].reps)
    for i, changes in faults.items():
        reps[i] = replace(reps[i], **changes)  # type: ignore[arg-type]
    steps[k] = replace(steps[k], reps=tuple(reps))
    return replace(plan, steps=tuple(steps))


def two_thighs(
    seed: int,
    n_reps: int = 5,
    faults: dict[int, dict[str, float]] | None = None,
    conditions: Conditions | None = None,
) -> TwoThighs:
    plan = slr_plan(seed, n_reps, faults or {})
    c = conditions or Conditions.realistic()
    up = simulate(plan, rate_hz=RATE_HZ, seed=seed, conditions=c)
    down = simulate(replace(plan, leg=Leg.LEFT), rate_hz=RATE_HZ, seed=seed, conditions=c)
    return TwoThighs(plan, up, down)


def interleaved(sim: TwoThighs, *, down_late_s: float = 0.03) -> list[SampleBatch]:
    """Both sensors' batches in the order they would arrive: the down thigh's a little late."""
    timed = [(float(b.t_s[-1]), 0, b) for b in sim.up.batches(10, UP)]
    timed += [(float(b.t_s[-1]) + down_late_s, 1, b) for b in sim.down.batches(10, DOWN)]
    return [b for _, _, b in sorted(timed, key=lambda x: (x[0], x[1]))]


def run_session(
    batches: list[SampleBatch], sensors: tuple[str, ...] = (UP, DOWN)
) -> tuple[Session, list[SessionEvent]]:
    session = Session("slr", Leg.RIGHT, dict.fromkeys(sensors, RATE_HZ))
    events: list[SessionEvent] = []
    for batch in batches:
        events += session.feed(batch)
    events += session.finish()
    return session, events


def raised_at_down_tilt_deg(sim: TwoThighs, rep: int, threshold_deg: float) -> float:
    """The oracle: the raised thigh's true angle when the down thigh's true tilt from its
    attitude at the rep's start first reached ``threshold_deg`` (from the simulator's thigh
    attitudes, no sensor in between)."""
    window = sim.up.reps[rep]
    t = sim.down.t_s
    up_in_thigh = (
        Rotation.from_quat(sim.down.thigh_quat_wxyz, scalar_first=True).inv().apply([0.0, 0.0, 1.0])
    )
    k0, k1 = np.searchsorted(t, [window.start_s, window.end_s])
    tilt = np.degrees(np.arccos(np.clip(up_in_thigh[k0:k1] @ up_in_thigh[k0], -1.0, 1.0)))
    k = int(np.flatnonzero(tilt >= threshold_deg)[0])
    # linear interpolation of the crossing between samples, as the check does
    frac = (threshold_deg - tilt[k - 1]) / (tilt[k] - tilt[k - 1])
    when_s = t[k0 + k - 1] + frac * (t[k0 + k] - t[k0 + k - 1])
    return float(np.interp(when_s, sim.up.t_s, sim.up.flexion_deg))
