"""The hipsense command line: argument parsing and one error path for every command."""

from __future__ import annotations

import argparse
import math
import os
import sys
import textwrap
from collections.abc import Callable
from typing import NoReturn

from hipsense import __version__
from hipsense.errors import HipsenseError
from hipsense.exercises import CATALOGUE

EXIT_USAGE_OR_INPUT = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 128 + 13  # as a shell reports a reader gone (SIGPIPE): `... | head`

Handler = Callable[[argparse.Namespace], int]

EXAMPLES = {
    "demo": "example:\n  hipsense demo --plain --duration 30   # lines instead of the app",
    "live": (
        "examples:\n"
        "  hipsense live --sensor hipsense-1A2B --exercise swing-forward --leg right\n"
        "  hipsense live --sensor hipsense-1A2B=right_thigh \\\n"
        "                --sensor WT901BLE68=left_thigh --exercise slr"
    ),
    "record": "example:\n  hipsense record --sensor hipsense-1A2B --exercise slr session.jsonl.gz",
    "replay": "example:\n  hipsense replay session.jsonl.gz --speed max --plain",
    "analyze": """\
examples:
  hipsense analyze session.jsonl.gz --exercise slr --leg right --save
  hipsense analyze imu.csv --exercise none --orientation-csv orientation.csv

An IMU CSV needs time_s, acc_x_mps2.. (or acc_x_g..) and gyr_x_radps..
(or gyr_x_dps..) columns. When a CSV's gyroscope does not agree with its
accelerometer, its angles are unreliable: the reps are still counted, but
no SLR grade is given (JSON: angles_reliable false, slr null with
slr_withheld) and --save stores nothing.

Exit code 2 when:
  - the input is bad: damaged (cut, corrupt, a torn line), malformed
    packets, CSV rows skipped (unreadable values or repeated times); what
    is usable is still analysed
  - a CSV's values are not in its columns' units (an accelerometer that
    does not read gravity, a gyroscope turning faster than a leg can)
  - it has no sensor samples, or no exercise is known (a CSV, or a
    recording that names none, given without --exercise)
  - options conflict: an export would overwrite the input or another
    export, or --exercise none is given with --angles-csv, --reps-csv or
    --save
  - an export's folder is missing or read-only, or the --save history
    cannot be written (both checked before analysing), or a recording of
    several drills is given with --angles-csv, --orientation-csv or
    --reps-csv
  - no reps could be counted (no clear leg movement, e.g. a file of the
    down leg's thigh), or a drill the recording switched to never
    calibrated
  - --save refused unreliable angles""",
    "history": "example:\n  hipsense history --exercise slr --leg right",
    "calibrate-sensor": "example:\n  hipsense calibrate-sensor --sensor hipsense-1A2B",
}


