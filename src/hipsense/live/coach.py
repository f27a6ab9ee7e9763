"""The demo's coach: switches the session's exercise when the simulated person does.

A real user presses a key or lets the warm-up routine advance; in the demo the script
knows the plan, so it selects each exercise as the previous one's last set is over.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hipsense.samples import SampleBatch
from hipsense.session import Session
from hipsense.sim import Segment


@dataclass(frozen=True)
class Cue:
    at_sample: int
    exercise_id: str


def cues_for(segments: tuple[Segment, ...], rate_hz: float) -> list[Cue]:
    """One cue per change of exercise: at the end of the previous exercise's last set, or,
    when the posture changes (standing to lying), once the person has settled in the new
    posture, as a user would press the key only when lying down and ready."""
    cues: list[Cue] = []
    current: Segment | None = None
    settled_s: float | None = None  # start of the first still segment in the new posture
    for seg in segments:
        if current is not None and seg.kind == "still" and seg.posture is not current.posture:
            settled_s = seg.start_s if settled_s is None else settled_s
        if seg.kind != "set" or seg.exercise_id is None:
            continue
        if current is not None and seg.exercise_id != current.exercise_id:
            at_s = current.end_s if seg.posture is current.posture else (settled_s or seg.start_s)
            cues.append(Cue(round(at_s * rate_hz), seg.exercise_id))
        current, settled_s = seg, None
    return cues


def first_exercise(segments: tuple[Segment, ...]) -> str:
    return next(s.exercise_id for s in segments if s.kind == "set" and s.exercise_id)


@dataclass
class DemoCoach:
    cues: list[Cue]
    samples_seen: int = 0
    fired: list[Cue] = field(default_factory=list)

    def __call__(self, session: Session, batch: SampleBatch) -> None:
        self.samples_seen += batch.lost_before
        while self.cues and self.cues[0].at_sample <= self.samples_seen:
            cue = self.cues.pop(0)
            session.select_exercise(cue.exercise_id)
            session.start_set()
            self.fired.append(cue)
        self.samples_seen += len(batch)
