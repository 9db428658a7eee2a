"""Open event files by their content and read branches as awkward arrays.

ROOT files (TTree and RNTuple, through uproot), CSV and Parquet tables all come out
as awkward record arrays with one field per branch (or column), so the feature
recipes downstream never care which format a file had.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import awkward as ak
import numpy as np

from hepviz.errors import (
    ConfigError,
    DatasetError,
    HepvizError,
    MissingBranchError,
    UnreadableFileError,
)

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
_DELIMITERS = (",", ";", "\t")
_HEAD_BYTES = 8192

# Exceptions uproot raises on damaged input: short reads surface as OSError,
# bad headers or streamers as ValueError/KeyError/struct.error, bad compressed
# baskets as zlib.error or the decompressor's own error types.
_ROOT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    KeyError,
    IndexError,
    EOFError,
    struct.error,
    zlib.error,
)


@dataclass
class TreeInfo:
    """A tree (or table) in a file: its name, kind, entry count and branch types."""

    name: str
    kind: str  # "TTree" | "RNTuple" | "table"
    num_entries: int
    branches: dict[str, str] = field(default_factory=dict)


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
    text = _decode_text(head)
    if text is None:
        return f"binary data starting with {head[:8]!r}"
    first = text.strip().splitlines()[0][:40] if text.strip() else ""
    return f"plain text that is not a delimited table (first line: {first!r})"


def _decode_text(head: bytes) -> str | None:
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


def _sniff_delimiter(text: str) -> str | None:
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
    for delim in _DELIMITERS:
        n = complete[0].count(delim)
        if n and complete[1].count(delim) == n:
            return delim
    # One column of numbers under a header is a table too; prose is not.
    if all(_is_number(ln) for ln in complete[1:20]):
        return ","
    return None


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
        head = fh.read(_HEAD_BYTES)
    claimed = _NAME_CLAIMS.get(p.suffix.lower())
    claim = f"named like {_FORMAT_WORDS[claimed]}" if claimed else f"named {p.name!r}"

    fmt: Format | None = None
    if head[:4] == b"root":
        fmt = "root"
    elif head[:4] == b"PAR1":
        fmt = "parquet"
    else:
        text = _decode_text(head)
        if text is not None and _sniff_delimiter(text) is not None:
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


# ROOT ------------------------------------------------------------------------------


def _root_declared_size(p: Path) -> int | None:
    """The file length that a ROOT header declares (fEND), or None if unreadable."""
    with p.open("rb") as fh:
        head = fh.read(24)
    if len(head) < 16:
        return None
    version = struct.unpack(">i", head[4:8])[0]
    if version >= 1000000 and len(head) >= 20:  # large-file header: 64-bit fEND
        return struct.unpack(">q", head[12:20])[0]
    return struct.unpack(">i", head[12:16])[0]


@contextmanager
def _root_file(p: Path):
    """Open a ROOT file with uproot, turning damage into UnreadableFileError."""
    import uproot

    declared = _root_declared_size(p)
    actual = p.stat().st_size
    if declared is None or actual < declared:
        raise UnreadableFileError(
            f"{p.name} is a truncated ROOT file: its header declares "
            f"{declared if declared is not None else 'a longer'} bytes but the file "
            f"has {actual}. It was probably cut off while copying or uploading; "
            f"upload it again."
        )
    try:
        with uproot.open(p) as f:
            yield f
    except _ROOT_ERRORS + (uproot.deserialization.DeserializationError,) as err:
        if isinstance(err, HepvizError):
            raise
        raise UnreadableFileError(
            f"{p.name} looks like a ROOT file but uproot cannot read it "
            f"({type(err).__name__}: {str(err).splitlines()[0]}). The file may be "
            f"damaged; upload it again or re-create it."
        ) from err


def _type_str(form) -> str:
    return str(form.type)


def _ttree_branches(tree) -> dict[str, str]:
    from uproot.interpretation.objects import CannotBeAwkward

    out = {}
    for name, branch in tree.iteritems():
        try:
            out[name] = _type_str(branch.interpretation.awkward_form(tree.file))
        except (CannotBeAwkward, NotImplementedError, AttributeError, ValueError):
            # An unreadable branch type must not hide the rest of the tree.
            out[name] = f"{branch.typename} (not readable)"
    return out


def _rntuple_branches(rntuple) -> dict[str, str]:
    form = rntuple.to_akform()[0]
    return {name: _type_str(form.content(name)) for name in form.fields}


def _root_trees(f) -> dict[str, tuple[str, object]]:
    """Map tree name (without cycle) to (kind, uproot object); highest cycle wins."""
    found: dict[str, str] = {}
    for key, classname in f.classnames().items():
        name = key.rsplit(";", 1)[0]
        if classname in ("TTree", "TNtuple", "TNtupleD"):
            found.setdefault(name, "TTree")
        elif classname == "ROOT::RNTuple":
            found.setdefault(name, "RNTuple")
    return {name: (kind, f[name]) for name, kind in found.items()}


def _pick_tree(sizes: dict[str, int], tree: str | None, p: Path) -> str:
    """Choose a tree by name; without one, the only tree, else 'Events', else the
    largest. sizes maps tree name to its number of entries."""
    if not sizes:
        raise UnreadableFileError(
            f"{p.name} is a ROOT file without any TTree or RNTuple. Upload a file "
            f"that holds events."
        )
    if tree is not None:
        tree = tree.rsplit(";", 1)[0]
        if tree not in sizes:
            raise ConfigError(
                f"No tree {tree!r} in {p.name}; it holds {', '.join(sizes)}. "
                f"Pick one of these."
            )
        return tree
    if len(sizes) == 1:
        return next(iter(sizes))
    for name in sizes:
        if name.lower() == "events":
            return name
    return max(sizes, key=sizes.__getitem__)


def _root_object(f, tree: str | None, p: Path):
    trees = _root_trees(f)
    name = _pick_tree({n: obj.num_entries for n, (_, obj) in trees.items()}, tree, p)
    return name, trees[name][1]


def _root_list(p: Path) -> list[TreeInfo]:
    infos = []
    with _root_file(p) as f:
        for name, (kind, obj) in _root_trees(f).items():
            if kind == "TTree":
                branches = _ttree_branches(obj)
            else:
                branches = _rntuple_branches(obj)
            infos.append(TreeInfo(name, kind, int(obj.num_entries), branches))
    return infos


def _check_branches(branches: list[str], available: list[str], where: str) -> None:
    for b in branches:
        if b not in available:
            raise MissingBranchError(b, available, where)


def _root_read(p: Path, tree, branches, entry_stop) -> ak.Array:
    with _root_file(p) as f:
        name, obj = _root_object(f, tree, p)
        _check_branches(branches, list(obj.keys()), f"tree '{name}' of {p.name}")
        arrays = obj.arrays(branches, entry_stop=entry_stop, library="ak")
        # RNTuple reads may bring along the collection a field belongs to.
        return arrays[branches] if branches else arrays


def _root_iterate(p: Path, tree, branches, step_size) -> Iterator[ak.Array]:
    with _root_file(p) as f:
        name, obj = _root_object(f, tree, p)
        _check_branches(branches, list(obj.keys()), f"tree '{name}' of {p.name}")
        for chunk in obj.iterate(branches, step_size=step_size, library="ak"):
            yield chunk[branches]


# Tables (CSV, Parquet) -------------------------------------------------------------


def _csv_delimiter(p: Path) -> str:
    with p.open("rb") as fh:
        text = _decode_text(fh.read(_HEAD_BYTES)) or ""
    return _sniff_delimiter(text) or ","


def _csv_frame(p: Path, nrows: int | None = None):
    import pandas as pd

    try:
        return pd.read_csv(p, sep=_csv_delimiter(p), nrows=nrows, engine="c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise UnreadableFileError(
            f"{p.name} looks like CSV text but cannot be parsed as a table "
            f"({str(e).splitlines()[0]}). Check that every row has the same number "
            f"of columns as the header."
        ) from e


def _count_rows(p: Path) -> int:
    """Count data rows of a CSV file by its line breaks (header excluded)."""
    n, last = 0, b"\n"
    with p.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    n += last != b"\n"  # a final line without a line break
    return max(n - 1, 0)


def _numeric_columns(frame, p: Path) -> dict[str, np.ndarray]:
    """Columns of a pandas frame as numpy arrays; text columns are refused."""
    out = {}
    for col in frame.columns:
        values = frame[col]
        if values.dtype.kind not in "biuf":
            bad = values[~values.map(_is_number)]
            example = ""
            if len(bad):
                example = f" (e.g. {bad.iloc[0]!r} in row {bad.index[0] + 1})"
            raise DatasetError(
                f"Column {col!r} of {p.name} holds text, not numbers{example}. "
                f"Pick numeric columns only, or clean the file."
            )
        out[str(col)] = values.to_numpy()
    return out


def _is_number(v) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _csv_type(dtype) -> str:
    return str(dtype) if dtype.kind in "biuf" else "string"


def _csv_read(p: Path, branches, entry_stop) -> ak.Array:
    header = _csv_frame(p, nrows=0)
    _check_branches(branches, [str(c) for c in header.columns], p.name)
    # All columns are parsed so that ragged rows are caught, not silently cut.
    frame = _csv_frame(p, nrows=entry_stop)
    return ak.Array({b: _numeric_columns(frame[[b]], p)[b] for b in branches})


def _csv_iterate(p: Path, branches, step_size) -> Iterator[ak.Array]:
    import pandas as pd

    header = _csv_frame(p, nrows=0)
    _check_branches(branches, [str(c) for c in header.columns], p.name)
    rows = _rows_per_step(p, step_size, p.stat().st_size, max(_count_rows(p), 1))
    try:
        reader = pd.read_csv(p, sep=_csv_delimiter(p), chunksize=rows)
        for frame in reader:
            columns = _numeric_columns(frame[branches], p)
            yield ak.Array({b: columns[b] for b in branches})
    except pd.errors.ParserError as e:
        raise UnreadableFileError(
            f"{p.name} cannot be parsed as CSV ({str(e).splitlines()[0]})."
        ) from e


def _rows_per_step(p: Path, step_size, nbytes: int, nrows: int) -> int:
    """Translate uproot's step_size (entries, or a size like '100 MB') into rows."""
    if isinstance(step_size, (int, np.integer)):
        return max(int(step_size), 1)
    units = {"kb": 1e3, "mb": 1e6, "gb": 1e9, "b": 1}
    text = str(step_size).strip().lower().replace(" ", "")
    for unit, scale in units.items():
        if text.endswith(unit):
            try:
                target = float(text[: -len(unit)]) * scale
            except ValueError:
                break
            return max(int(target / max(nbytes / nrows, 1)), 1)
    raise ConfigError(
        f"step_size {step_size!r} is neither a number of events nor a size such "
        f"as '100 MB'."
    )


