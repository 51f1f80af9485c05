"""DataFrame -> ``EncodedTable``: the only pandas <-> JAX boundary.

One pass per table turns the spec's features into three dense arrays:

* ``cts`` ``[N, Dc]`` float: continuous features, ``pd.to_numeric`` semantics, with missing
  values stored as ``0.0`` (dython's ``nan_replace_value``) and flagged in ``cts_missing``;
* ``cat`` ``[N, Dk]`` int32: category codes in the spec's vocabulary (first-appearance order).
  Column ``j`` with ``K_j`` categories uses codes ``0..K_j-1`` for them, ``K_j`` for a missing
  value (the reference's string ``"nan"``) and ``K_j + 1 .. K_j + U_j`` for values outside the
  vocabulary, one code per distinct unseen value (dython counts each as its own category).
  ``U_j`` is the number of distinct unseen values of the tables encoded together, rounded up
  to a power of two so that new samples rarely change the compiled shapes; beyond it (only
  when a caller fixes ``unseen_slots``) the extra values share the last code;
* ``valid`` ``[N]`` bool: ``False`` marks padding rows (static shapes for ``jit``/sharding).

Validation happens here, before ``jit``: every error names the table and the column.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from artifact_jax import arrow_codes
from artifact_jax.lazy import pd
from artifact_jax.spec import TabularDataSpec, as_pandas, category_name, category_strings

MISSING = 0  # offset past the vocabulary: code K_j is missing; unseen values follow it


class EncodedTable(NamedTuple):
    """A table as device arrays (a pytree, so it passes through ``jit``/``vmap``/``scan``).

    Attributes:
      cts: ``[N, Dc]`` continuous values, ``0.0`` where missing.
      cts_missing: ``[N, Dc]`` bool, ``True`` where the value was missing (NaN or null).
      cat: ``[N, Dk]`` int32 codes; see the module docstring for the reserved codes.
      valid: ``[N]`` bool, ``False`` for padding rows.
    """

    cts: object
    cts_missing: object
    cat: object
    valid: object


@dataclass(frozen=True)
class Layout:
    """Static (hashable) shape information of encoded tables, a ``jit`` static argument.

    Attributes:
      features: every feature in spec order.
      cts_features: continuous features in spec order (columns of ``cts``).
      cat_features: categorical features in spec order (columns of ``cat``).
      vocab_sizes: ``K_j``, the spec's number of categories per categorical column.
      n_categories: ``K_j + 1 + U_j`` code slots per column (vocabulary, missing, unseen).
      order: ``("cts", i)`` / ``("cat", j)`` for each feature in spec order.
      complete: the program is compiled only for tables without a missing continuous value or
        a padding row (``complete_tables``): kernels that take a faster path when every value
        counts then compile that path alone, instead of choosing at run time (``lax.cond``
        compiles both). ``False`` (any table) unless the engine checked the tables it compiles
        for; row counts in ``valid`` (a bootstrap's ``registry.row_weights`` parts) are not complete.
    """

    features: tuple[str, ...]
    cts_features: tuple[str, ...]
    cat_features: tuple[str, ...]
    vocab_sizes: tuple[int, ...]
    n_categories: tuple[int, ...]
    order: tuple[tuple[str, int], ...]
    complete: bool = False

    @classmethod
    def from_spec(cls, spec: TabularDataSpec, unseen_slots: tuple[int, ...] | None = None) -> Layout:
        """The layout of ``spec``'s encoded tables (one unseen slot per column by default)."""
        cts, cat = tuple(spec.cts_features), tuple(spec.cat_features)
        order = tuple(("cts", cts.index(f)) if f in cts else ("cat", cat.index(f)) for f in spec.features)
        vocab = tuple(len(spec.cat_unique_map[f]) for f in cat)
        unseen = unseen_slots if unseen_slots is not None else (1,) * len(cat)
        if len(unseen) != len(cat) or any(u < 1 for u in unseen):
            raise ValueError(f"unseen_slots={unseen} must give a count >= 1 for each of {len(cat)} columns.")
        return cls(tuple(spec.features), cts, cat, vocab, tuple(k + 1 + u for k, u in zip(vocab, unseen, strict=True)), order)


def complete_tables(tables: Sequence[EncodedTable]) -> bool:
    """Whether every continuous value of ``tables`` is present and no row is padding (host
    arrays; ``Layout.complete``)."""
    return all(bool(np.all(t.valid)) and not np.any(t.cts_missing) for t in tables)


def _check_table(df: object, spec: TabularDataSpec, name: str) -> pd.DataFrame:
    df = as_pandas(df, name)
    if not spec.features:
        raise ValueError("spec has no features: declare at least one continuous or categorical column.")
    if len(df) == 0:
        raise ValueError(f"{name} is empty: it has no rows.")
    columns = {str(c) for c in df.columns}
    missing = [f for f in spec.features if f not in columns]
    if missing:
        raise ValueError(f"{name} lacks the spec's features {missing}; its columns are {list(df.columns)}.")
    if len(columns) != len(df.columns):
        raise ValueError(f"{name} has duplicate column names.")
    if all(type(c) is str for c in df.columns):  # already string names: no copy of the frame
        return df
    return df.set_axis([str(c) for c in df.columns], axis=1)


#: An ISO-8601 date or date-time, as ``DataFrame.to_csv`` writes a datetime column.
ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"


def _continuous(series: pd.Series, table: str, out: np.ndarray, out_missing: np.ndarray) -> None:
    """Write one continuous column (``pd.to_numeric`` semantics, 0.0 where missing) and its mask."""
    dtype = series.dtype
    numeric = pd.api.types.is_numeric_dtype(dtype)
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":  # numpy numbers: NaN is the only missing value
        values = series.to_numpy().astype(np.float64, copy=False)
    elif pd.api.types.is_datetime64_any_dtype(dtype):  # nanoseconds since the epoch (UTC), NaT missing
        values = np.where(series.isna().to_numpy(), np.nan, series.array.as_unit("ns").asi8.astype(np.float64))
    elif numeric:  # nullable numbers: no parsing
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    elif pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(series, skipna=True) in ("date", "datetime"):
        # datetime.date / datetime.datetime objects: as a datetime64 column (naive read as UTC)
        return _continuous(pd.Series(pd.to_datetime(series, utc=True), name=series.name), table, out, out_missing)
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isfinite(values).all():  # the common case in one pass: nothing missing, nothing infinite
        out[:] = values
        out_missing[:] = False
        return
    missing = np.isnan(values)
    if missing.any() and not numeric:  # numbers: NaN/NA is all that turns NaN
        bad = missing & series.notna().to_numpy()
        if bad.any():
            example = series[bad].iloc[0]
            dates = isinstance(example, str) and re.fullmatch(ISO_DATE, example.strip())
            raise ValueError(
                f"{table}: continuous column {series.name!r} holds non-numeric values "
                f"(e.g. {example!r}); declare it categorical or clean it"
                + (" (dates: convert the column with pd.to_datetime)." if dates else ".")
            )
    if np.isinf(values).any():
        raise ValueError(f"{table}: continuous column {series.name!r} holds infinite values.")
    out[:] = values
    out[missing] = 0.0
    out_missing[:] = missing


def _factorize(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes (-1 for missing) and the string form of each distinct value, in appearance order."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes, uniques = series.cat.codes.to_numpy(), series.cat.categories
    elif pd.api.types.is_integer_dtype(series.dtype) and not pd.api.types.is_extension_array_dtype(series.dtype):
        values = series.to_numpy()
        lo, hi = int(values.min()), int(values.max())
        if hi - lo > 1 << 16:
            codes, uniques = pd.factorize(series, use_na_sentinel=True)
        else:  # small integer range: a rank table instead of hashing
            present = np.bincount(values - lo, minlength=hi - lo + 1) > 0
            rank = np.cumsum(present) - 1
            codes, uniques = rank[values - lo], np.flatnonzero(present) + lo
    else:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if pd.api.types.is_float_dtype(getattr(uniques, "dtype", None)):  # 1.0 -> "1" (spec.category_name)
        return np.asarray(codes), category_strings(np.asarray(uniques, dtype=np.float64))
    kind = getattr(uniques, "dtype", None)
    if pd.api.types.is_datetime64_any_dtype(kind) or pd.api.types.is_timedelta64_dtype(kind):
        # the spec's strings (``astype(str)``): dates at midnight read "2012-01-01", where
        # ``str(Timestamp)`` writes "2012-01-01 00:00:00" and no value would match the spec
        return np.asarray(codes), [category_name(u) for u in pd.Index(uniques).astype(str)]
    return np.asarray(codes), [category_name(str(u)) for u in np.asarray(uniques, dtype=object)]


def _zeros(shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """``np.zeros`` aligned to 64 bytes, so that JAX on CPU adopts the buffer without a copy.

    (numpy's large allocations sit 16 bytes past a page boundary; ``jax.device_put`` copies
    buffers that are not 64-byte aligned, ~25 ms per 40 MB.)
    """
    dtype = np.dtype(dtype)
    size = int(np.prod(shape)) * dtype.itemsize
    raw = np.zeros(size + 64, np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start : start + size].view(dtype).reshape(shape)


def _vocab_codes(series: pd.Series, vocabulary: Sequence[str], out: np.ndarray) -> bool:
    """Write final int32 codes (``K`` for missing) into ``out`` in one pass; False if a value is unseen.

    The fast path for the common column kinds: arrow strings are looked up with
    ``pyarrow.compute.index_in`` (or their codes found in ``arrow_codes``' memo, when the spec
    was inferred from this very column), small-range integers through a table indexed by value.
    Anything else, and any column holding a value outside the vocabulary, returns False and
    goes through ``_factorize`` (which also numbers the distinct unseen values).
    """
    if (array := arrow_codes.strings(series)) is not None:
        codes = arrow_codes.codes(array, vocabulary)
        if codes is None:
            return False
        out[:] = codes
        return True
    if pd.api.types.is_integer_dtype(series.dtype) and not pd.api.types.is_extension_array_dtype(series.dtype):
        values = series.to_numpy()
        lo, hi = int(values.min()), int(values.max())
        if hi - lo > 1 << 16:
            return False
        table = np.full(hi - lo + 1, -1, np.int32)
        for code, category in enumerate(vocabulary):
            category = category_name(category)  # "3.0" in a spec names the integer 3
            digits = category.lstrip("-")
            if digits.isascii() and digits.isdigit() and str(int(category)) == category and lo <= int(category) <= hi \
                    and table[int(category) - lo] < 0:
                table[int(category) - lo] = code
        codes = table[values - lo]
        if (codes < 0).any():
            return False
        out[:] = codes
        return True
    return False


def _check_time_zones(tables: Sequence[pd.DataFrame], names: Sequence[str], spec: TabularDataSpec) -> None:
    """Refuse a datetime feature with a time zone in one table and none in another: its naive
    instants would be compared as UTC (as categories, no value would match)."""
    for f in spec.features:
        zones = {}
        for df, name in zip(tables, names, strict=True):
            dtype = df[f].dtype
            if isinstance(dtype, pd.DatetimeTZDtype):
                zones[name] = str(dtype.tz)
            elif pd.api.types.is_datetime64_dtype(dtype):
                zones[name] = None
        if None in zones.values() and any(zones.values()):
            aware = next(n for n, z in zones.items() if z)
            naive = next(n for n, z in zones.items() if z is None)
            raise ValueError(
                f"column {f!r} holds datetimes with a time zone ({zones[aware]}) in {aware} and without one in {naive}; "
                f"give both the same kind (Series.dt.tz_localize or .dt.tz_convert(None))."
            )


#: Tables with fewer cells than this (all tables together) are encoded on the calling thread.
INLINE_CELLS = 200_000


class _Inline:
    """An executor that runs each job when it is submitted (``ThreadPoolExecutor``'s interface)."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn: Any, *args: Any) -> Future:
        done: Future = Future()
        done.set_result(fn(*args))
        return done


def _next_pow2(n: int) -> int:
    return 1 << max(n - 1, 0).bit_length()


def encode_tables(
    tables: Sequence[pd.DataFrame],
    spec: TabularDataSpec,
    *,
    names: Sequence[str] | None = None,
    dtype: np.dtype | type = np.float64,
    pad_to: int | Sequence[int | None] | None = None,
    unseen_slots: tuple[int, ...] | None = None,
) -> tuple[Layout, list[EncodedTable]]:
    """Encode several tables against one vocabulary, in one vectorised pass per column.

    Args:
      tables: DataFrames holding the spec's features; extra columns are ignored.
      spec: the data spec; categories are matched as strings (``astype(str)``).
      names: how errors refer to each table (default ``"table 0"``, ...).
      dtype: float dtype of ``cts`` (float64 for reference parity, float32 for training).
      pad_to: pad every table (or each, given a list) to this many rows with ``valid=False`` rows.
      unseen_slots: fix ``U_j`` (default: distinct unseen values, rounded up to a power of two).

    Returns:
      The shared ``Layout`` and one ``EncodedTable`` of numpy arrays per table.

    Raises:
      ValueError: empty table, missing feature, non-numeric or infinite continuous values.
    """
    names = list(names) if names is not None else [f"table {i}" for i in range(len(tables))]
    tables = [_check_table(df, spec, name) for df, name in zip(tables, names, strict=True)]
    _check_time_zones(tables, names, spec)
    pads = list(pad_to) if isinstance(pad_to, Sequence) else [pad_to] * len(tables)
    if together := _encode_together(tables, spec, pads, dtype, unseen_slots):
        return together
    return _encode_each(tables, spec, names, dtype, pads, unseen_slots)


#: ``encode_tables`` concatenates 3 or more same-typed tables of at most this many rows on
#: average before encoding them (``_encode_together``).
TOGETHER_ROWS = 20_000


def _encode_together(
    tables: list[pd.DataFrame], spec: TabularDataSpec, pads: list[int | None], dtype: Any, unseen_slots: Any
) -> tuple[Layout, list[EncodedTable]] | None:
    """``encode_tables`` through ONE concatenated table when there are several small tables
    (``TOGETHER_ROWS``) with the same columns and dtypes: one job per column instead of one per
    column and table (33 tables of 10k rows: 33 instead of 51 ms; 3 of 2,000: 1.8 instead of 2.1
    ms; two tables of 200k rows would take 34 instead of 21 ms, the copy outweighing the jobs). The
    codes are the same (unseen values numbered in table order, then row order, either way).
    ``None`` (encode table by table, whose errors name the table) for fewer than 3 tables, large
    ones, tables that differ, a bad value or a short ``pad``."""
    first = tables[0]
    if len(tables) < 3 or sum(map(len, tables)) > TOGETHER_ROWS * len(tables) or first.columns.has_duplicates or any(
        not (df.columns.equals(first.columns) and df.dtypes.equals(first.dtypes)) for df in tables[1:]
    ) or any(p is not None and int(p) < len(df) for df, p in zip(tables, pads, strict=True)):
        return None
    try:
        layout, (whole,) = _encode_each([pd.concat(tables, ignore_index=True)], spec, ["tables"], dtype, [None], unseen_slots)
    except ValueError:
        return None
    out, start = [], 0
    for df, pad in zip(tables, pads, strict=True):
        n = len(df)
        rows = n if pad is None else int(pad)
        parts = []
        for x in whole:  # cts, cts_missing, cat, valid: the table's rows, then padding (valid False)
            if rows == n:  # no padding: a view of the rows (``stack_tables`` then copies nothing)
                parts.append(x[start : start + n])
                continue
            part = _zeros((rows, *x.shape[1:]), x.dtype)
            part[:n] = x[start : start + n]
            parts.append(part)
        out.append(EncodedTable(*parts))
        start += n
    return layout, out


def stack_tables(tables: Sequence[EncodedTable]) -> EncodedTable:
    """Same-shape encoded tables stacked on a new leading axis (``np.stack`` of each array), or,
    when they are consecutive rows of one array (small tables that ``encode_tables`` encoded
    together), a view of those rows: no copy."""

    def stack(*xs: np.ndarray) -> np.ndarray:
        first, size = xs[0], xs[0].nbytes
        base = first.base if first.base is not None else first
        if first.flags.c_contiguous and all(
            x.base is base and x.flags.c_contiguous and x.ctypes.data == first.ctypes.data + i * size
            for i, x in enumerate(xs)
        ):
            return np.lib.stride_tricks.as_strided(first, (len(xs), *first.shape), (size, *first.strides), writeable=False)
        return np.stack(xs)

    return EncodedTable(*(stack(*xs) for xs in zip(*tables, strict=True)))


def _encode_each(
    tables: list[pd.DataFrame], spec: TabularDataSpec, names: list[str], dtype: Any, pads: list[int | None],
    unseen_slots: Any,
) -> tuple[Layout, list[EncodedTable]]:
    """``encode_tables`` of checked tables, each column of each table one job."""
    sizes = [len(df) for df in tables]
    out = []
    for n, name, pad in zip(sizes, names, pads, strict=True):
        rows = n if pad is None else int(pad)
        if rows < n:
            raise ValueError(f"pad_to={pad} is smaller than the {n} rows of {name}.")
        valid = _zeros((rows,), bool)
        valid[:n] = True
        dc, dk = spec.n_cts_features, spec.n_cat_features
        out.append(EncodedTable(_zeros((rows, dc), dtype), _zeros((rows, dc), bool), _zeros((rows, dk), np.int32), valid))
    # Columns are independent: convert them on a thread pool, each job writing its column of
    # the output arrays (pandas, arrow and numpy release the GIL in these loops); small tables
    # inline, where starting and joining threads costs more than it saves.
    cells = sum(sizes) * len(spec.features)
    pool_of = _Inline if cells < INLINE_CELLS else lambda: ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1))
    with pool_of() as pool:
        fast_jobs = {
            f: [pool.submit(_vocab_codes, df[f], spec.cat_unique_map[f], t.cat[:n, j]) for df, t, n in zip(tables, out, sizes, strict=True)]
            for j, f in enumerate(spec.cat_features)
        }
        cts_jobs = [
            pool.submit(_continuous, df[f], name, t.cts[:n, i], t.cts_missing[:n, i])
            for df, name, t, n in zip(tables, names, out, sizes, strict=True)
            for i, f in enumerate(spec.cts_features)
        ]
        # columns with a value outside the vocabulary (in any table) are factorized, so that
        # each distinct unseen value gets its own code across all the tables
        slow = [f for f, jobs in fast_jobs.items() if not all([job.result() for job in jobs])]
        cat_jobs = {f: [pool.submit(_factorize, df[f]) for df in tables] for f in slow}
        factorized = {f: [job.result() for job in jobs] for f, jobs in cat_jobs.items()}
        for job in cts_jobs:
            job.result()
    unseen: dict[str, dict[str, int]] = {f: {} for f in spec.cat_features}
    for f in slow:
        vocab, seen = {category_name(c) for c in spec.cat_unique_map[f]}, unseen[f]
        for _, uniques in factorized[f]:
            for u in uniques:
                if u not in vocab and u not in seen:
                    seen[u] = len(seen)
    slots = unseen_slots or tuple(_next_pow2(max(len(unseen[f]), 1)) for f in spec.cat_features)
    layout = Layout.from_spec(spec, slots)
    for i, (t, n) in enumerate(zip(out, sizes, strict=True)):
        for j, f in enumerate(spec.cat_features):
            if f in factorized:
                codes, uniques = factorized[f][i]
                k, last = layout.vocab_sizes[j], layout.n_categories[j] - 1
                index: dict[str, int] = {}
                for code, c in enumerate(spec.cat_unique_map[f]):
                    index.setdefault(category_name(c), code)
                lookup = [index[u] if u in index else min(k + 1 + unseen[f][u], last) for u in uniques]
                t.cat[:n, j] = np.asarray(lookup + [k + MISSING], np.int32)[codes]  # code -1 -> missing
    return layout, out


def encode(
    df: pd.DataFrame,
    spec: TabularDataSpec,
    *,
    name: str = "table",
    dtype: np.dtype | type = np.float64,
    pad_to: int | None = None,
    unseen_slots: tuple[int, ...] | None = None,
) -> EncodedTable:
    """Encode one table (see ``encode_tables``; use that to encode tables that are compared)."""
    return encode_tables([df], spec, names=[name], dtype=dtype, pad_to=pad_to, unseen_slots=unseen_slots)[1][0]


def unseen_categories(df: pd.DataFrame, spec: TabularDataSpec, features: Sequence[str] | None = None) -> dict[str, list[str]]:
    """``{categorical feature: [values outside the spec's vocabulary]}`` of ``df`` (of ``features``,
    default all; those with none left out), each value once, named and ordered as ``encode_tables``
    numbers them."""
    out = {}
    for f in spec.cat_features if features is None else features:
        if _vocab_codes(df[f], spec.cat_unique_map[f], np.empty(len(df), np.int32)):
            continue
        vocab = {category_name(c) for c in spec.cat_unique_map[f]}
        if new := [u for u in _factorize(df[f])[1] if u not in vocab]:
            out[f] = new
    return out


def decode_categories(codes: np.ndarray, vocabulary: tuple[str, ...]) -> np.ndarray:
    """Inverse of the categorical coding: strings, ``None`` for missing/unseen codes."""
    codes = np.asarray(codes)
    table = np.array(list(vocabulary) + [None], dtype=object)
    return table[np.minimum(codes, len(vocabulary))]


def column_problems(layout: Layout, tables: Sequence[EncodedTable], names: Sequence[str]) -> dict[str, str]:
    """Why a feature's results can be NaN: ``{feature: reason}`` for the features of encoded
    ``tables`` that have no values, no value among the spec's categories, fewer than two values
    (a standard deviation needs two) or one value repeated (a correlation needs two distinct);
    features without a problem are left out.

    Host-side and cheap (counts over the codes); plans call it only when a result is not finite.

    Example:
      >>> spec = TabularDataSpec.from_df(pd.DataFrame({"x": [1.0, float("nan")], "k": ["a", "b"]}))
      >>> layout, tables = encode_tables([pd.DataFrame({"x": [float("nan")] * 2, "k": ["c", "c"]})], spec, names=["synthetic"])
      >>> column_problems(layout, tables, ["synthetic"])["x"]
      "synthetic column 'x' has no values (all 2 are missing)"
    """
    summaries = []
    for t in tables:
        valid = np.asarray(t.valid, bool)
        codes = np.asarray(t.cat)[valid]
        present = ~np.asarray(t.cts_missing, bool) & valid[:, None]
        cts = np.asarray(t.cts)
        with np.errstate(invalid="ignore"):
            lo, hi = np.where(present, cts, np.inf).min(axis=0), np.where(present, cts, -np.inf).max(axis=0)
        summaries.append((
            int(valid.sum()),
            present.sum(axis=0).tolist(),
            [int((codes[:, j] != k + MISSING).sum()) for j, k in enumerate(layout.vocab_sizes)],
            [int((codes[:, j] < k).sum()) for j, k in enumerate(layout.vocab_sizes)],
            [float(v) if v == h else None for v, h in zip(lo.tolist(), hi.tolist(), strict=True)],
        ))  # fmt: skip
    return problems_from_counts(layout, summaries, names)


def problems_from_counts(layout: Layout, summaries: Sequence[tuple], names: Sequence[str]) -> dict[str, str]:
    """``column_problems`` from counts: per table ``(rows, present values per continuous column,
    non-missing values per categorical column, values among the spec's categories per categorical
    column[, the value of each continuous column whose present values are all equal, else None])``
    (what a stream of batches adds up)."""
    problems: dict[str, list[str]] = {}
    for f, k in zip(layout.cat_features, layout.vocab_sizes, strict=True):
        if k == 0:
            problems.setdefault(f, []).append(f"the spec lists no categories for {f!r}")
    for summary, name in zip(summaries, names, strict=True):
        rows, present, non_missing, in_vocab = summary[:4]
        constant = summary[4] if len(summary) > 4 else [None] * len(present)
        for f, n, value in zip(layout.cts_features, present, constant, strict=True):
            if n == 0:
                problems.setdefault(f, []).append(f"{name} column {f!r} has no values (all {rows} are missing)")
            elif n < 2:
                problems.setdefault(f, []).append(f"{name} column {f!r} has only {n} value (spreads need 2)")
            elif value is not None:
                problems.setdefault(f, []).append(
                    f"{name} column {f!r} holds one value ({value:g}) in all {n} rows (a correlation needs two)")
        for f, k, filled, known in zip(layout.cat_features, layout.vocab_sizes, non_missing, in_vocab, strict=True):
            if k == 0:
                continue
            if not filled:
                problems.setdefault(f, []).append(f"{name} column {f!r} has no values (all {rows} are missing)")
            elif not known:
                problems.setdefault(f, []).append(f"{name} column {f!r} holds only values outside the spec's categories")
    return {f: "; ".join(reasons) for f, reasons in problems.items()}


def missing_columns_note(df: pd.DataFrame) -> str:
    """Which columns leave a table without complete rows, as a clause to end an error message:
    the columns with no value at all, else the three with the most missing values.

    Example:
      >>> missing_columns_note(pd.DataFrame({"a": [1, None], "b": [None, None]}))
      "; column 'b' has no values at all: drop it (or fill it) first"
    """
    missing = df.isna().sum()
    empty = [str(c) for c, n in missing.items() if n == len(df)]
    if empty:
        names = ", ".join(repr(c) for c in empty)
        return f"; column{'s' if len(empty) > 1 else ''} {names} {'have' if len(empty) > 1 else 'has'} no values at all: drop {'them' if len(empty) > 1 else 'it'} (or fill {'them' if len(empty) > 1 else 'it'}) first"
    worst = missing[missing > 0].sort_values(ascending=False).head(3)
    if worst.empty:
        return ""
    return "; most missing: " + ", ".join(f"{str(c)!r} ({n} of {len(df)})" for c, n in worst.items())
