"""Command line entry point: ``python -m hepviz <command> ...``.

Each subcommand lives in its own module, which provides ``add_parser(subparsers)``
(registers its arguments) and ``main(args) -> int``. To add a command, add one line
to ``SUBCOMMANDS``; the module is imported only when that command runs, so optional
dependencies (such as Pythia for ``generate``) are not needed by the others.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# command name -> module providing add_parser(subparsers) and main(args)
SUBCOMMANDS: dict[str, str] = {
    "generate": "hepviz.generate.cli",
    "inspect": "hepviz.cli",
    "train": "hepviz.cli",
}


def build_parser() -> argparse.ArgumentParser:
    """Parser with one subparser per entry of ``SUBCOMMANDS``."""
    parser = argparse.ArgumentParser(
        prog="python -m hepviz",
        description="hepviz: machine learning in particle physics.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in dict.fromkeys(SUBCOMMANDS.values()):
        module = importlib.import_module(module_name)
        sub = module.add_parser(subparsers)
        if sub is not None:  # a module with one command; else it set _main itself
            sub.set_defaults(_main=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    return int(args._main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
