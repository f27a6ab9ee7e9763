"""The hipsense command line: argument parsing and one error path for every command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from hipsense import __version__
from hipsense.errors import HipsenseError
from hipsense.exercises import CATALOGUE

EXIT_USAGE_OR_INPUT = 2
EXIT_INTERRUPTED = 130

Handler = Callable[[argparse.Namespace], int]


def _add_exercise_args(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--exercise",
        choices=[*CATALOGUE, "none"],
        required=required,
        help="exercise performed ('none': orientation only, no exercise calibration)",
    )
    parser.add_argument(
        "--leg", choices=["left", "right"], default="right", help="leg with the sensor"
    )


def _analyze_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("analyze", help="analyse a recording or an IMU CSV")
    p.add_argument("path", help="a hipsense recording (.jsonl, .jsonl.gz) or an IMU CSV")
    _add_exercise_args(p, required=True)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--angles-csv", metavar="F", help="write time_s,flexion_deg,abduction_deg")
    p.add_argument("--orientation-csv", metavar="F", help="write time_s,qw,qx,qy,qz")
    p.add_argument("--reps-csv", metavar="F", help="write one row per rep")
    p.add_argument("--sensor", help="sensor id inside a multi-sensor recording")
    p.add_argument("--save", action="store_true", help="add the result to the history")
    p.add_argument("--db", help="history database path")


def _live_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="virtual sensor over a virtual Bluetooth link, live app")
    demo.add_argument("--plain", action="store_true", help="print events as lines, no app")
    demo.add_argument("--duration", type=float, help="stop after this many seconds")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--record", metavar="FILE", help="also record the session")

    live = sub.add_parser("live", help="stream from sensors into the live app")
    live.add_argument("--sensor", action="append", required=True, metavar="NAME_OR_ADDRESS[=ROLE]")
    _add_exercise_args(live, required=False)
    live.add_argument("--plain", action="store_true", help="print angles and rep events as lines")
    live.add_argument("--record", metavar="FILE", help="record the session to FILE")
    live.add_argument("--duration", type=float, help="stop after this many seconds")
    live.add_argument("--db", help="history database path (results are saved there)")
    live.add_argument(
        "--reuse-calibration",
        action="store_true",
        help="reuse this sensor's last mounting calibration (only if the strap stayed on)",
    )

    scan = sub.add_parser("scan", help="list hipsense and WitMotion sensors nearby")
    scan.add_argument("--timeout", type=float, default=5.0, help="seconds to scan")

    record = sub.add_parser("record", help="record sensors to a session file (no app)")
    record.add_argument(
        "--sensor", action="append", required=True, metavar="NAME_OR_ADDRESS[=ROLE]"
    )
    record.add_argument("output", help="recording file (.jsonl or .jsonl.gz)")
    _add_exercise_args(record, required=False)
    record.add_argument("--duration", type=float, help="stop after this many seconds")
    record.add_argument("--notes", default="", help="free text stored in the header")

    replay = sub.add_parser("replay", help="replay a recording through the live pipeline")
    replay.add_argument("path")
    replay.add_argument("--speed", default="1", help="1, 4 or max")
    replay.add_argument("--plain", action="store_true", help="print events as lines, no app")
    replay.add_argument("--exercise", choices=list(CATALOGUE), help="default: the recording's")
    replay.add_argument("--leg", choices=["left", "right"], help="default: the recording's")


def _history_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("history", help="week-by-week progress from the history database")
    p.add_argument("--exercise", choices=list(CATALOGUE), default="slr")
    p.add_argument("--leg", choices=["left", "right"])
    p.add_argument("--db", help="history database path")
    p.add_argument("--json", action="store_true")


def _calibrate_sensor_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("calibrate-sensor", help="one-time six-face calibration of a sensor")
    p.add_argument("--sensor", required=True, metavar="NAME_OR_ADDRESS")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds allowed for all faces")


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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _handler(args.command)(args)
    except HipsenseError as exc:
        print(f"hipsense: {exc}", file=sys.stderr)
        return EXIT_USAGE_OR_INPUT
    except KeyboardInterrupt:
        print("hipsense: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
