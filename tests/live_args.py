"""The arguments ``hipsense live`` hands ``live_session``, parsed by the real command line,
for the tests that run it on the virtual radio."""

from __future__ import annotations

import argparse
from pathlib import Path

from hipsense.cli import build_parser


def live_args(
    sensor: str,
    *,
    record: Path,
    db: Path,
    role: str = "left_thigh",
    exercise: str = "knee-drive",
    duration_s: float = 4.0,
) -> argparse.Namespace:
    """``hipsense live --plain`` on one sensor, recording to ``record``, saving to ``db``."""
    leg = role.removesuffix("_thigh")
    argv = ["live", "--sensor", f"{sensor}={role}", "--exercise", exercise, "--leg", leg]
    argv += ["--plain", "--record", str(record), "--duration", str(duration_s), "--db", str(db)]
    return build_parser().parse_args(argv)
