"""Open event files by their content and read branches as awkward arrays.

ROOT files (TTree and RNTuple, through uproot), CSV and Parquet tables all come out
as awkward record arrays with one field per branch (or column), so the feature
recipes downstream never care which format a file had.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import awkward as ak

from hepviz.errors import UnreadableFileError
from hepviz.sources import root, tables
from hepviz.sources._common import HEAD_BYTES, TreeInfo, decode_text, sniff_delimiter

__all__ = ["TreeInfo", "detect_format", "iterate_arrays", "list_trees",
           "read_arrays", "resolve_tree"]

logger = logging.getLogger(__name__)

Format = Literal["root", "parquet", "csv"]

# What a file's name claims, used only to phrase error messages and warnings.
_NAME_CLAIMS: dict[str, Format] = {
    ".root": "root",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
}
_FORMAT_WORDS = {"root": "a ROOT file", "parquet": "a Parquet file", "csv": "CSV text"}

def _describe_content(head: bytes) -> str:
    """Say in words what the first bytes of a file look like."""
    if not head:
        return "nothing (the file is empty)"
    if head[:4] == b"root":
        return "a ROOT file"
    if head[:4] == b"PAR1":
        return "a Parquet file"
    if head[:2] == b"\x1f\x8b":
        return "gzip-compressed data"
    if head[:4] == b"PK\x03\x04":
        return "a zip archive"
    if head[:8] == b"\x89HDF\r\n\x1a\n":
        return "an HDF5 file"
    text = decode_text(head)
    if text is None:
        return f"binary data starting with {head[:8]!r}"
    first = text.strip().splitlines()[0][:40] if text.strip() else ""
    return f"plain text that is not a delimited table (first line: {first!r})"


def detect_format(path: str | os.PathLike) -> Format:
    """Tell a ROOT, Parquet or CSV file by its content, not by its name.

    Raises:
        UnreadableFileError: the file is missing, empty, or its content is none of
            the three formats; the message says what the name claims and what the
            content is. A recognised format under a wrong name is read by content,
            with a logged warning.
    """
    p = Path(path)
    if not p.is_file():
        raise UnreadableFileError(
            f"No file at {p}. Check the path, or upload the file again."
        )
    with p.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    claimed = _NAME_CLAIMS.get(p.suffix.lower())
    claim = f"named like {_FORMAT_WORDS[claimed]}" if claimed else f"named {p.name!r}"

    fmt: Format | None = None
    if head[:4] == b"root":
        fmt = "root"
    elif head[:4] == b"PAR1":
        fmt = "parquet"
    else:
        text = decode_text(head)
        if text is not None and sniff_delimiter(text) is not None:
            fmt = "csv"
    if fmt is None:
        raise UnreadableFileError(
            f"{p.name} is {claim}, but its content is {_describe_content(head)}. "
            f"Expected a ROOT file (starts with 'root'), a Parquet file (starts "
            f"with 'PAR1') or CSV text with a header line. Upload the right file."
        )
    if claimed is not None and claimed != fmt:
        logger.warning(
            "%s is named like %s but its content is %s; reading it as %s",
            p.name, _FORMAT_WORDS[claimed], _FORMAT_WORDS[fmt], fmt,
        )
    return fmt


# Public API --------------------------------------------------------------------


def list_trees(path: str | os.PathLike) -> list[TreeInfo]:
    """List every TTree and RNTuple of a ROOT file, or the one table of CSV/Parquet."""
    p = Path(path)
    fmt = detect_format(p)
    if fmt == "root":
        return root.list_root(p)
    if fmt == "parquet":
        return tables.list_parquet(p)
    return tables.list_csv(p)


def resolve_tree(path: str | os.PathLike, tree: str | None = None) -> TreeInfo:
    """The TreeInfo that read_arrays(path, tree, ...) would read from."""
    p = Path(path)
    infos = {info.name: info for info in list_trees(p)}
    if detect_format(p) != "root":
        return next(iter(infos.values()))
    return infos[root.pick_tree({n: i.num_entries for n, i in infos.items()}, tree, p)]


def read_arrays(
    path: str | os.PathLike,
    tree: str | None,
    branches: list[str],
    entry_stop: int | None = None,
) -> ak.Array:
    """Read branches (or columns) as an awkward record array, one field per branch.

    Args:
        path: a ROOT, Parquet or CSV file; its format is found from its content.
        tree: tree or RNTuple name in a ROOT file; None picks the only one, else
            'Events', else the largest. Ignored for tables.
        branches: branch or column names; jagged branches stay jagged.
        entry_stop: read at most this many events.

    Raises:
        MissingBranchError: a branch is absent (the message names the closest).
        UnreadableFileError: the file is damaged or not a supported format.
        DatasetError: a CSV column holds text instead of numbers.
    """
    p = Path(path)
    branches = list(branches)
    fmt = detect_format(p)
    if fmt == "root":
        return root.read_root(p, tree, branches, entry_stop)
    if fmt == "parquet":
        return tables.read_parquet(p, branches, entry_stop)
    return tables.read_csv(p, branches, entry_stop)


def iterate_arrays(
    path: str | os.PathLike,
    tree: str | None,
    branches: list[str],
    step_size: int | str = "100 MB",
) -> Iterator[ak.Array]:
    """Yield chunks of read_arrays' output of about step_size (events or '100 MB')."""
    p = Path(path)
    branches = list(branches)
    fmt = detect_format(p)
    if fmt == "root":
        yield from root.iterate_root(p, tree, branches, step_size)
    elif fmt == "parquet":
        yield from tables.iterate_parquet(p, branches, step_size)
    else:
        yield from tables.iterate_csv(p, branches, step_size)
