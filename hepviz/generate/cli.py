"""``python -m hepviz generate``: make one sample file with Pythia 8."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from hepviz.errors import HepvizError
from hepviz.generate.processes import DEFAULT_WPRIME_MASS_GEV, PROCESSES

logger = logging.getLogger(__name__)


class ProgressBar:
    """A one-line text progress bar on stderr, redrawn at most every 0.5 s."""

    def __init__(self, label: str, stream=sys.stderr, width: int = 30) -> None:
        self.label = label
        self.stream = stream
        self.width = width
        self.start = time.perf_counter()
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done < total and now - self._last < 0.5:
            return
        self._last = now
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else 0.0
        filled = int(self.width * done / total)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(
            f"\r{self.label} [{bar}] {done}/{total} "
            f"{rate:6.1f} ev/s, {eta:5.0f} s left"
        )
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``generate`` subcommand."""
    parser = subparsers.add_parser(
        "generate",
        help="generate a sample with Pythia 8 and a fast detector model",
        description=(
            "Generate p-p collisions at 13 TeV with Pythia 8, apply a fast CMS-like "
            "detector response and write a NanoAOD-style ROOT file (TTree Events). "
            "Needs `pip install -r requirements-generate.txt`."
        ),
    )
    parser.add_argument("--process", required=True, choices=sorted(PROCESSES))
    parser.add_argument("--events", type=int, required=True, help="events to generate")
    parser.add_argument("--seed", type=int, default=1, help="random seed (>= 1)")
    parser.add_argument("--out", required=True, help="output ROOT file")
    parser.add_argument(
        "--wprime-mass",
        type=float,
        default=DEFAULT_WPRIME_MASS_GEV,
        help="W' mass in GeV (process wprime only; default %(default)s)",
    )
    return parser


def main(args: argparse.Namespace) -> int:
    """Run the generation; returns the process exit status."""
    from hepviz.generate.run import generate

    bar = ProgressBar(args.process)
    try:
        _, summary = generate(
            args.process,
            args.events,
            args.seed,
            out=args.out,
            wprime_mass=args.wprime_mass,
            progress=bar,
        )
    except HepvizError as exc:
        logger.error("%s", exc)
        return 1
    sys.stderr.write(
        f"{summary.process}: {summary.n_events} events in "
        f"{summary.wall_seconds:.1f} s = {summary.events_per_second:.1f} events/s; "
        f"sigma = {summary.sigma_pb:.5g} +- {summary.sigma_err_pb:.2g} pb; "
        f"weight = {summary.weight:.5g} per event for 1 fb^-1; wrote {args.out}\n"
    )
    return 0
