"""The README opens with the two commands a new user runs, and CI runs the second."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _opening_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    head = text.split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", head, re.S)]


def test_readme_opens_with_exactly_an_install_and_launch_and_a_test_command():
    launch, test = _opening_commands()
    assert "requirements.txt" in launch and launch.endswith("streamlit run app.py")
    assert "requirements-test.txt" in test and test.endswith("python -m pytest")


def test_ci_runs_the_readme_test_command_and_nothing_looser():
    _, test = _opening_commands()
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == test
