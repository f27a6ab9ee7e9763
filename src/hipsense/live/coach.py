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
    """One cue per change of exercise, at the end of the previous exercise's last set."""
    cues: list[Cue] = []
    current: str | None = None
    last_set_end_s = 0.0
    for seg in segments:
        if seg.kind == "set" and seg.exercise_id is not None:
            if current is not None and seg.exercise_id != current:
                cues.append(Cue(round(last_set_end_s * rate_hz), seg.exercise_id))
            current = seg.exercise_id
            last_set_end_s = seg.end_s
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
