"""The demo's warm-up, scripted by its coach, counts every exercise to the simulator's truth."""

from collections import Counter

import numpy as np
from slr_truth import best_controlled_peak_deg, controlled_raises

from hipsense.events import RepUpdate, SlrUpdate
from hipsense.exercises import Leg, Posture
from hipsense.live.coach import DemoCoach, cues_for, first_exercise
from hipsense.session import Session
from hipsense.sim import Conditions, plan_warmup, simulate


def test_posture_change_is_cued_once_the_person_lies_still() -> None:
    sim = simulate(plan_warmup(Leg.RIGHT, np.random.default_rng(3)), rate_hz=50.0, seed=3)
    cues = cues_for(sim.segments, sim.rate_hz)
    assert [c.exercise_id for c in cues] == ["swing-lateral", "knee-drive", "slr"]
    lying_still = next(s for s in sim.segments if s.kind == "still" and s.posture is Posture.SUPINE)
    assert cues[-1].at_sample == round(lying_still.start_s * sim.rate_hz)


def test_realistic_warm_up_counts_every_exercise() -> None:
    plan = plan_warmup(Leg.RIGHT, np.random.default_rng(7))
    sim = simulate(
        plan,
        rate_hz=100.0,
        seed=7,
        conditions=Conditions.realistic(),
    )
    session = Session(first_exercise(sim.segments), Leg.RIGHT, {"sim": sim.rate_hz})
    coach = DemoCoach(cues_for(sim.segments, sim.rate_hz))
    events = []
    for batch in sim.batches(19):
        coach(session, batch)
        events += session.feed(batch)
    events += session.finish()
    counted = Counter(
        e.exercise_id for e in events if isinstance(e, RepUpdate) and e.kind == "completed"
    )
    assert counted == Counter(r.exercise_id for r in sim.reps)
    slr = [e for e in events if isinstance(e, SlrUpdate)][-1]
    controlled = controlled_raises(plan)  # the kick among them is no test trial
    assert slr.trials_counted == controlled and not all(controlled)
    truth_best = best_controlled_peak_deg(plan, sim)
    assert slr.best_deg is not None and abs(slr.best_deg - truth_best) < 2.0


def test_the_demo_stops_after_its_last_set_before_the_person_fidgets() -> None:
    """The demo's SLR test then asks for the left leg, which the simulated person (sensor on
    the right thigh) never raises: it used to run on into their fidgeting and end on
    'you moved during the still phase' for a leg nobody was testing."""
    from hipsense.commands.demo import demo_end_s

    plan = plan_warmup(Leg.RIGHT, np.random.default_rng(7))  # as the demo: seed 7, realistic
    sim = simulate(plan, rate_hz=50.0, seed=7, conditions=Conditions.realistic())
    last_set = max((s for s in sim.segments if s.kind == "set"), key=lambda s: s.end_s)
    after = [s for s in sim.segments if s.start_s >= last_set.end_s]
    assert after and after[0].kind != "still"  # the plan moves on after the last set
    assert last_set.exercise_id == "slr" and last_set.end_s < demo_end_s(sim.segments)
    assert demo_end_s(sim.segments) < after[0].end_s < sim.t_s[-1]
