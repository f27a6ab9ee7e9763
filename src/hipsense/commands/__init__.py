"""Command implementations, one module per family; cli.py only parses and dispatches."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from hipsense.errors import HipsenseError


def _not_yet(name: str) -> Callable[[argparse.Namespace], int]:
    def run(_: argparse.Namespace) -> int:
        raise HipsenseError(f"'hipsense {name}' is not available in this build yet")

    return run


def _analyze(args: argparse.Namespace) -> int:
    from hipsense.commands import analyze

    return analyze.run(args)


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    name: _not_yet(name) for name in ("demo", "live", "scan", "record", "replay", "history")
}
HANDLERS["analyze"] = _analyze
