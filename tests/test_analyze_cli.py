import csv as csv_module
import gzip
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from recording_edits import with_edited_header

from hipsense.cli import main
from hipsense.exercises import Leg
from hipsense.sim import plan_set, simulate
from hipsense.store import HistoryStore


def _write_sim_csv(
    path: Path,
    exercise_id: str,
    leg: Leg,
    n_reps: int,
    seed: int,
    *,
    gyro_axes: list[int] | None = None,
    gyro_turn_z_deg: float = 0.0,
) -> int:
    sim = simulate(
        plan_set(exercise_id, leg, n_reps, np.random.default_rng(seed)), rate_hz=50.0, seed=seed
    )
    gyr = sim.gyr_radps if gyro_axes is None else sim.gyr_radps[:, gyro_axes]
    c, s = np.cos(np.radians(gyro_turn_z_deg)), np.sin(np.radians(gyro_turn_z_deg))
    gyr = gyr @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]).T
    table = np.column_stack([sim.t_s, sim.acc_mps2, gyr])
    header = "time_s,acc_x_mps2,acc_y_mps2,acc_z_mps2,gyr_x_radps,gyr_y_radps,gyr_z_radps"
    np.savetxt(path, table, delimiter=",", header=header, comments="", fmt="%.6f")
    return len(sim.reps)


