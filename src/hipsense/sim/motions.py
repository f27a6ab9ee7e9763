"""Rep shapes: each set of a plan becomes keyframes of the thigh (and hip, for the march)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hipsense.exercises import Leg
from hipsense.signal.thigh_frame import leg_sign
from hipsense.sim.keyframes import KeyframeBuilder, RepWindow
from hipsense.sim.plan import HIP_CIRCLES, SIM_EXERCISES, PlanStep, RepSpec

SWING_LIKE = frozenset({"swing-forward", "swing-lateral", "straight-leg-march", HIP_CIRCLES})
_OTHER_LEG_SCALE = 0.03  # the down thigh follows the pelvis a little when the other leg lifts


def exercise_set(
    b: KeyframeBuilder, step: PlanStep, sensor_leg: Leg, pause_after: int | None, pause_s: float
) -> None:
    """All reps of one set, split into runs around an optional pause after rep ``pause_after``."""
    assert step.exercise_id is not None
    reps = step.reps
    if step.leg is not sensor_leg:
        reps = tuple(_down_leg(r, sensor_leg) for r in reps)
    split = len(reps) if pause_after is None else pause_after
    runs = [(0, reps[:split]), (split, reps[split:])]
    for n, (first, run) in enumerate(runs):
        if not run:
            continue
        start = b.now_s
        _RUNNERS[step.exercise_id](b, step, run, first)
        b.segment("set", start, step.posture, step.leg, step.exercise_id)
        if n == 0 and split < len(reps):
            start = b.now_s
            b.hold(pause_s)
            b.segment("pause", start, step.posture, step.leg, step.exercise_id)
    if step.leg is not sensor_leg:
        for i, rep in enumerate(b.reps[-len(reps) :]):
            original = step.reps[i]
            b.reps[-len(reps) + i] = RepWindow(
                rep.exercise_id,
                rep.leg,
                rep.index,
                rep.start_s,
                rep.end_s,
                rep.primary,
                rep.swing_like,
                original.peak_deg,
                original.low_deg,
            )


def _down_leg(rep: RepSpec, leg: Leg) -> RepSpec:
    """What the down thigh (on ``leg``) does while the other leg performs ``rep``: it follows
    the pelvis, plus the rep's down-leg fault (a lift, an outward roll) if it has one."""
    follow = _scaled(rep, _OTHER_LEG_SCALE)
    return replace(
        follow,
        peak_deg=follow.peak_deg + rep.down_leg_lift_deg,
        twist_deg=follow.twist_deg + leg_sign(leg) * rep.down_leg_roll_deg,  # outward
    )


def _scaled(rep: RepSpec, factor: float) -> RepSpec:
    return RepSpec(
        rep.peak_deg * factor,
        rep.low_deg * factor,
        rep.rise_s,
        rep.hold_s,
        rep.fall_s,
        rep.rest_s,
        rep.off_plane_deg * factor,
        rep.twist_deg * factor,
        rep.clockwise,
    )


def _record(b: KeyframeBuilder, step: PlanStep, index: int, start: float, rep: RepSpec) -> None:
    assert step.exercise_id is not None
    b.reps.append(
        RepWindow(
            step.exercise_id,
            step.leg,
            index,
            start,
            b.now_s,
            SIM_EXERCISES[step.exercise_id].primary,
            step.exercise_id in SWING_LIKE,
            rep.peak_deg,
            rep.low_deg,
        )
    )


def _swings(b: KeyframeBuilder, step: PlanStep, reps: tuple[RepSpec, ...], first: int) -> None:
    """Continuous swings from rest; a rep runs from the previous back extreme to its own."""
    lateral = step.exercise_id == "swing-lateral"
    primary, secondary = ("abd", "flex") if lateral else ("flex", "abd")
    march = step.exercise_id == "straight-leg-march"
    speed = 0.8 if march else 0.0
    bob = 0.025 if march else 0.0
    pelvis_yaw = 6.0 if march else 0.0  # the pelvis turns with the kicking leg
    hip_z = b.current("hip_z")
    start = b.now_s
    for i, rep in enumerate(reps):
        # swinging across the midline needs a little flexion to clear the standing leg
        side_low = 0.4 * abs(rep.low_deg) if lateral else -0.5 * rep.off_plane_deg
        for dt, angle, side, twist, walk, lift in (
            (rep.rise_s, rep.peak_deg, rep.off_plane_deg, rep.twist_deg, i > 0, bob),
            (rep.fall_s, rep.low_deg, side_low, -0.5 * rep.twist_deg, True, -bob),
        ):
            hip_x = b.current("hip_x") + speed * dt * (1.0 if walk else 0.5)
            pose = {primary: angle, secondary: side, "twist": twist, "hip_x": hip_x}
            yaw = -pelvis_yaw * np.sign(lift) * leg_sign(step.leg)  # right kick: +z turn
            b.key(dt, pose, turn=True, vel={"hip_x": speed}, hip_z=hip_z + lift, yaw=yaw)
        if march:  # this foot lands after the kick; the other one lands near push-off
            b.contacts.append((b.now_s - 0.55 * rep.fall_s, 1.0))
            if i + 1 < len(reps):
                b.contacts.append((b.now_s - 0.15 * rep.fall_s, 0.5))
        _record(b, step, first + i, start, rep)
        start = b.now_s
    settle = 0.6 * reps[-1].fall_s
    b.key(
        settle,
        flex=0.0,
        abd=0.0,
        twist=0.0,
        hip_z=hip_z,
        hip_x=b.current("hip_x") + 0.5 * speed * settle,
        yaw=0.0,
    )


