"""Command implementations, one module per family; cli.py only parses and dispatches.

Modules are imported when their command runs, so `hipsense --help` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]

_WHERE: dict[str, tuple[str, str]] = {
    "analyze": ("hipsense.commands.analyze", "run"),
    "demo": ("hipsense.commands.demo", "run_demo"),
    "replay": ("hipsense.commands.stream", "run_replay"),
    "scan": ("hipsense.commands.live", "run_scan"),
    "history": ("hipsense.commands.history", "run"),
    "live": ("hipsense.commands.live", "run_live"),
    "record": ("hipsense.commands.live", "run_record"),
    "calibrate-sensor": ("hipsense.commands.calibrate", "run"),
}


def handler(command: str) -> Handler:
    module, name = _WHERE[command]
    run: Handler = getattr(importlib.import_module(module), name)
    return run