@contextmanager
def _parquet_errors(p: Path):
    import pyarrow as pa

    try:
        yield
    except (pa.ArrowException, OSError) as e:
        raise UnreadableFileError(
            f"{p.name} starts like a Parquet file but cannot be read "
            f"({str(e).splitlines()[0]}). It may be truncated; upload it again."
        ) from e


def _parquet_list(p: Path) -> list[TreeInfo]:
    with _parquet_errors(p):
        meta = ak.metadata_from_parquet(p)
    form = meta["form"]
    branches = {name: _type_str(form.content(name)) for name in form.fields}
    return [TreeInfo(p.stem, "table", int(meta["num_rows"]), branches)]


def _parquet_read(p: Path, branches, entry_stop) -> ak.Array:
    with _parquet_errors(p):
        fields = ak.metadata_from_parquet(p)["form"].fields
        _check_branches(branches, fields, p.name)
        arrays = ak.from_parquet(p, columns=branches)
    return arrays[:entry_stop] if entry_stop is not None else arrays


def _parquet_iterate(p: Path, branches, step_size) -> Iterator[ak.Array]:
    import pyarrow.parquet as pq

    with _parquet_errors(p):
        pf = pq.ParquetFile(p)
        _check_branches(branches, pf.schema_arrow.names, p.name)
        rows = _rows_per_step(
            p, step_size, p.stat().st_size, max(pf.metadata.num_rows, 1)
        )
        for batch in pf.iter_batches(batch_size=rows, columns=branches):
            yield ak.from_arrow(batch)[branches]


