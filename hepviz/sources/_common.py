"""Pieces shared by the ROOT and table readers: the TreeInfo record, branch checks
and the sniffing of delimited text."""

from __future__ import annotations

from dataclasses import dataclass, field

from hepviz.errors import MissingBranchError

DELIMITERS = (",", ";", "\t")
HEAD_BYTES = 8192


@dataclass
class TreeInfo:
    """A tree (or table) in a file: its name, kind, entry count and branch types."""

    name: str
    kind: str  # "TTree" | "RNTuple" | "table"
    num_entries: int
    branches: dict[str, str] = field(default_factory=dict)


def check_branches(branches: list[str], available: list[str], where: str) -> None:
    for b in branches:
        if b not in available:
            raise MissingBranchError(b, available, where)


def type_str(form) -> str:
    return str(form.type)


def is_number(v) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def decode_text(head: bytes) -> str | None:
    """Decode the start of a file as UTF-8 text, or None when it is binary."""
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as err:
        # The read may cut a multi-byte character at its end; that is still text.
        if err.start >= len(head) - 3:
            return head[: err.start].decode("utf-8", errors="strict")
        return None


def sniff_delimiter(text: str) -> str | None:
    """Return the delimiter of a CSV-like text, or None if it is not a table."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    # A table needs a header and at least one row; one line of prose is not one.
    if len(lines) < 2:
        return None
    # The last line of the head may be cut off; compare complete lines only.
    complete = lines[:-1] if not text.endswith("\n") else lines
    if len(complete) < 2:
        return None
    # Header and first row must agree; later ragged rows are a parse error that
    # read_arrays reports with its line number.
    for delim in DELIMITERS:
        n = complete[0].count(delim)
        if n and complete[1].count(delim) == n:
            return delim
    # One column of numbers under a header is a table too; prose is not.
    if all(is_number(ln) for ln in complete[1:20]):
        return ","
    return None
