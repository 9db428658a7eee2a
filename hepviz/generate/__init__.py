"""Generate the bundled sample: p-p collisions at 13 TeV with Pythia 8.

Pythia (the ``pythia8mc`` package) is an optional dependency, imported only here and
only when an event is generated; install it with
``pip install -r requirements-generate.txt``. ``processes`` holds the Pythia settings
per physics process, ``detector`` the fast parametric CMS-like response, ``run`` the
event loop and ``writer`` the NanoAOD-style ROOT output.
"""

from __future__ import annotations

from hepviz.generate.processes import PROCESSES, process_settings
from hepviz.generate.run import GenerationSummary, generate

__all__ = ["PROCESSES", "GenerationSummary", "generate", "process_settings"]
