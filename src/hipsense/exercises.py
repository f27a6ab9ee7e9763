"""The exercise catalogue: ids used by the CLI, API and UI, posture, primary angle, targets."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Posture(StrEnum):
    STANDING = "standing"
    SUPINE = "supine"


class Angle(StrEnum):
    FLEXION = "flexion"
    ABDUCTION = "abduction"


class Leg(StrEnum):
    LEFT = "left"
    RIGHT = "right"


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    posture: Posture
    primary: Angle
    one_rep: str
    target_reps: int
    target_deg: float | None
    instructions: str


CATALOGUE: dict[str, Exercise] = {
    e.id: e
    for e in (
        Exercise(
            "slr",
            "Straight leg raise test",
            Posture.SUPINE,
            Angle.FLEXION,
            "raise the straight leg as high as it goes, brief hold, lower",
            3,
            75.0,
            "Lie on your back, both legs straight. Raise the strapped leg as high as it goes"
            " with the knee straight and the other leg flat, hold a moment, lower.",
        ),
        Exercise(
            "assisted-slr",
            "Assisted straight leg raise",
            Posture.SUPINE,
            Angle.FLEXION,
            "pull into the top position, hold for 3-5 slow breaths, release",
            5,
            None,
            "Loop a band round the foot. Pull the straight leg up to a firm stretch and"
            " breathe slowly for 3-5 breaths there, then let it down.",
        ),
        Exercise(
            "leg-lowering",
            "Leg lowering",
            Posture.SUPINE,
            Angle.FLEXION,
            "lower the raised leg slowly, 1-2 breaths at the bottom, return",
            8,
            None,
            "Start with the leg raised. Lower it slowly, taking at least 3 s,"
            " breathe at the bottom, then bring it back up.",
        ),
        Exercise(
            "swing-forward",
            "Forward leg swings",
            Posture.STANDING,
            Angle.FLEXION,
            "one full forward-and-back swing with a straight leg",
            15,
            None,
            "Hand on a wall, stand tall. Swing the straight leg forward and back"
            " through a comfortable range; don't force past discomfort.",
        ),
        Exercise(
            "swing-lateral",
            "Lateral leg swings",
            Posture.STANDING,
            Angle.ABDUCTION,
            "one full out-and-across swing in front of the body",
            15,
            None,
            "Face the wall, hands on it. Swing the leg out to the side and back across"
            " in front of the other leg.",
        ),
        Exercise(
            "knee-drive",
            "Knee drives",
            Posture.STANDING,
            Angle.FLEXION,
            "drive the knee up to about 90 degrees and return",
            15,
            90.0,
            "Stand tall. Drive the knee up to hip height, then put the foot back down.",
        ),
        Exercise(
            "straight-leg-march",
            "Straight-leg march",
            Posture.STANDING,
            Angle.FLEXION,
            "swing the straight leg up towards 90 degrees with each step",
            10,
            90.0,
            "Walk forward, kicking each straight leg up in front of you as high as is comfortable.",
        ),
    )
}


def get_exercise(exercise_id: str) -> Exercise:
    try:
        return CATALOGUE[exercise_id]
    except KeyError:
        known = ", ".join(CATALOGUE)
        raise KeyError(f"unknown exercise {exercise_id!r}: choose one of {known}") from None