def test_analyze_json_counts_and_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "swings.csv"
    truth = _write_sim_csv(csv, "swing-forward", Leg.RIGHT, 6, seed=3)
    angles, reps = tmp_path / "angles.csv", tmp_path / "reps.csv"
    code = main(
        [
            "analyze",
            str(csv),
            "--exercise",
            "swing-forward",
            "--leg",
            "right",
            "--json",
            "--angles-csv",
            str(angles),
            "--reps-csv",
            str(reps),
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rep_count"] == truth == 6
    assert {
        "index",
        "start_s",
        "end_s",
        "duration_s",
        "peak_deg",
        "rom_deg",
        "flags",
        "detected_s",
    } <= set(out["reps"][0])
    assert out["calibration"]["ok"] is True
    rows = angles.read_text().splitlines()
    assert rows[0] == "time_s,flexion_deg,abduction_deg"
    assert len(rows) - 1 == len(csv.read_text().splitlines()) - 1
    rep_rows = list(csv_module.DictReader(reps.read_text().splitlines()))
    assert len(rep_rows) == 6
    # the CSV says when the live app announced each rep, as the JSON does
    assert [float(r["detected_s"]) for r in rep_rows] == [
        pytest.approx(r["detected_s"], abs=1e-3) for r in out["reps"]
    ]
    assert angles.stat().st_mode & 0o777 == 0o600


def test_analyze_missing_column_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("time_s,acc_x_mps2,acc_y_mps2,acc_z_mps2\n0,0,0,9.8\n")
    assert main(["analyze", str(csv), "--exercise", "slr"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.csv" in err and "gyr" in err


def test_calibration_failure_still_writes_orientation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "moving.csv"
    t = np.arange(0, 20, 0.02)
    gyr = np.column_stack([np.sin(t * 3.0) * 2.0, np.cos(t * 2.0), np.sin(t)])
    acc = np.column_stack([np.zeros_like(t), np.zeros_like(t), np.full_like(t, 9.81)])
    header = "time_s,acc_x_mps2,acc_y_mps2,acc_z_mps2,gyr_x_radps,gyr_y_radps,gyr_z_radps"
    np.savetxt(csv, np.column_stack([t, acc, gyr]), delimiter=",", header=header, comments="")
    orientation = tmp_path / "q.csv"
    code = main(
        ["analyze", str(csv), "--exercise", "swing-forward", "--orientation-csv", str(orientation)]
    )
    assert code == 2
    assert "moving.csv" in capsys.readouterr().err
    rows = orientation.read_text().splitlines()
    assert rows[0] == "time_s,qw,qx,qy,qz" and len(rows) == len(t) + 1


def test_permuted_gyroscope_axes_are_found_undone_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    angles = {}
    for name, axes in (("right", None), ("permuted", [2, 0, 1])):
        csv = tmp_path / f"{name}.csv"
        _write_sim_csv(csv, "swing-forward", Leg.LEFT, 6, seed=4, gyro_axes=axes)
        out_csv = tmp_path / f"{name}_angles.csv"
        args = ["analyze", str(csv), "--exercise", "swing-forward", "--leg", "left", "--json"]
        assert main([*args, "--angles-csv", str(out_csv)]) == 0
        out = json.loads(capsys.readouterr().out)
        angles[name] = np.genfromtxt(out_csv, delimiter=",", skip_header=1)
        warned = any("gyroscope" in w for w in out["warnings"])
        assert warned == (axes is not None)
    diff = np.abs(angles["right"][:, 1:] - angles["permuted"][:, 1:])
    assert np.nanmax(diff) < 0.01  # the same angles as with the right axes


def test_truncated_recording_is_analysed_up_to_the_cut_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = Path(__file__).resolve().parents[1] / "recordings" / "knee-drive_left.jsonl.gz"
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole.read_bytes()[:20_000])  # as if the copy or the writer died here
    args = ["analyze", str(cut), "--exercise", "knee-drive", "--leg", "left", "--json"]
    assert main(args) == 2
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert 0 < out["rep_count"] < 8  # the reps before the cut are still there
    assert "cut off" in captured.err and captured.err.count("Traceback") == 0
    assert main(["analyze", str(whole), "--exercise", "knee-drive", "--leg", "left"]) == 0


@pytest.mark.parametrize("flipped", [1, 40])
def test_corrupted_recording_is_analysed_up_to_the_damage_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flipped: int
) -> None:
    whole = Path(__file__).resolve().parents[1] / "recordings" / "slr_right.jsonl.gz"
    data = bytearray(whole.read_bytes())
    middle = len(data) // 2
    for i in range(middle, middle + flipped):
        data[i] ^= 0xFF
    damaged = tmp_path / "f.jsonl.gz"
    damaged.write_bytes(bytes(data))
    assert main(["analyze", str(damaged), "--exercise", "slr", "--leg", "right", "--json"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["rep_count"] > 0  # the reps before the damage
    (message,) = captured.err.splitlines()
    assert message.startswith(f"hipsense: {damaged}: line ")
    assert message.endswith("; the data before it was analysed")


def test_a_damaged_record_mid_recording_is_skipped_and_the_rest_analysed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One bad line in the middle loses that packet only: the reps after it still count."""
    whole = Path(__file__).resolve().parents[1] / "recordings" / "slr_right.jsonl.gz"
    lines = gzip.decompress(whole.read_bytes()).split(b"\n")
    k = next(i for i in range(len(lines) // 8, len(lines)) if b'"payload_hex":"' in lines[i])
    lines[k] = lines[k].replace(b'"payload_hex":"', b'"payload_hex":"zz')
    damaged = tmp_path / "one_bad_line.jsonl"
    damaged.write_bytes(b"\n".join(lines))
    args = ["--exercise", "slr", "--leg", "right", "--json"]
    assert main(["analyze", str(whole), *args]) == 0
    intact = json.loads(capsys.readouterr().out)["rep_count"]
    assert main(["analyze", str(damaged), *args]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["rep_count"] == intact
    assert captured.err.splitlines() == [
        f"hipsense: {damaged}: line {k + 1}: packet payload_hex is not hexadecimal; "
        "this record was skipped; the records after it were read",
        f"hipsense: {damaged}: 1 sample lost in transit (< 0.1 %), bridged",  # the packet's
    ]


def test_mismatched_gyroscope_counts_reps_but_withholds_the_slr_verdict_and_the_save(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A gyroscope turned 60° against the accelerometer fits no axis mapping: its angles are
    unreliable. The reps are still counted, but no SLR grade is given and nothing is saved."""
    csv = tmp_path / "turned.csv"
    truth = _write_sim_csv(csv, "slr", Leg.RIGHT, 4, seed=5, gyro_turn_z_deg=60.0)
    db = tmp_path / "history.sqlite3"
    args = ["analyze", str(csv), "--exercise", "slr", "--leg", "right", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rep_count"] == truth
    assert out["angles_reliable"] is False and "unreliable" in out["angles_unreliable"]
    assert out["slr"] is None and "unreliable" in out["slr_withheld"]
    assert main([*args, "--save", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "not saved" in err and not db.exists()
    assert main(["analyze", str(csv), "--exercise", "slr"]) == 0
    table = capsys.readouterr().out
    assert "ANGLES UNRELIABLE" in table and "no SLR grade" in table


def test_consistent_gyroscope_keeps_its_slr_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "right.csv"
    _write_sim_csv(csv, "slr", Leg.RIGHT, 4, seed=5)
    assert main(["analyze", str(csv), "--exercise", "slr", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["slr"]["grade"] in (1, 2, 3) and "angles_reliable" not in out


def _dated(created_utc: str) -> Callable[[dict[str, Any]], None]:
    def edit(header: dict[str, Any]) -> None:
        header["created_utc"] = created_utc

    return edit


@pytest.mark.parametrize("option", ["--reps-csv", "--angles-csv", "--orientation-csv"])
def test_an_unwritable_export_is_refused_before_the_analysis(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing is analysed, printed or saved, instead of failing after the analysis."""
    csv, db = tmp_path / "swings.csv", tmp_path / "h.sqlite3"
    _write_sim_csv(csv, "swing-forward", Leg.RIGHT, 3, seed=3)
    target = tmp_path / "missing" / "out.csv"
    args = ["analyze", str(csv), "--exercise", "swing-forward", option, str(target)]
    assert main([*args, "--save", "--db", str(db)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and not db.exists()
    err = captured.err.strip()
    assert err.count("\n") == 0 and f"folder {target.parent} does not exist" in err


def test_save_dates_a_recording_by_its_start_and_says_where_it_went(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An old recording lands in the week it was recorded, not the week it was analysed."""
    path = with_edited_header(tmp_path / "old.jsonl", _dated("2025-03-04T10:00:00.000Z"))
    db = tmp_path / "h.sqlite3"
    assert main(["analyze", str(path), "--exercise", "slr", "--save", "--db", str(db)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"hipsense: saved 1 set to the history {db}, dated 2025-03-04T10:00:00Z"
        " (when the recording started)"
    ]
    with HistoryStore(db) as store:
        slr = store.last_slr("right")
        rows = store.weekly_progress("slr", "right")
    assert slr is not None and slr.tested_utc == datetime(2025, 3, 4, 10, tzinfo=UTC)
    assert [(r.iso_year, r.iso_week) for r in rows] == [(2025, 10)]


def test_save_dates_a_csv_by_its_modification_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv, db = tmp_path / "swings.csv", tmp_path / "h.sqlite3"
    _write_sim_csv(csv, "swing-forward", Leg.RIGHT, 3, seed=3)
    moment = datetime(2025, 6, 2, 8, 30, tzinfo=UTC)
    os.utime(csv, (moment.timestamp(), moment.timestamp()))
    args = ["analyze", str(csv), "--exercise", "swing-forward", "--save", "--db", str(db)]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "dated 2025-06-02T08:30:00Z (the file's modification time)" in err
    with HistoryStore(db) as store:
        assert [(r.iso_year, r.iso_week) for r in store.weekly_progress("swing-forward")] == [
            (2025, 23)
        ]


RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"


def _with_switches(tmp_path: Path, marks: list[tuple[float, str, str]], header_ex: str) -> Path:
    """The knee-drive recording with its header's drill replaced and set-start markers at
    the given host times (as the recorder writes them when the user switches drill)."""
    markers = [{"t_host_s": t, "kind": "set-start", "exercise": e, "leg": g} for t, e, g in marks]
    return _with_markers(tmp_path, markers, header_ex)


def _with_markers(tmp_path: Path, markers: list[dict[str, object]], header_ex: str) -> Path:
    """The knee-drive recording with its header's drill replaced and the markers put in at
    their host times."""
    lines = gzip.decompress((RECORDINGS / "knee-drive_right.jsonl.gz").read_bytes()).splitlines()
    header = json.loads(lines[0])
    header["exercise"] = header_ex
    records = [json.loads(x) for x in lines[1:]]
    for marker in markers:
        t_s = marker["t_host_s"]
        at = next(i for i, r in enumerate(records) if r.get("t_host_s", 0.0) >= t_s)
        records.insert(at, {"type": "marker", **marker})
    out = tmp_path / "switched.jsonl"
    out.write_text("\n".join(json.dumps(r) for r in [header, *records]) + "\n")
    return out


def _knee_drive_truth() -> dict[str, object]:
    truth: dict[str, object] = json.loads((RECORDINGS / "knee-drive_right.truth.json").read_text())
    return truth


def test_analyze_follows_a_recorded_drill_switch_like_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Started as forward swings, switched to knee drives before the first rep: without
    --exercise the knee drives are counted as knee drives, in the per-set form; the forward
    swings never calibrated, which is told and ends with exit 2 as for a single drill."""
    path = _with_switches(tmp_path, [(0.6, "knee-drive", "right")], "swing-forward")
    assert main(["analyze", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    followed = json.loads(captured.out)
    assert followed["exercise"] is None and followed["rep_count"] is None
    (knee,) = followed["sets"]
    assert knee["exercise"] == "knee-drive" and knee["rep_count"] == 8
    (missing,) = followed["drills_without_sets"]
    assert (missing["exercise"], missing["leg"], missing["calibrated"]) == (
        "swing-forward",
        "right",
        False,
    )
    assert "swing-forward (right leg, from 0.4 s): no clear leg swing seen" in captured.err
    args = ["analyze", str(RECORDINGS / "knee-drive_right.jsonl.gz"), "--json"]
    assert main([*args, "--exercise", "knee-drive", "--leg", "right"]) == 0
    explicit = json.loads(capsys.readouterr().out)
    # the same reps as named explicitly (the batch cut at the switch moves the angles
    # by a rounding step at most)
    for a, b in zip(knee["reps"], explicit["reps"], strict=True):
        assert (a["start_s"], a["end_s"]) == (b["start_s"], b["end_s"])
        assert abs(a["peak_deg"] - b["peak_deg"]) < 0.1


def test_analyze_reports_each_drill_of_a_recording_that_holds_several(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reps = _knee_drive_truth()["reps"]
    assert isinstance(reps, list)
    switch_s = (reps[3]["end_s"] + reps[4]["start_s"]) / 2 + 0.5  # host clock runs ahead
    marks = [(0.2, "knee-drive", "right"), (switch_s, "straight-leg-march", "right")]
    path = _with_switches(tmp_path, marks, "knee-drive")
    db = tmp_path / "h.sqlite3"
    assert main(["analyze", str(path), "--json", "--save", "--db", str(db)]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["exercise"] is None and out["reps"] == [] and out["summary"] is None
    assert out["rep_count"] is None  # the counts are per set: no total beside an empty list
    sets = out["sets"]
    assert [(s["exercise"], s["leg"]) for s in sets][:1] == [("knee-drive", "right")]
    assert {s["exercise"] for s in sets} == {"knee-drive", "straight-leg-march"}
    assert sets[0]["rep_count"] == 4
    assert len(sets) > 1 and f"saved {len(sets)} sets to" in captured.err
    assert main(["analyze", str(path)]) == 0
    table = capsys.readouterr().out
    assert "set 1: knee-drive, right leg" in table and "straight-leg-march" in table
    # several drills cannot go to one per-sample or per-rep file
    assert main(["analyze", str(path), "--reps-csv", str(tmp_path / "r.csv")]) == 2
    assert "several drills" in capsys.readouterr().err


@pytest.mark.parametrize("counting_marked", [True, False])
def test_analyze_counts_only_while_the_recorded_session_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], counting_marked: bool
) -> None:
    """Stopped (space) after the third knee drive and started again before the sixth: the
    two reps in between were not counted live, so analyze does not count them either. An
    older recording's set-stop (no ``counting``) marked only a set's end: not followed."""
    reps = _knee_drive_truth()["reps"]
    assert isinstance(reps, list)
    between = [(reps[k]["end_s"] + reps[k + 1]["start_s"]) / 2 + 0.5 for k in (2, 4)]
    said = {"counting": False} if counting_marked else {}
    stop = {"t_host_s": between[0], "kind": "set-stop", "exercise": "knee-drive", "leg": "right"}
    start = stop | {"t_host_s": between[1], "kind": "set-start", "counting": True}
    path = _with_markers(tmp_path, [stop | said, start], "knee-drive")
    args = ["analyze", str(path), "--json", "--reps-csv", str(tmp_path / "r.csv")]
    assert main(args) == 0  # one drill: exports allowed
    out = json.loads(capsys.readouterr().out)
    truth_starts = [r["start_s"] for r in reps]
    kept = [0, 1, 2, 5, 6, 7] if counting_marked else list(range(8))
    assert out["rep_count"] == len(kept)
    for rep, k in zip(out["reps"], kept, strict=True):  # reps on the sensor's clock
        assert abs(rep["start_s"] - truth_starts[k]) < 0.5


def test_a_followed_drill_without_reps_is_told_and_kept_in_the_per_set_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Switched to forward swings after the last knee drive: the standing calibration
    carries over, no swing follows; one set, and a note (exit 0: nothing was wrong)."""
    path = _with_switches(tmp_path, [(22.5, "swing-forward", "right")], "knee-drive")
    assert main(["analyze", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert [(s["exercise"], s["rep_count"]) for s in out["sets"]] == [("knee-drive", 8)]
    (missing,) = out["drills_without_sets"]
    assert missing["exercise"] == "swing-forward" and missing["calibrated"] is True
    assert "swing-forward (right leg, from 22.5 s): no reps seen" in captured.err
    assert main(["analyze", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: 1 set, ")  # not "1 sets"


def test_a_followed_drill_that_never_calibrates_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Switched to a lying drill (SLR) while standing: it never calibrates, as a single
    drill that never calibrates it ends with exit 2, after the sets that were counted."""
    path = _with_switches(tmp_path, [(22.5, "slr", "right")], "knee-drive")
    assert main(["analyze", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert [(s["exercise"], s["rep_count"]) for s in out["sets"]] == [("knee-drive", 8)]
    assert [(m["exercise"], m["calibrated"]) for m in out["drills_without_sets"]] == [
        ("slr", False)
    ]
    assert "slr (right leg, from 22.5 s): no clear leg raise seen" in captured.err


def test_an_explicit_exercise_overrides_the_recorded_switches_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _with_switches(tmp_path, [(0.6, "knee-drive", "right")], "swing-forward")
    assert main(["analyze", str(path), "--exercise", "swing-forward", "--json"]) in (0, 2)
    captured = capsys.readouterr()
    assert json.loads(captured.out)["exercise"] == "swing-forward"
    assert "leave them out to follow its switches" in captured.err


def test_a_csv_needs_its_exercise(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "swings.csv"
    _write_sim_csv(csv, "swing-forward", Leg.RIGHT, 3, seed=3)
    assert main(["analyze", str(csv)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--exercise" in err


@pytest.mark.parametrize("kind", ["folder", "not a database"])
def test_a_history_that_cannot_take_the_results_is_refused_before_the_analysis(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--save --db`` naming a folder or another file: one line, exit 2, before the analysis
    (nothing printed, the file left as it was), not sqlite's words after it."""
    csv, db = tmp_path / "swings.csv", tmp_path / "notes"
    _write_sim_csv(csv, "swing-forward", Leg.RIGHT, 3, seed=3)
    if kind == "folder":
        db.mkdir()
    else:
        db.write_text("my training notes\n")
    args = ["analyze", str(csv), "--exercise", "swing-forward", "--save", "--db", str(db)]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith(f"hipsense: {db}: ")
    assert ("is a folder" if kind == "folder" else "not a database") in line
    assert db.is_dir() if kind == "folder" else db.read_text() == "my training notes\n"


def test_results_are_shown_when_saving_them_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A history that fails at the last moment (disk full, locked) costs the save, not the
    analysis the user waited for."""
    from hipsense.commands import history
    from hipsense.errors import StoreError

    def disk_full(*args: object, **kwargs: object) -> int:
        raise StoreError("h.sqlite3: cannot save the set: database or disk is full")

    monkeypatch.setattr(history, "save_sets", disk_full)
    csv, db = tmp_path / "swings.csv", tmp_path / "h.sqlite3"
    truth = _write_sim_csv(csv, "swing-forward", Leg.RIGHT, 3, seed=3)
    args = ["analyze", str(csv), "--exercise", "swing-forward", "--json", "--save"]
    assert main([*args, "--db", str(db)]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["rep_count"] == truth
    assert captured.err.splitlines() == [
        "hipsense: h.sqlite3: cannot save the set: database or disk is full"
    ]


def _slr_week(db: Path) -> tuple[int, int]:
    with HistoryStore(db) as store:
        (week,) = store.weekly_progress("slr", "right")
    return week.count, week.reps


def test_analysing_a_recording_again_replaces_its_earlier_save(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A coach who analyses a recording twice (the path typed two ways) sees one SLR test in
    the week, not two with every trial counted twice."""
    whole = Path(__file__).resolve().parents[1] / "recordings" / "slr_right.jsonl.gz"
    (tmp_path / "sub").mkdir()
    path, db = tmp_path / "slr.jsonl.gz", tmp_path / "h.sqlite3"
    path.write_bytes(whole.read_bytes())
    assert main(["analyze", str(path), "--json", "--save", "--db", str(db)]) == 0
    reps = json.loads(capsys.readouterr().out)["reps"]
    trials = sum("rushed" not in r["flags"] for r in reps)  # a rushed raise is no trial
    assert 0 < trials < len(reps) and _slr_week(db) == (1, trials)
    again = tmp_path / "sub" / ".." / "slr.jsonl.gz"
    assert main(["analyze", str(again), "--save", "--db", str(db)]) == 0
    assert "replaces the earlier analysis of this file" in capsys.readouterr().err
    assert _slr_week(db) == (1, trials)


def test_a_recording_the_live_session_saved_is_not_saved_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = Path(__file__).resolve().parents[1] / "recordings" / "slr_right.jsonl.gz"
    path, db = tmp_path / "slr.jsonl.gz", tmp_path / "h.sqlite3"
    path.write_bytes(whole.read_bytes())
    with HistoryStore(db) as store:  # what `hipsense live --record` saved at the time
        session = store.add_session(source="live", recording=str(path.resolve()))
        store.add_slr_test("right", [80.0, 82.0, 81.0], session_id=session)
    assert main(["analyze", str(path), "--save", "--db", str(db)]) == 0
    err = capsys.readouterr().err
    assert f"hipsense: {path}: not saved again: the live session that recorded it" in err
    assert _slr_week(db) == (1, 3)


def test_the_slr_table_answers_whether_the_raise_passes(capsys: pytest.CaptureFixture[str]) -> None:
    """The table says what the JSON's ``slr`` says: best raise, grade, against the line."""
    path = Path(__file__).resolve().parents[1] / "recordings" / "slr_left.jsonl.gz"
    assert main(["analyze", str(path), "--json"]) == 0
    slr = json.loads(capsys.readouterr().out)["slr"]
    assert main(["analyze", str(path)]) == 0
    verdict = "passes" if slr["passed"] else "below"
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("SLR left leg"))
    best, rest = line.removeprefix("SLR left leg: best ").split("°", 1)
    # the JSON keeps 2 decimals, the table 1 (73.75 there is 73.7 here, not 73.8)
    assert abs(float(best) - slr["best_deg"]) <= 0.05 + 1e-9
    assert rest == f" (grade {slr['grade']}), {verdict} the 75.5° door-jamb line"


@pytest.mark.parametrize(
    ("acc_scale", "gyr_scale", "hint"),
    [
        (1 / 9.80665, 1.0, "the values look like g: name the columns acc_x_g, acc_y_g, acc_z_g"),
        (1.0, float(np.degrees(1.0)), "the values look like °/s: name the columns gyr_x_dps"),
    ],
)
def test_values_in_another_unit_than_the_columns_say_are_refused(
    acc_scale: float,
    gyr_scale: float,
    hint: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """g under acc_*_mps2 names, or °/s under gyr_*_radps: one line naming the fix, exit 2,
    instead of angles and reps from values ten or sixty times off."""
    sim = simulate(plan_set("slr", Leg.RIGHT, 3, np.random.default_rng(5)), rate_hz=50.0, seed=5)
    csv = tmp_path / "logger.csv"
    table = np.column_stack([sim.t_s, sim.acc_mps2 * acc_scale, sim.gyr_radps * gyr_scale])
    header = "time_s,acc_x_mps2,acc_y_mps2,acc_z_mps2,gyr_x_radps,gyr_y_radps,gyr_z_radps"
    np.savetxt(csv, table, delimiter=",", header=header, comments="", fmt="%.6f")
    assert main(["analyze", str(csv), "--exercise", "slr", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith(f"hipsense: {csv}: the ") and hint in line


def test_orientation_only_says_so_instead_of_an_empty_rep_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--exercise none used to print "none, right leg" over a rep table with no rows."""
    csv = tmp_path / "imu.csv"
    _write_sim_csv(csv, "swing-forward", Leg.RIGHT, 3, seed=3)
    assert main(["analyze", str(csv), "--exercise", "none"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{csv}: orientation only (--exercise none), ")
    assert out[1].startswith("no reps are counted without an exercise")
    assert not any(line.lstrip().startswith("rep ") for line in out)


def test_a_csv_without_leg_says_the_right_leg_was_assumed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV names no leg: a left thigh's file analysed without --leg was silently the right
    leg's (abduction's sign flipped, --save filing it under the other leg)."""
    csv = tmp_path / "left.csv"
    _write_sim_csv(csv, "swing-lateral", Leg.LEFT, 3, seed=4)
    assert main(["analyze", str(csv), "--exercise", "swing-lateral"]) == 0
    assert f"hipsense: {csv}: an IMU CSV does not say which leg it is: taken as the right" in (
        capsys.readouterr().err
    )
    assert main(["analyze", str(csv), "--exercise", "swing-lateral", "--leg", "left"]) == 0
    assert "which leg" not in capsys.readouterr().err