def _raises(b: KeyframeBuilder, step: PlanStep, reps: tuple[RepSpec, ...], first: int) -> None:
    """From rest up to the peak, hold (breathing for the assisted SLR), down, rest."""
    for i, rep in enumerate(reps):
        start = b.now_s
        top = {"flex": rep.peak_deg, "abd": rep.off_plane_deg, "twist": rep.twist_deg}
        if rep.hold_s < 0.05:
            b.key(rep.rise_s, top, turn=True)
        else:
            b.key(rep.rise_s, top)
            _hold(b, rep.hold_s, rep.peak_deg, breathe=step.exercise_id == "assisted-slr")
        b.key(rep.fall_s, flex=rep.low_deg, abd=0.0, twist=0.0)
        if step.exercise_id == "knee-drive":
            b.contacts.append((b.now_s, 1.0))
        _record(b, step, first + i, start, rep)
        b.key(rep.rest_s, flex=0.0)


def _hold(b: KeyframeBuilder, hold_s: float, level_deg: float, *, breathe: bool) -> None:
    """Hold a level; slow breaths let the leg sink a little and the band pull it up again."""
    if not breathe:
        b.hold(hold_s)
        return
    n_breaths = max(1, round(hold_s / 3.5))
    for k in range(2 * n_breaths):
        exhale = k % 2 == 1
        b.key(hold_s / (2 * n_breaths), turn=True, flex=level_deg + (1.5 if exhale else -0.5))


def _lowerings(b: KeyframeBuilder, step: PlanStep, reps: tuple[RepSpec, ...], first: int) -> None:
    """Raise into position, then per rep: lower slowly, breathe at the bottom, return up."""
    if first == 0:
        b.key(1.8, flex=reps[0].peak_deg, abd=0.0, twist=0.0)
        b.hold(0.8)
    for i, rep in enumerate(reps):
        start = b.now_s
        b.key(rep.fall_s, flex=rep.low_deg, abd=rep.off_plane_deg, twist=rep.twist_deg)
        n_breaths = 1 if rep.hold_s < 6.0 else 2
        dip = min(0.3, rep.low_deg)  # the leg cannot sink below the floor
        for k in range(2 * n_breaths):
            b.key(
                rep.hold_s / (2 * n_breaths),
                turn=True,
                flex=rep.low_deg + (0.8 if k % 2 == 0 else -dip),
            )
        b.key(0.3, flex=rep.low_deg)
        b.key(rep.rise_s, flex=rep.peak_deg, abd=0.0, twist=0.0)
        _record(b, step, first + i, start, rep)
        b.hold(rep.rest_s)
    if first + len(reps) == len(step.reps):
        b.key(1.8, flex=0.0, abd=0.0, twist=0.0)


def _circles(b: KeyframeBuilder, step: PlanStep, reps: tuple[RepSpec, ...], first: int) -> None:
    """Knee circles: flexion = centre - A cos(theta), abduction = +-W sin(theta)."""
    b.key(0.6, flex=reps[0].low_deg, abd=0.0, twist=0.0)
    for i, rep in enumerate(reps):
        start = b.now_s
        centre, half = (rep.peak_deg + rep.low_deg) / 2, (rep.peak_deg - rep.low_deg) / 2
        width = rep.off_plane_deg * (1.0 if rep.clockwise else -1.0)
        rate = 2 * np.pi / (rep.rise_s + rep.fall_s)
        stops = i + 1 == len(reps) or reps[i + 1].clockwise != rep.clockwise
        for k in range(1, 5):
            theta = k * np.pi / 2
            moving = 0.0 if (k == 4 and stops) else 1.0
            b.key(
                np.pi / 2 / rate,
                flex=centre - half * np.cos(theta),
                abd=width * np.sin(theta),
                twist=rep.twist_deg * np.sin(theta / 2) ** 2,
                vel={
                    "flex": moving * half * np.sin(theta) * rate,
                    "abd": moving * width * np.cos(theta) * rate,
                },
                acc={
                    "flex": moving * half * np.cos(theta) * rate**2,
                    "abd": -moving * width * np.sin(theta) * rate**2,
                },
            )
        _record(b, step, first + i, start, rep)
    b.key(0.6, flex=0.0, abd=0.0, twist=0.0)


_RUNNERS = {
    "swing-forward": _swings,
    "swing-lateral": _swings,
    "straight-leg-march": _swings,
    "knee-drive": _raises,
    "slr": _raises,
    "assisted-slr": _raises,
    "leg-lowering": _lowerings,
    HIP_CIRCLES: _circles,
}


def calibration_swings(b: KeyframeBuilder, step: PlanStep) -> None:
    start = b.now_s
    n_reps = len(b.reps)
    _swings(
        b,
        PlanStep("set", step.posture, step.leg, exercise_id="swing-forward", reps=step.reps),
        step.reps,
        0,
    )
    del b.reps[n_reps:]  # calibration swings are not reps
    b.segment("calibration-swings", start, step.posture, step.leg, None)
