"""``hipsense analyze`` on real straight leg raises (the path a user runs), against the labels."""

import json
from pathlib import Path

import pytest

from hipsense.cli import main

PT = Path(__file__).resolve().parents[2] / "shared" / "data" / "pt_exercises"
pytestmark = pytest.mark.skipif(not PT.is_dir(), reason=f"real SLR data not found at {PT}")


def _analyze(
    path: Path, capsys: pytest.CaptureFixture[str], exit_code: int = 0
) -> list[dict[str, object]]:
    args = ["analyze", str(path), "--exercise", "slr", "--leg", "right", "--json"]
    assert main(args) == exit_code
    reps: list[dict[str, object]] = json.loads(capsys.readouterr().out)["reps"]
    return reps


def _flagged(reps: list[dict[str, object]], flag: str) -> int:
    return sum(flag in r["flags"] for r in reps)  # type: ignore[operator]


def test_subject1_test_session_counts_30_and_flags_fast_and_low_reps(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reps = _analyze(PT / "s1" / "slr_test_right_thigh.csv", capsys)
    assert len(reps) == 30
    correct, fast, low = reps[:10], reps[10:20], reps[20:]
    assert _flagged(fast, "rushed") >= 9
    assert _flagged(low, "short-range") >= 9
    assert sum(bool(r["flags"]) for r in correct) <= 1


def test_subject1_template_session_counts_9(capsys: pytest.CaptureFixture[str]) -> None:
    reps = _analyze(PT / "s1" / "slr_template_right_thigh.csv", capsys)
    assert len(reps) == 9
    assert [bool(r["flags"]) for r in reps[:3]] == [False] * 3


def test_subject2_is_counted_and_its_axis_mismatch_reported(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = PT / "s2" / "slr_test_right_thigh.csv"
    assert main(["analyze", str(path), "--exercise", "slr", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rep_count"] == 30
    assert any("gyroscope does not agree" in w for w in out["warnings"])
    # its angles are unreliable: no SLR grade from them (it used to say grade 3, passed)
    assert out["angles_reliable"] is False
    assert out["slr"] is None and "unreliable" in out["slr_withheld"]


def test_subject2_is_not_saved_to_the_history(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path, db = PT / "s2" / "slr_test_right_thigh.csv", tmp_path / "h.sqlite3"
    assert main(["analyze", str(path), "--exercise", "slr", "--save", "--db", str(db)]) == 2
    assert "not saved to the history" in capsys.readouterr().err
    assert not db.exists()


def test_a_session_that_never_calibrates_fails_the_same_without_exports(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Subject 1's left thigh never shows a clear raise: the calibration fails (exit 2)
    whether or not the smoothed angles are exported (without, there is no offline fusion)."""
    args = ["analyze", str(PT / "s1" / "slr_test_left_thigh.csv"), "--exercise", "slr"]
    args += ["--leg", "left", "--json"]
    assert main([*args, "--angles-csv", str(tmp_path / "a.csv")]) == 2
    with_exports = capsys.readouterr()
    assert main(args) == 2
    without = capsys.readouterr()
    assert "no leg raise seen" in without.err
    assert (without.out, without.err) == (with_exports.out, with_exports.err)


def test_one_bad_value_does_not_end_the_session(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A NaN in one row is a lost sample: the 30 reps are all still counted, one line says
    which row was skipped, and the exit code says the input was bad."""
    rows = (PT / "s1" / "slr_test_right_thigh.csv").read_text().splitlines()
    cells = rows[3000].split(",")
    rows[3000] = ",".join([*cells[:3], "NaN", *cells[4:]])
    path = tmp_path / "slr_test_right_thigh.csv"
    path.write_text("\n".join(rows) + "\n")
    assert len(_analyze(path, capsys, exit_code=2)) == 30
    assert main(["analyze", str(path), "--exercise", "slr", "--leg", "right"]) == 2
    assert capsys.readouterr().err == (
        f"hipsense: {path}: 1 row with an empty, non-finite or impossible value skipped as lost"
        " sample"
        " (first at line 3001)\n"
    )


@pytest.mark.parametrize("subject", ["s1", "s2"])
@pytest.mark.parametrize("exports", [False, True])
def test_the_down_legs_file_is_one_clear_line_and_exit_2_for_every_subject(
    subject: str, exports: bool, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The left thigh stays down in both subjects' tests: whether or not its small movements
    calibrate on the whole file (subject 2's do, subject 1's do not), nothing is counted
    and the user is told so the same way (subject 2 used to end silently with exit 0)."""
    args = ["analyze", str(PT / subject / "slr_test_left_thigh.csv"), "--exercise", "slr"]
    args += ["--leg", "left", "--json"]
    if exports:
        args += ["--angles-csv", str(tmp_path / "a.csv")]
    assert main(args) == 2
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["rep_count"] == 0 and out["calibration"]["ok"] is False
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "leg raise seen" in err[0] and "no reps were counted" in err[0]
