"""The hipsense command line."""

from __future__ import annotations

import argparse
import sys

from hipsense import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hipsense", description=__doc__)
    parser.add_argument("--version", action="version", version=f"hipsense {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="virtual sensor over a virtual Bluetooth link into the live app")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        print("hipsense demo: the virtual sensor is not built yet", file=sys.stderr)
        return 0
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
