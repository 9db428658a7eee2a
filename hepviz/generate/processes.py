"""Pythia 8 settings for each physics process of the bundled sample.

All processes are p-p collisions at sqrt(s) = 13 TeV with Pythia's defaults for the
parton shower, multiparton interactions (MPI) and hadronization (Monash 2013 tune).
Setting names follow the Pythia 8.3 manual (https://pythia.org/latest-manual/).
"""

from __future__ import annotations

from dataclasses import dataclass

# pT-hat threshold of the heavy-flavour QCD sample: at 20 GeV the b and c quarks are
# hard enough that their semileptonic decays give muons above the 5 GeV muon
# threshold in a fraction of events, while the cross section stays large.
QCD_PTHAT_MIN_GEV = 20.0

# Lower cut on the Z/gamma* mass (mHat) of the Drell-Yan sample, as in CMS samples.
DY_MHAT_MIN_GEV = 50.0

DEFAULT_WPRIME_MASS_GEV = 1000.0

COMMON_SETTINGS: tuple[str, ...] = (
    "Beams:idA = 2212",
    "Beams:idB = 2212",
    "Beams:eCM = 13000.",
    # keep the console quiet: the CLI draws its own progress bar
    "Print:quiet = on",
    "Next:numberCount = 0",
)


@dataclass(frozen=True)
class ProcessSpec:
    """One physics process: a name, a description and its Pythia settings."""

    name: str
    description: str
    settings: tuple[str, ...]


PROCESSES: dict[str, ProcessSpec] = {
    "wjets": ProcessSpec(
        "wjets",
        "W -> mu nu (plus jets from the parton shower)",
        (
            "WeakSingleBoson:ffbar2W = on",
            "24:onMode = off",
            "24:onIfAny = 13",
        ),
    ),
    "dy": ProcessSpec(
        "dy",
        f"Z/gamma* -> mu mu with mHat > {DY_MHAT_MIN_GEV:g} GeV (full interference)",
        (
            "WeakSingleBoson:ffbar2gmZ = on",
            "23:onMode = off",
            "23:onIfAny = 13",
            f"PhaseSpace:mHatMin = {DY_MHAT_MIN_GEV}",
        ),
    ),
    "ttbar": ProcessSpec(
        "ttbar",
        "top-quark pairs (gg and qqbar), all decays",
        (
            "Top:gg2ttbar = on",
            "Top:qqbar2ttbar = on",
        ),
    ),
    "qcd": ProcessSpec(
        "qcd",
        f"hard QCD b-bbar and c-cbar with pT-hat > {QCD_PTHAT_MIN_GEV:g} GeV",
        (
            "HardQCD:hardbbbar = on",
            "HardQCD:hardccbar = on",
            f"PhaseSpace:pTHatMin = {QCD_PTHAT_MIN_GEV}",
        ),
    ),
    "wprime": ProcessSpec(
        "wprime",
        "sequential-SM-like W' -> mu nu (mass a parameter)",
        (
            "NewGaugeBoson:ffbar2Wprime = on",
            "34:onMode = off",
            "34:onIfAny = 13",
        ),
    ),
}


def process_settings(
    process: str, seed: int, wprime_mass: float = DEFAULT_WPRIME_MASS_GEV
) -> list[str]:
    """All Pythia settings strings for ``process`` with random seed ``seed``.

    Args:
        process: a key of ``PROCESSES``.
        seed: Pythia random seed, 1 <= seed <= 900_000_000 (0 would mean "seed
            from the clock" in Pythia, so it is refused).
        wprime_mass: W' pole mass in GeV, used by the ``wprime`` process only.
    """
    from hepviz.errors import ConfigError

    if process not in PROCESSES:
        raise ConfigError(
            f"Unknown process '{process}'. Choose one of: {', '.join(PROCESSES)}."
        )
    if not 1 <= seed <= 900_000_000:
        raise ConfigError(
            f"Seed {seed} is outside the range 1..900000000; pick another seed."
        )
    settings = list(COMMON_SETTINGS) + list(PROCESSES[process].settings)
    if process == "wprime":
        if wprime_mass <= 100.0:
            raise ConfigError(
                f"W' mass {wprime_mass} GeV is too low; use a mass above 100 GeV."
            )
        settings.append(f"34:m0 = {wprime_mass}")
    settings += ["Random:setSeed = on", f"Random:seed = {seed}"]
    return settings