# Public API ------------------------------------------------------------------------


def list_trees(path: str | os.PathLike) -> list[TreeInfo]:
    """List every TTree and RNTuple of a ROOT file, or the one table of CSV/Parquet."""
    p = Path(path)
    fmt = detect_format(p)
    if fmt == "root":
        return _root_list(p)
    if fmt == "parquet":
        return _parquet_list(p)
    header = _csv_frame(p, nrows=1000)
    branches = {str(c): _csv_type(header[c].dtype) for c in header.columns}
    return [TreeInfo(p.stem, "table", _count_rows(p), branches)]


def resolve_tree(path: str | os.PathLike, tree: str | None = None) -> TreeInfo:
    """The TreeInfo that read_arrays(path, tree, ...) would read from."""
    p = Path(path)
    infos = {info.name: info for info in list_trees(p)}
    if detect_format(p) != "root":
        return next(iter(infos.values()))
    return infos[_pick_tree({n: i.num_entries for n, i in infos.items()}, tree, p)]


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
        return _root_read(p, tree, branches, entry_stop)
    if fmt == "parquet":
        return _parquet_read(p, branches, entry_stop)
    return _csv_read(p, branches, entry_stop)


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
        yield from _root_iterate(p, tree, branches, step_size)
    elif fmt == "parquet":
        yield from _parquet_iterate(p, branches, step_size)
    else:
        yield from _csv_iterate(p, branches, step_size)
