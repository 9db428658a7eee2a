"""ROOT files through uproot: TTrees and RNTuples, listed, read and iterated.

Damage (a truncated file, a bad basket) becomes UnreadableFileError with a message
that says what to do; uproot's own exceptions never reach the user.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import awkward as ak

from hepviz.errors import ConfigError, HepvizError, UnreadableFileError
from hepviz.sources._common import TreeInfo, check_branches, type_str

# Exceptions uproot raises on damaged input: short reads surface as OSError,
# bad headers or streamers as ValueError/KeyError/struct.error, bad compressed
# baskets as zlib.error or the decompressor's own error types.
ROOT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    KeyError,
    IndexError,
    EOFError,
    struct.error,
    zlib.error,
)


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
    except ROOT_ERRORS + (uproot.deserialization.DeserializationError,) as err:
        if isinstance(err, HepvizError):
            raise
        raise UnreadableFileError(
            f"{p.name} looks like a ROOT file but uproot cannot read it "
            f"({type(err).__name__}: {str(err).splitlines()[0]}). The file may be "
            f"damaged; upload it again or re-create it."
        ) from err


def _ttree_branches(tree) -> dict[str, str]:
    from uproot.interpretation.objects import CannotBeAwkward

    out = {}
    for name, branch in tree.iteritems():
        try:
            out[name] = type_str(branch.interpretation.awkward_form(tree.file))
        except (CannotBeAwkward, NotImplementedError, AttributeError, ValueError):
            # An unreadable branch type must not hide the rest of the tree.
            out[name] = f"{branch.typename} (not readable)"
    return out


def _rntuple_branches(rntuple) -> dict[str, str]:
    form = rntuple.to_akform()[0]
    return {name: type_str(form.content(name)) for name in form.fields}


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


def pick_tree(sizes: dict[str, int], tree: str | None, p: Path) -> str:
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
    name = pick_tree({n: obj.num_entries for n, (_, obj) in trees.items()}, tree, p)
    return name, trees[name][1]


def list_root(p: Path) -> list[TreeInfo]:
    infos = []
    with _root_file(p) as f:
        for name, (kind, obj) in _root_trees(f).items():
            if kind == "TTree":
                branches = _ttree_branches(obj)
            else:
                branches = _rntuple_branches(obj)
            infos.append(TreeInfo(name, kind, int(obj.num_entries), branches))
    return infos


def read_root(p: Path, tree, branches, entry_stop) -> ak.Array:
    with _root_file(p) as f:
        name, obj = _root_object(f, tree, p)
        check_branches(branches, list(obj.keys()), f"tree '{name}' of {p.name}")
        arrays = obj.arrays(branches, entry_stop=entry_stop, library="ak")
        # RNTuple reads may bring along the collection a field belongs to.
        return arrays[branches] if branches else arrays


def iterate_root(p: Path, tree, branches, step_size) -> Iterator[ak.Array]:
    with _root_file(p) as f:
        name, obj = _root_object(f, tree, p)
        check_branches(branches, list(obj.keys()), f"tree '{name}' of {p.name}")
        for chunk in obj.iterate(branches, step_size=step_size, library="ak"):
            yield chunk[branches]
