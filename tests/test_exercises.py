"""The exercise catalogue: every drill the product promises, with usable detector settings."""

from __future__ import annotations

import pytest

from hipsense.exercises import CATALOGUE, Angle, RepShape, get_exercise

IDS = ["slr", "assisted-slr", "leg-lowering", "swing-forward", "swing-lateral", "knee-drive",
       "straight-leg-march", "hip-circles"]  # fmt: skip


def test_catalogue_has_every_exercise() -> None:
    assert list(CATALOGUE) == IDS


@pytest.mark.parametrize("exercise_id", IDS)
def test_each_exercise_is_complete(exercise_id: str) -> None:
    e = get_exercise(exercise_id)
    assert e.name and e.one_rep and len(e.instructions) > 40
    assert e.target_reps > 0
    assert e.rep.min_rise_deg > 7.0  # weight shifts and fidgets of 4-7 degrees never count
    assert 0.0 < e.rep.return_frac < 1.0 and e.rep.min_rep_s < e.rep.max_rep_s
    assert e.secondary is not e.primary


def test_targets_and_special_cases() -> None:
    assert get_exercise("slr").target_deg == 75.0
    assert get_exercise("knee-drive").target_deg == 90.0
    assert get_exercise("swing-lateral").primary is Angle.ABDUCTION
    assert get_exercise("leg-lowering").rep.shape is RepShape.LOWER
    assert get_exercise("leg-lowering").quality.min_descent_s == pytest.approx(2.7)
    assert get_exercise("hip-circles").rep.shape is RepShape.CIRCLE
    assert get_exercise("assisted-slr").quality.min_hold_s is not None


def test_unknown_exercise_lists_the_choices() -> None:
    with pytest.raises(KeyError, match="choose one of slr"):
        get_exercise("burpees")
