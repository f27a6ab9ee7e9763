"""The whole session's choreography: plan steps and conditions become one keyframe track."""

from __future__ import annotations

import numpy as np

from hipsense.exercises import Posture
from hipsense.sim import motions
from hipsense.sim.conditions import Conditions
from hipsense.sim.keyframes import CH, POSTURE_POSE, KeyframeBuilder
from hipsense.sim.plan import PlanStep, SessionPlan
from hipsense.sim.tracks import QuinticTrack, smooth_noise


def still(b: KeyframeBuilder, duration_s: float) -> None:
    b.key(duration_s, flex=0.0, abd=0.0, twist=0.0)


def fidget(b: KeyframeBuilder, rng: np.random.Generator, posture: Posture) -> None:
    """A fidget or (standing) a held weight shift of 4-7 degrees, back to neutral; never a rep."""
    size = rng.uniform(4.0, 7.0)
    if posture is Posture.STANDING and rng.random() < 0.5:  # pelvis drops: the thigh abducts
        shift = size * rng.choice([-1.0, 1.0])
        b.key(rng.uniform(0.6, 1.0), abd=shift, flex=rng.uniform(-1.5, 1.5))
        b.hold(rng.uniform(1.0, 3.0))
        b.key(rng.uniform(0.6, 1.0), abd=0.0, flex=0.0)
        return
    direction, duration = rng.uniform(0.0, 2 * np.pi), rng.uniform(1.0, 2.5)
    turn = {"flex": size * np.cos(direction), "abd": size * np.sin(direction)}
    b.key(duration * 0.5, turn, turn=True, twist=rng.uniform(-3.0, 3.0))
    b.key(duration * 0.5, flex=0.0, abd=0.0, twist=0.0)


def transition(b: KeyframeBuilder, step: PlanStep) -> None:
    """Sit down then lie back (or the reverse); the thigh stays roughly horizontal meanwhile."""
    target = POSTURE_POSE[step.posture]
    hip_x = b.current("hip_x")
    if step.posture is Posture.SUPINE:
        b.key(0.4 * step.duration_s, flex=85.0, abd=0.0, twist=0.0, hip_z=0.5)
        b.key(
            0.6 * step.duration_s,
            flex=0.0,
            pitch=target["pitch"],
            hip_z=target["hip_z"],
            hip_x=hip_x - 0.3,
        )
    else:
        b.key(
            0.6 * step.duration_s,
            flex=85.0,
            abd=0.0,
            twist=0.0,
            pitch=target["pitch"],
            hip_z=0.5,
            hip_x=hip_x + 0.3,
        )
        b.key(0.4 * step.duration_s, flex=0.0, hip_z=target["hip_z"])


def build_keyframes(
    plan: SessionPlan, conditions: Conditions, rng: np.random.Generator
) -> KeyframeBuilder:
    """Keyframes of the whole session: the plan's steps, plus the mid-set pauses and the
    fidgets after sets that ``conditions`` ask for (drawn from ``rng``)."""
    b = KeyframeBuilder(plan.posture)
    for i, step in enumerate(plan.steps):
        start = b.now_s
        if step.kind in ("still", "pause"):
            still(b, step.duration_s)
            b.segment(step.kind, start, step.posture, step.leg, None)
        elif step.kind == "fidget":
            fidget(b, rng, step.posture)
            b.segment("fidget", start, step.posture, step.leg, None)
        elif step.kind == "transition":
            transition(b, step)
            b.segment("transition", start, step.posture, step.leg, None)
        elif step.kind == "calibration-swings":
            motions.calibration_swings(b, step)
        else:
            n = len(step.reps)
            pause_after = None
            if conditions.mid_set_pause and n >= 4:
                pause_after = n // 2 + int(rng.integers(-1, 2))
            motions.exercise_set(b, step, plan.leg, pause_after, float(rng.uniform(2.0, 3.0)))
            following = plan.steps[i + 1] if i + 1 < len(plan.steps) else None
            if conditions.fidgets and following is not None and following.kind == "still":
                start = b.now_s
                fidget(b, rng, following.posture)
                b.segment("fidget", start, following.posture, plan.leg, None)
    return b


def postural_sway(track: QuinticTrack, c: Conditions, rng: np.random.Generator) -> QuinticTrack:
    """Postural sway (roll, pitch in degrees): larger standing than lying."""
    noise = smooth_noise(rng, track.end_s, 2, knot_s=0.8)
    standing = track(noise.t_s)[:, CH["pitch"]] > -45.0
    amp = np.where(standing, c.sway_standing_deg, c.sway_supine_deg)[:, None]
    return QuinticTrack(noise.t_s, noise.value * amp, noise.vel * amp, noise.acc * amp)
