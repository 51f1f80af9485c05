"""Category codes of Arrow string columns, remembered per column.

pandas (3.x by default, 2.x with ``dtype="string[pyarrow]"``) keeps a string column as an
immutable ``pyarrow.ChunkedArray``: an edit makes a new array instead of writing into the old one.
So the codes of one array against one vocabulary never change, and two passes that need them
can share one hash pass:

* ``TabularDataSpec.from_df`` finds a column's categories with ``dictionary`` (ONE
  ``pyarrow.compute.dictionary_encode``: the distinct strings in first-appearance order and every
  row's index among them), which remembers the indices as the column's codes;
* encoding then finds them (``codes``) instead of looking every string up again
  (``pyarrow.compute.index_in``), and a later comparison against the same real table (a new
  synthetic sample, a training run's next validation) neither infers nor encodes that table
  again.

What is remembered is keyed by the array object (held by a weak reference: an entry goes with
its array) and bounded to ``MEMO_SIZE`` arrays. Codes are int32, the vocabulary's ``K`` for a
missing value.

Example:
  >>> import pyarrow as pa
  >>> array = pa.chunked_array([["b", None], ["a", "b"]])
  >>> dictionary(array)
  ['b', 'a']
  >>> codes(array, ("b", "a")).tolist(), codes(array, ("a",))
  ([0, 2, 1, 0], None)
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from artifact_jax.lazy import pa, pc, pd

#: How many arrays' codes are kept (least recently used first out).
MEMO_SIZE = 64

#: ``id(array) -> (weak reference, vocabulary, codes, whether the vocabulary is the array's
#: distinct strings in first-appearance order)``
_MEMO: OrderedDict[int, tuple[weakref.ref, tuple[str, ...], np.ndarray, bool]] = OrderedDict()
_LOCK = threading.Lock()


def strings(series: pd.Series) -> Any:
    """The ``pyarrow.ChunkedArray`` holding an Arrow-backed string column, else ``None``."""
    if not (getattr(series.dtype, "storage", None) == "pyarrow" or isinstance(series.dtype, pd.ArrowDtype)):
        return None
    array = series.array.__arrow_array__()
    return array if pa.types.is_string(array.type) or pa.types.is_large_string(array.type) else None


def dictionary(array: Any) -> list[str]:
    """The distinct non-null strings of ``array`` in first-appearance order (one
    ``dictionary_encode``); their indices are remembered as the codes against this list."""
    known = _recall(array)
    if known is not None and known[2]:  # remembered from an earlier call
        return list(known[0])
    encoded = pc.dictionary_encode(array)
    chunks = encoded.chunks  # one dictionary for all chunks (the hash table spans them)
    distinct = chunks[0].dictionary.to_pylist() if chunks else []
    indices = pa.chunked_array([c.indices for c in chunks], type=pa.int32())
    _remember(array, tuple(distinct), indices.fill_null(len(distinct)).to_numpy(), distinct=True)
    return distinct


def codes(array: Any, vocabulary: Sequence[str]) -> np.ndarray | None:
    """``[N]`` int32 codes of ``array`` in ``vocabulary`` (``K`` where missing), or ``None`` when
    a non-null value is outside it; remembered for the next call with this array."""
    vocabulary = tuple(vocabulary)
    known = _recall(array)
    if known is not None and known[0] == vocabulary:
        return known[1]
    index = pc.index_in(array, value_set=pa.array(list(vocabulary), type=array.type))
    if index.null_count != array.null_count:  # a non-missing value outside the vocabulary
        return None
    out = index.fill_null(len(vocabulary)).to_numpy().astype(np.int32, copy=False)
    _remember(array, vocabulary, out)
    return out


def _recall(array: Any) -> tuple[tuple[str, ...], np.ndarray, bool] | None:
    with _LOCK:
        entry = _MEMO.get(id(array))
        if entry is None or entry[0]() is not array:
            return None
        _MEMO.move_to_end(id(array))
        return entry[1:]


def _remember(array: Any, vocabulary: tuple[str, ...], out: np.ndarray, *, distinct: bool = False) -> None:
    out.flags.writeable = False  # handed out again: callers copy it
    key = id(array)

    def forget(_: Any) -> None:
        with _LOCK:
            if key in _MEMO and _MEMO[key][0]() is None:
                del _MEMO[key]

    with _LOCK:
        _MEMO[key] = (weakref.ref(array, forget), vocabulary, out, distinct)
        _MEMO.move_to_end(key)
        while len(_MEMO) > MEMO_SIZE:
            _MEMO.popitem(last=False)