def positive_seconds(text: str) -> float:
    """A duration in seconds: a finite number above zero."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def replay_speed(text: str) -> str:
    """``max`` or a factor above 0 (1 = real time), as ``parse_speed`` reads it (kept as
    text for it)."""
    from hipsense.sources.replay import parse_speed

    try:
        parse_speed(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a speed: use a factor such as 1 (real time) or 4, or max"
        ) from None
    return text


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Epilogs as written; option help wrapped at spaces only (not inside swing-lateral)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def _command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str
) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=EXAMPLES.get(name),
        formatter_class=_HelpFormatter,
    )


EXERCISE = "EXERCISE"  # the choices are listed in the help: in the usage they overflow 80 columns
EXERCISES = ", ".join(CATALOGUE)


def _add_sensor_arg(parser: argparse.ArgumentParser) -> None:
    """``--sensor NAME_OR_ADDRESS[=ROLE]``, once per sensor (live and record)."""
    parser.add_argument(
        "--sensor",
        action="append",
        required=True,
        metavar="NAME_OR_ADDRESS[=ROLE]",
        help=SENSOR_HELP,
    )


def _add_exercise_args(
    parser: argparse.ArgumentParser, *, required: bool, app: bool = True
) -> None:
    """``required``: the drill must be named (``none`` allowed); else a live default, which
    the app (``app``) can change with its e key."""
    later = "; e in the app picks another" if app else ""
    parser.add_argument(
        "--exercise",
        choices=[*CATALOGUE, "none"] if required else list(CATALOGUE),
        metavar=EXERCISE,
        required=required,
        default=None if required else "swing-forward",
        help=f"{EXERCISES}, or none (orientation only, no exercise calibration)"
        if required
        else f"{EXERCISES} (default: swing-forward{later})",
    )
    parser.add_argument(
        "--leg",
        choices=["left", "right"],
        default="right",
        help="leg with the sensor (default: right)",
    )


DB_HELP = (
    "history database (default: $HIPSENSE_HISTORY, else"
    " $XDG_DATA_HOME/hipsense/history.sqlite3, ~/.local/share/... without it)"
)


def _analyze_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = _command(sub, "analyze", "count and grade the reps in a recording or an IMU CSV")
    p.add_argument("path", help="a hipsense recording (.jsonl, .jsonl.gz) or an IMU CSV")
    p.add_argument(
        "--exercise",
        choices=[*CATALOGUE, "none"],
        metavar=EXERCISE,
        help=f"{EXERCISES}, or none (orientation only, no exercise calibration);"
        " needed for a CSV. A recording's default: the drills it holds, followed where it"
        " switched (one result per set); given, it overrides them and the whole recording"
        " is analysed as this exercise",
    )
    p.add_argument(
        "--leg",
        choices=["left", "right"],
        help="leg with the sensor (default: a recording's legs, followed where it switched;"
        " a CSV's: right, said in a note); given, it overrides them",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object instead of a table; for a recording of several drills"
        ' the results are per set in "sets" (each with its exercise, leg, rep_count, reps,'
        " summary and calibration) and the top-level ones are null (reps: []); a drill it"
        ' switched to that gave no set is in "drills_without_sets", with why',
    )
    p.add_argument(
        "--angles-csv",
        metavar="F",
        help="write time_s,flexion_deg,abduction_deg, one row per input sample",
    )
    p.add_argument(
        "--orientation-csv",
        metavar="F",
        help="write time_s,qw,qx,qy,qz (sensor to world, world z up), one row per sample",
    )
    p.add_argument("--reps-csv", metavar="F", help="write one row per rep (times s, angles deg)")
    p.add_argument(
        "--sensor", metavar="ID", help="sensor id inside a multi-sensor recording (default: first)"
    )
    p.add_argument(
        "--save",
        action="store_true",
        help="add the reps to the history database, dated when the recording started"
        " (an IMU CSV has no start time: its file's modification time)",
    )
    p.add_argument("--db", metavar="FILE", help=DB_HELP)


DURATION_HELP = "stop after this many seconds (default: until q or Ctrl-C)"
SENSOR_HELP = (
    "sensor name or address from 'hipsense scan', optionally =ROLE (right_thigh, left_thigh);"
    " repeat for a second sensor"
)


def _live_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = _command(
        sub, "demo", "a simulated warm-up from a virtual sensor over a virtual Bluetooth link"
    )
    demo.add_argument("--plain", action="store_true", help="print events as lines, no app")
    demo.add_argument("--duration", type=positive_seconds, metavar="S", help=DURATION_HELP)
    demo.add_argument("--seed", type=int, default=7, help="simulation seed (default: 7)")
    demo.add_argument("--record", metavar="FILE", help="also record the session (.jsonl.gz)")

    live = _command(sub, "live", "stream from sensors into the live app")
    _add_sensor_arg(live)
    _add_exercise_args(live, required=False)
    live.add_argument("--plain", action="store_true", help="print angles and rep events as lines")
    live.add_argument("--record", metavar="FILE", help="record the session to FILE")
    live.add_argument("--duration", type=positive_seconds, metavar="S", help=DURATION_HELP)
    live.add_argument("--db", metavar="FILE", help=DB_HELP + "; results are saved there")
    live.add_argument(
        "--reuse-calibration",
        action="store_true",
        help="reuse this sensor's last mounting calibration (only if the strap stayed on)",
    )

    scan = _command(sub, "scan", "list hipsense and WitMotion sensors nearby")
    scan.add_argument(
        "--timeout", type=positive_seconds, default=5.0, metavar="S", help="seconds to scan (5)"
    )

    record = _command(sub, "record", "record sensors to a session file (no app)")
    _add_sensor_arg(record)
    record.add_argument("output", help="new recording file (.jsonl, or .jsonl.gz compressed)")
    _add_exercise_args(record, required=False, app=False)
    record.add_argument("--duration", type=positive_seconds, metavar="S", help=DURATION_HELP)
    record.add_argument("--notes", default="", help="free text stored in the header")

    replay = _command(sub, "replay", "replay a recording through the live pipeline")
    replay.add_argument("path", help="a hipsense recording (.jsonl, .jsonl.gz)")
    replay.add_argument(
        "--speed",
        type=replay_speed,
        default="1",
        metavar="X",
        help="1 = real time (default), 4 = four times as fast, max = as fast as possible",
    )
    replay.add_argument("--plain", action="store_true", help="print events as lines, no app")
    replay.add_argument(
        "--exercise",
        choices=list(CATALOGUE),
        metavar=EXERCISE,
        help=f"{EXERCISES} (default: the recording's, followed where it switched)",
    )
    replay.add_argument("--leg", choices=["left", "right"], help="default: the recording's")


def _history_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = _command(sub, "history", "week-by-week progress from the history database")
    p.add_argument(
        "--exercise",
        choices=list(CATALOGUE),
        metavar=EXERCISE,
        default="slr",
        help=f"{EXERCISES} (default: slr)",
    )
    p.add_argument("--leg", choices=["left", "right"], help="default: both legs")
    p.add_argument("--db", metavar="FILE", help=DB_HELP)
    p.add_argument(
        "--json",
        action="store_true",
        help='print a JSON list, one object per leg and week (with its "leg")',
    )


def _calibrate_sensor_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = _command(sub, "calibrate-sensor", "one-time six-face calibration of a sensor")
    p.add_argument(
        "--sensor", required=True, metavar="NAME_OR_ADDRESS", help="from 'hipsense scan'"
    )
    p.add_argument(
        "--timeout",
        type=positive_seconds,
        default=300.0,
        metavar="S",
        help="seconds allowed for all six faces (300)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hipsense",
        description="Hip angles and warm-up rep counts from a thigh-worn Bluetooth LE IMU.",
    )
    parser.add_argument("--version", action="version", version=f"hipsense {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _live_parsers(sub)
    _analyze_parser(sub)
    _history_parser(sub)
    _calibrate_sensor_parser(sub)
    return parser


def _handler(command: str) -> Handler:
    # Imported lazily so `hipsense --help` and light commands start fast.
    from hipsense.commands import handler

    return handler(command)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist (yet): compare where they would be
        return os.path.realpath(a) == os.path.realpath(b)


def _usage_error(command: str, message: str) -> NoReturn:
    print(f"hipsense {command}: error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE_OR_INPUT)


def _check_analyze(args: argparse.Namespace) -> None:
    """Before any file is read: an export never overwrites the input or another export,
    and outputs that need an exercise's calibration are refused with ``--exercise none``
    (they would be empty, or NaN throughout)."""
    if args.command != "analyze":
        return
    exports = [
        (option, path)
        for option, path in (
            ("--angles-csv", args.angles_csv),
            ("--orientation-csv", args.orientation_csv),
            ("--reps-csv", args.reps_csv),
        )
        if path
    ]
    for i, (option, path) in enumerate(exports):
        if _same_file(path, args.path):
            _usage_error("analyze", f"{option} {path} would overwrite the input: name another file")
        for other, other_path in exports[:i]:
            if _same_file(path, other_path):
                _usage_error("analyze", f"{other} and {option} name the same file {path}")
    if args.exercise != "none":
        return
    wanted = [
        option
        for option, given in (
            ("--angles-csv", args.angles_csv),
            ("--reps-csv", args.reps_csv),
            ("--save", args.save),
        )
        if given
    ]
    if wanted:
        _usage_error(
            "analyze",
            f"{', '.join(wanted)} need an exercise (angles come from its calibration);"
            " with --exercise none only --orientation-csv and --json are written",
        )


def main(argv: list[str] | None = None) -> int:
    _one_blas_thread()
    args = build_parser().parse_args(argv)
    _check_analyze(args)
    try:
        return _handler(args.command)(args)
    except HipsenseError as exc:
        print(f"hipsense: {exc}", file=sys.stderr)
        return EXIT_USAGE_OR_INPUT
    except KeyboardInterrupt:
        print("hipsense: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader of --plain, --json or a table stopped reading
        _silence_stdout()
        return EXIT_BROKEN_PIPE


def _one_blas_thread() -> None:
    """The pipeline's linear algebra is on 3x3 and other small matrices, batch by batch:
    OpenBLAS's worker threads only spin between the calls (``hipsense demo`` used 13 % more
    CPU with them, in the same wall time). Before numpy loads, which this module leaves to
    the commands; a setting of the user's own is kept."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush finds no closed pipe to
    complain about in a traceback."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (e.g. captured in tests)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":
    raise SystemExit(main())
