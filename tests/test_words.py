"""Counts in words."""

from hipsense.words import counted


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert counted(1, "sample") == "1 sample"
    assert [counted(n, "set") for n in (0, 2, 20)] == ["0 sets", "2 sets", "20 sets"]
    assert counted(3, "more damaged record") == "3 more damaged records"
    assert counted(2, "foot", "feet") == "2 feet" and counted(1, "foot", "feet") == "1 foot"
