"""Command implementations, one module per family; cli.py only parses and dispatches.

Modules are imported when their command runs, so `hipsense --help` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

from hipsense.errors import HipsenseError

Handler = Callable[[argparse.Namespace], int]

_WHERE: dict[str, tuple[str, str]] = {
    "analyze": ("hipsense.commands.analyze", "run"),
    "demo": ("hipsense.commands.stream", "run_demo"),
    "replay": ("hipsense.commands.stream", "run_replay"),
    "scan": ("hipsense.commands.stream", "run_scan"),
    "history": ("hipsense.commands.history", "run"),
    "live": ("hipsense.commands.stream", "run_live"),
    "record": ("hipsense.commands.stream", "run_record"),
    "calibrate-sensor": ("hipsense.commands.calibrate", "run"),
}


def _not_yet(name: str) -> Handler:
    def run(_: argparse.Namespace) -> int:
        raise HipsenseError(f"'hipsense {name}' is not available in this build yet")

    return run


def handler(command: str) -> Handler:
    where = _WHERE.get(command)
    if where is None:
        return _not_yet(command)
    run: Handler = getattr(importlib.import_module(where[0]), where[1])
    return run
