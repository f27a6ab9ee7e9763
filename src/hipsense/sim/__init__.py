"""A physically consistent simulator of a thigh-worn IMU, with ground truth.

Pure numpy/scipy. ``plan_set``/``plan_warmup``/``plan_session`` describe what the person
does, ``Conditions`` which nuisances happen, ``simulate`` produces samples and truth::

    plan = plan_set("swing-forward", Leg.LEFT, 12, np.random.default_rng(1))
    s = simulate(plan, rate_hz=100, seed=1, conditions=Conditions.realistic())
    s.acc_raw, s.gyr_raw, s.info        # what the sensor sends
    s.flexion_deg, s.reps, s.segments   # what really happened
"""

from hipsense.sim.conditions import Conditions
from hipsense.sim.kinematics import Mounting, MountingSite
from hipsense.sim.plan import (
    HIP_CIRCLES,
    SIM_EXERCISES,
    PlanStep,
    RepSpec,
    SegmentKind,
    SessionPlan,
    plan_reps,
    plan_session,
    plan_set,
    plan_warmup,
)
from hipsense.sim.session import Segment, SimSession, TruthRep, simulate, truth_angles

__all__ = [
    "HIP_CIRCLES",
    "SIM_EXERCISES",
    "Conditions",
    "Mounting",
    "MountingSite",
    "PlanStep",
    "RepSpec",
    "Segment",
    "SegmentKind",
    "SessionPlan",
    "SimSession",
    "TruthRep",
    "plan_reps",
    "plan_session",
    "plan_set",
    "plan_warmup",
    "simulate",
    "truth_angles",
]
