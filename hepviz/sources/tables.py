"""CSV and Parquet tables, read as awkward record arrays like ROOT trees.

CSV goes through pandas (text columns are refused with the row that holds text),
Parquet through awkward and pyarrow; both can be read in chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import awkward as ak
import numpy as np

from hepviz.errors import ConfigError, DatasetError, UnreadableFileError
from hepviz.sources._common import (
    HEAD_BYTES,
    TreeInfo,
    check_branches,
    decode_text,
    is_number,
    sniff_delimiter,
    type_str,
)


def _csv_delimiter(p: Path) -> str:
    with p.open("rb") as fh:
        text = decode_text(fh.read(HEAD_BYTES)) or ""
    return sniff_delimiter(text) or ","


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
            bad = values[~values.map(is_number)]
            example = ""
            if len(bad):
                example = f" (e.g. {bad.iloc[0]!r} in row {bad.index[0] + 1})"
            raise DatasetError(
                f"Column {col!r} of {p.name} holds text, not numbers{example}. "
                f"Pick numeric columns only, or clean the file."
            )
        out[str(col)] = values.to_numpy()
    return out


def _csv_type(dtype) -> str:
    return str(dtype) if dtype.kind in "biuf" else "string"


def read_csv(p: Path, branches, entry_stop) -> ak.Array:
    header = _csv_frame(p, nrows=0)
    check_branches(branches, [str(c) for c in header.columns], p.name)
    # All columns are parsed so that ragged rows are caught, not silently cut.
    frame = _csv_frame(p, nrows=entry_stop)
    return ak.Array({b: _numeric_columns(frame[[b]], p)[b] for b in branches})


def iterate_csv(p: Path, branches, step_size) -> Iterator[ak.Array]:
    import pandas as pd

    header = _csv_frame(p, nrows=0)
    check_branches(branches, [str(c) for c in header.columns], p.name)
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


def list_parquet(p: Path) -> list[TreeInfo]:
    with _parquet_errors(p):
        meta = ak.metadata_from_parquet(p)
    form = meta["form"]
    branches = {name: type_str(form.content(name)) for name in form.fields}
    return [TreeInfo(p.stem, "table", int(meta["num_rows"]), branches)]


def read_parquet(p: Path, branches, entry_stop) -> ak.Array:
    with _parquet_errors(p):
        fields = ak.metadata_from_parquet(p)["form"].fields
        check_branches(branches, fields, p.name)
        arrays = ak.from_parquet(p, columns=branches)
    return arrays[:entry_stop] if entry_stop is not None else arrays


def iterate_parquet(p: Path, branches, step_size) -> Iterator[ak.Array]:
    import pyarrow.parquet as pq

    with _parquet_errors(p):
        pf = pq.ParquetFile(p)
        check_branches(branches, pf.schema_arrow.names, p.name)
        rows = _rows_per_step(
            p, step_size, p.stat().st_size, max(pf.metadata.num_rows, 1)
        )
        for batch in pf.iter_batches(batch_size=rows, columns=branches):
            yield ak.from_arrow(batch)[branches]


def list_csv(p: Path) -> list[TreeInfo]:
    header = _csv_frame(p, nrows=1000)
    branches = {str(c): _csv_type(header[c].dtype) for c in header.columns}
    return [TreeInfo(p.stem, "table", _count_rows(p), branches)]
