"""The command line as a user meets it: arguments, help, and one-line errors."""

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from recording_edits import bad_sensor_calibration, with_edited_header

from hipsense.cli import build_parser, main


@pytest.mark.parametrize("speed", ["fast", "-2", "nan", ""])
def test_replay_rejects_a_speed_it_cannot_use(
    tmp_path: Path, speed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["replay", str(tmp_path / "s.jsonl.gz"), "--speed", speed])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--speed" in err and "max" in err and "Traceback" not in err


@pytest.mark.parametrize("speed", ["1", "4", "0.5", "max", "MAX"])
def test_replay_accepts_factors_and_max(speed: str) -> None:
    args = build_parser().parse_args(["replay", "s.jsonl.gz", "--speed", speed])
    assert args.speed == speed


@pytest.mark.parametrize("speed", ["1", " 2 ", "0", "INF", "1e400", "-1", "nan", "-inf", "x", ""])
def test_replay_speed_option_takes_what_the_replay_can_use(speed: str) -> None:
    """--speed accepts exactly the values parse_speed reads."""
    from hipsense.sources.replay import parse_speed

    try:
        parse_speed(speed)
    except ValueError:
        with pytest.raises(SystemExit):
            build_parser().parse_args(["replay", "s.jsonl.gz", "--speed", speed])
    else:
        assert build_parser().parse_args(["replay", "s.jsonl.gz", "--speed", speed]).speed == speed


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--duration", "-1"],
        ["demo", "--duration", "soon"],
        ["scan", "--timeout", "0"],
        ["calibrate-sensor", "--sensor", "x", "--timeout", "inf"],
    ],
)
def test_seconds_must_be_a_positive_number(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "seconds above 0" in capsys.readouterr().err


def test_every_command_explains_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():  # type: ignore[union-attr]
        assert command.description, name
        for action in command._actions:
            assert action.help, f"hipsense {name} {action.option_strings or action.dest}"


RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"


def _help(command: str) -> str:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return str(sub.choices[command].format_help())  # type: ignore[index]


def test_every_help_fits_an_80_column_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Usage lines used to carry every exercise id (140 columns), and the analyze epilog
    lines of 250 characters wrapped at random on an 80-column terminal."""
    monkeypatch.setenv("COLUMNS", "80")
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in [("hipsense", parser), *sub.choices.items()]:  # type: ignore[union-attr]
        long = [line for line in command.format_help().splitlines() if len(line) > 80]
        assert long == [], name
    assert "swing-lateral" in _help("analyze")  # the choices are still told, unbroken


def test_record_help_promises_no_app() -> None:
    """record has no app: its --exercise help used to say 'e in the app picks another'."""
    assert "in the app" not in _help("record") and "e in the app" in _help("live")


def test_history_json_help_says_one_object_per_leg_and_week() -> None:
    assert "one object per leg and week" in " ".join(_help("history").split())


def test_analyze_help_lists_every_way_to_exit_2() -> None:
    text = " ".join(_help("analyze").split())
    for cause in (
        "malformed packets",
        "CSV rows skipped",
        "repeated times",
        "no sensor samples",
        "no exercise is known (a CSV, or a recording that names none, given without --exercise)",
        "would overwrite the input",
        "several drills",
        "no reps could be counted",
        "--save refused unreliable angles",
        "not in its columns' units",
        "the --save history cannot be written",
    ):
        assert cause in text, cause


def _relabelled(tmp_path: Path, *, marker_t_s: float) -> Path:
    """The knee-drive recording as if it had started as forward swings and the user had
    switched to knee drives at ``marker_t_s`` (a set-start marker, as the recorder writes)."""
    lines = gzip.decompress((RECORDINGS / "knee-drive_right.jsonl.gz").read_bytes()).splitlines()
    header = json.loads(lines[0])
    header["exercise"] = "swing-forward"
    marker = {"type": "marker", "t_host_s": marker_t_s, "kind": "set-start"}
    marker |= {"exercise": "knee-drive", "leg": "right"}
    packets = [json.loads(x) for x in lines[1:]]
    before = [p for p in packets if p["t_host_s"] < marker_t_s]
    after = packets[len(before) :]
    out = tmp_path / "switched.jsonl"
    out.write_text("\n".join(json.dumps(r) for r in [header, *before, marker, *after]) + "\n")
    return out


def test_replay_switches_drill_where_the_recording_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _relabelled(tmp_path, marker_t_s=0.6)
    assert main(["replay", str(path), "--speed", "max", "--plain"]) == 0
    out = capsys.readouterr().out
    assert "exercise knee-drive (right leg)" in out
    assert "set knee-drive right: 8/" in out
    assert "rep swing-forward" not in out


def test_replay_reports_malformed_packets_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Malformed packets are bad input for replay as for analyze: told, then exit 2."""
    lines = gzip.decompress((RECORDINGS / "knee-drive_right.jsonl.gz").read_bytes()).splitlines()
    first = json.loads(lines[1])
    bad = {"type": "packet", "t_host_s": first["t_host_s"], "sensor": first["sensor"]}
    bad["payload_hex"] = "07"
    path = tmp_path / "malformed.jsonl"
    path.write_bytes(b"\n".join([lines[0], json.dumps(bad).encode(), *lines[1:]]) + b"\n")
    assert main(["replay", str(path), "--speed", "max", "--plain"]) == 2
    captured = capsys.readouterr()
    assert "set knee-drive right: 8/" in captured.out  # the rest was replayed
    assert captured.err.splitlines() == [f"hipsense: {path}: 1 malformed packet skipped"]
    analyzed = main(["analyze", str(path), "--json"])
    assert analyzed == 2 and "1 malformed packet skipped" in capsys.readouterr().err


def test_replay_tells_samples_lost_in_transit_without_failing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = RECORDINGS / "knee-drive_right_loss.jsonl.gz"
    assert main(["replay", str(path), "--speed", "max", "--plain"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [f"hipsense: {path}: 40 samples lost in transit (2.9 %), bridged"]


def test_replay_exercise_option_overrides_the_recorded_switches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _relabelled(tmp_path, marker_t_s=0.6)
    assert main(["replay", str(path), "--speed", "max", "--plain", "--exercise", "slr"]) == 0
    out = capsys.readouterr().out
    assert "exercise knee-drive" not in out and "rep knee-drive" not in out


def test_a_recording_without_samples_is_reported_not_analysed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = gzip.decompress((RECORDINGS / "slr_right.jsonl.gz").read_bytes()).splitlines()[0]
    path = tmp_path / "header-only.jsonl"
    path.write_bytes(header + b"\n")
    for argv in (
        ["analyze", str(path), "--exercise", "slr"],
        ["analyze", str(path), "--exercise", "none", "--json"],
        ["replay", str(path), "--speed", "max", "--plain"],
    ):
        assert main(argv) == 2, argv
        captured = capsys.readouterr()
        assert captured.out == ""
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"hipsense: {path}")
        assert "no sensor samples" in lines[0]


@pytest.mark.parametrize("option", [["--angles-csv", "a.csv"], ["--reps-csv", "r.csv"], ["--save"]])
def test_outputs_that_need_an_exercise_are_refused_with_none(
    tmp_path: Path, option: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "imu.csv"
    csv.write_text("time_s,acc_x_mps2,acc_y_mps2,acc_z_mps2,gyr_x_radps,gyr_y_radps,gyr_z_radps\n")
    argv = ["analyze", str(csv), "--exercise", "none", *option, "--db", str(tmp_path / "h.db")]
    with pytest.raises(SystemExit) as exited:
        main([*argv[:4], *(str(tmp_path / o) if o.endswith(".csv") else o for o in argv[4:])])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and option[0] in err[0] and "--orientation-csv" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["imu.csv"]  # nothing written


def test_replay_of_a_csv_points_to_analyze(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "imu.csv"
    csv.write_text("time_s,acc_x_mps2,acc_y_mps2,acc_z_mps2,gyr_x_radps,gyr_y_radps,gyr_z_radps\n")
    assert main(["replay", str(csv), "--plain"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"hipsense: {csv}: ")
    assert "hipsense analyze" in err[0] and "JSON" not in err[0]


@pytest.mark.parametrize("option", ["--angles-csv", "--orientation-csv", "--reps-csv"])
def test_an_export_never_overwrites_the_input(
    tmp_path: Path, option: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = tmp_path / "session.jsonl.gz"
    original = (RECORDINGS / "slr_right.jsonl.gz").read_bytes()
    recording.write_bytes(original)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["analyze", str(recording), "--exercise", "slr", option, "./session.jsonl.gz"])
    assert exited.value.code == 2
    assert "would overwrite the input" in capsys.readouterr().err
    assert recording.read_bytes() == original


def test_two_exports_to_one_file_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "out.csv")
    recording = str(RECORDINGS / "slr_right.jsonl.gz")
    with pytest.raises(SystemExit) as exited:
        main(["analyze", recording, "--exercise", "slr", "--angles-csv", out, "--reps-csv", out])
    assert exited.value.code == 2
    assert "--angles-csv and --reps-csv name the same file" in capsys.readouterr().err
    assert not Path(out).exists()


@pytest.mark.parametrize(
    "command", [["live", "--sensor", "hs"], ["record", "--sensor", "hs", "o.jsonl"]]
)
def test_live_sessions_need_a_drill(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--exercise", "none"])  # it used to run forward swings silently
    assert exited.value.code == 2
    assert "--exercise" in capsys.readouterr().err
    assert build_parser().parse_args(command).exercise == "swing-forward"


def test_a_damaged_header_calibration_is_reported_against_the_recording_by_replay_and_analyze(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = with_edited_header(tmp_path / "edited.jsonl", bad_sensor_calibration)
    assert main(["replay", str(path), "--plain", "--speed", "max"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"hipsense: {path}:1: six-face calibration")
    assert "redo it" not in err[0]  # the sensor's own saved calibration is not the problem
    assert main(["analyze", str(path), "--exercise", "slr", "--json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()  # analyze: the same one line
    assert len(err) == 1 and err[0].startswith(f"hipsense: {path}:1: six-face calibration")
    assert "in the header is damaged" in err[0]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("session.csv", "hipsense reads back recordings named .jsonl.gz (compressed) or .jsonl"),
        ("session", "hipsense reads back recordings named .jsonl.gz (compressed) or .jsonl"),
        ("folder", "is a folder: give a file name such as session.jsonl.gz"),
    ],
)
def test_a_recording_is_only_made_under_a_name_hipsense_reads_back(
    name: str, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--record x.csv`` used to record a session that analyze then read as an IMU CSV and
    refused; now nothing starts, and nothing is created."""
    (tmp_path / "folder").mkdir()
    target = tmp_path / name
    assert main(["demo", "--plain", "--duration", "1", "--record", str(target)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"hipsense: {target}: {problem}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


def test_the_sets_are_listed_once_the_app_closes() -> None:
    """The app shows the current drill's sets only: a replay that moved on to another drill
    ended on '0 / 15', and the knee drives counted before were nowhere to be read."""
    import numpy as np

    from hipsense.commands.stream import finished_set_lines
    from hipsense.exercises import Leg
    from hipsense.session import Session
    from hipsense.sim import plan_set, simulate

    sim = simulate(plan_set("knee-drive", Leg.RIGHT, 5, np.random.default_rng(8)), rate_hz=100.0)
    session = Session("knee-drive", Leg.RIGHT, {"sim": 100.0})
    for batch in sim.batches(19):
        session.feed(batch)
    session.finish()
    session.select_exercise("swing-forward")  # where a multi-drill replay would end
    (line,) = finished_set_lines(session.finished_sets)
    reps = session.finished_sets[0].reps
    best = max(r.rom_deg for r in reps)
    assert line.startswith(f"set 1: knee-drive, right leg: {len(sim.reps)}/15 reps, ROM mean ")
    assert line.endswith(f", best {best:.1f}°")


@pytest.mark.parametrize(("own", "kept"), [(None, "1"), ("2", "2")])
def test_the_commands_run_numpy_s_blas_on_one_thread_unless_told_otherwise(
    own: str | None, kept: str
) -> None:
    """Worker threads only spin on the pipeline's small matrices; OpenBLAS reads the setting
    once, as numpy loads, so the command line must not load numpy before ``main``."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if own is not None:
        env["OPENBLAS_NUM_THREADS"] = own
    code = (
        "import os, sys\n"
        "from hipsense.cli import main\n"
        "print('numpy' in sys.modules)\n"
        "main(['analyze', sys.argv[1], '--exercise', 'none'])\n"
        "print(os.environ['OPENBLAS_NUM_THREADS'], 'numpy' in sys.modules)\n"
    )
    recording = Path(__file__).parents[1] / "recordings" / "slr_right.jsonl.gz"
    done = subprocess.run(
        [sys.executable, "-c", code, str(recording)],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    lines = done.stdout.splitlines()
    assert [lines[0], lines[-1]] == ["False", f"{kept} True"], done.stderr


class _ClosedPipe:
    """stdout of `hipsense ... | head` once head has read what it wanted."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_reader_that_stops_reading_ends_hipsense_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`hipsense analyze ... | head -3` (or demo --plain) printed a BrokenPipeError traceback."""
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    code = main(["analyze", str(RECORDINGS / "knee-drive_left.jsonl.gz")])
    assert code == 141  # as a shell reports SIGPIPE
    assert "Traceback" not in capsys.readouterr().err


def test_python_m_hipsense_is_the_same_command_line(tmp_path: Path) -> None:
    """``python -m hipsense`` works where the script is not on PATH, with the same exit codes."""
    version = subprocess.run(
        [sys.executable, "-m", "hipsense", "--version"], check=False, capture_output=True, text=True
    )
    assert version.returncode == 0 and version.stdout.startswith("hipsense ")
    missing = tmp_path / "missing.csv"
    bad = subprocess.run(
        [sys.executable, "-m", "hipsense", "analyze", str(missing), "--exercise", "slr"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "missing.csv" in bad.stderr
