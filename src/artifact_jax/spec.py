"""Data specs: which columns are continuous or categorical, and the categories of each.

``TabularDataSpec`` follows artifact-core's ``TabularDataSpec`` (spec section 2.1):

* declared feature lists win over dtype inference, and every column that is not
  declared is auto-included by dtype (numeric -> continuous, anything else ->
  categorical);
* categories are strings in first-appearance order (``series.dropna().astype(str).unique()``);
* the feature order is the DataFrame's column order;
* the JSON layout is the reference's: ``{"continuous": {name: {"dtype": ...}},
  "categorical": {name: {"dtype": ..., "ls_categories": [...]}}, "features_order": [...]}``.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from artifact_jax import arrow_codes
from artifact_jax.lazy import is_pandas, pd

# Dtype names of the reference's TABULAR_DATA_TYPE_REGISTRY (spec 2.1); the pandas ones are
# ``pandas.<name>`` for each of _PANDAS_TYPES, keyed by type in ``_names()`` once pandas is in use.
_DTYPE_NAMES: dict[Any, str] = {
    int: "int",
    float: "float",
    str: "str",
    bool: "bool",
    object: "object",
    datetime.date: "datetime.date",
    datetime.datetime: "datetime.datetime",
    np.object_: "numpy.object_",
    np.int8: "numpy.int8",
    np.int16: "numpy.int16",
    np.int32: "numpy.int32",
    np.int64: "numpy.int64",
    np.uint8: "numpy.uint8",
    np.uint16: "numpy.uint16",
    np.uint32: "numpy.uint32",
    np.uint64: "numpy.uint64",
    np.float16: "numpy.float16",
    np.float32: "numpy.float32",
    np.float64: "numpy.float64",
    np.bool_: "numpy.bool_",
    np.str_: "numpy.str_",
    np.datetime64: "numpy.datetime64",
}
_PANDAS_TYPES = ("CategoricalDtype", "DatetimeTZDtype", "PeriodDtype", "StringDtype", "Timestamp",
                 "DatetimeIndex", "Timedelta", "TimedeltaIndex")
#: Every dtype name a spec may record ("numpy.bool" and "pandas.CategoricalDtypeType" are aliases).
_KNOWN_DTYPES = frozenset([*_DTYPE_NAMES.values(), *(f"pandas.{t}" for t in _PANDAS_TYPES),
                           "numpy.bool", "pandas.CategoricalDtypeType"])


@functools.cache
def _names() -> dict[Any, str]:
    """``_DTYPE_NAMES`` with the pandas types (pandas is imported here, on first use)."""
    return {**_DTYPE_NAMES, **{getattr(pd, t): f"pandas.{t}" for t in _PANDAS_TYPES}}


def dtype_name(dtype_type: Any) -> str:
    """The reference's registry name of a column's scalar type (e.g. ``"numpy.int64"``)."""
    if dtype_type in _names():
        return _names()[dtype_type]
    if isinstance(dtype_type, type) and issubclass(dtype_type, pd.api.extensions.ExtensionDtype):
        return "object"
    name = getattr(dtype_type, "__name__", repr(dtype_type))
    raise ValueError(f"Unsupported column dtype {name!r}; known: {', '.join(sorted(_KNOWN_DTYPES))}.")


def _scalar_type(series: pd.Series) -> Any:
    """``series.dtype.type`` as the reference records it."""
    if isinstance(series.dtype, pd.StringDtype):  # pandas 3 text columns: object in pandas 2
        return np.object_
    t = series.dtype.type
    if t not in _names():  # e.g. pandas CategoricalDtypeType
        return str if isinstance(series.dtype, pd.CategoricalDtype) else object
    return t


#: A number written with a zero fraction ("1.0", "-0.0", "1e+16"): the category of the integer.
_INTEGRAL_NUMBER = re.compile(r"[+-]?\d+\.0*|[+-]?\d+(\.\d*)?[eE][+-]?\d+")


def category_name(text: str) -> str:
    """The category a value's string means: an integral float is the integer.

    Categories are compared as strings (the reference's ``astype(str)``), with one rule on
    top: a number written with a zero fractional part names the integer's category, so
    ``1``, ``1.0`` and ``"1.0"`` are all the category ``"1"`` (an integer column read as
    float because of a missing value, compared with one read as int, share categories).
    Anything else, ``"1.5"`` or ``"01"`` included, is kept as written.

    Example:
      >>> category_name("1.0"), category_name("-0.0"), category_name("1.5"), category_name("a")
      ('1', '0', '1.5', 'a')
    """
    if _INTEGRAL_NUMBER.fullmatch(text):
        value = float(text)
        if value.is_integer():
            return str(int(value))
    return text


def datetime_features(spec: Any) -> set[str]:
    """The continuous features of ``spec`` (or ``None``) that hold datetimes (compared as
    nanoseconds since the epoch)."""
    dtypes = getattr(spec, "cts_dtypes", None) or {}
    return {f for f, d in dtypes.items() if "datetime64" in str(d)}


def category_strings(values: Any) -> list[str]:
    """``category_name(str(v))`` of each value (floats without the regex pass)."""
    array = np.asarray(values)
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        integral = finite & (array == np.round(np.where(finite, array, 0.0)))
        return [str(int(v)) if i else str(v) for v, i in zip(array.tolist(), integral.tolist(), strict=True)]
    if array.dtype.kind in "iub":
        return [str(v) for v in array.tolist()]
    return [category_name(str(v)) for v in array.tolist()]


def _categories(series: pd.Series) -> list[str]:
    """Strings of the non-null values, in first-appearance order (the reference's
    ``series.dropna().astype(str).unique()``, each string passed through ``category_name``:
    an integral float is its integer, ``1.0`` -> ``"1"``).

    The distinct values are found first (one hash pass) and only they are turned into strings.
    That is the same list unless two distinct values are equal as keys but not as strings
    (``True`` and ``1`` in an object column): such columns take the reference's path.
    """
    if (array := arrow_codes.strings(series)) is not None:  # one pass that encoding reuses
        return list(dict.fromkeys(category_name(v) for v in arrow_codes.dictionary(array)))
    uniques = pd.Series(pd.unique(series), dtype=series.dtype).dropna()
    dtype = series.dtype
    exact = (
        isinstance(dtype, pd.StringDtype | pd.CategoricalDtype)
        or pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype)
        or pd.api.types.is_float_dtype(dtype)
        or (pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(uniques, skipna=False) in ("string", "empty"))
    )  # fmt: skip
    if not exact:
        strings = pd.unique(series.dropna().astype(str).to_numpy(dtype=object))
        return list(dict.fromkeys(category_name(v) for v in strings))
    if pd.api.types.is_float_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        return list(dict.fromkeys(category_strings(uniques.to_numpy(dtype=np.float64))))
    strings = uniques.astype(str).tolist()
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return list(dict.fromkeys(strings))
    return list(dict.fromkeys(category_name(v) for v in strings))


def as_pandas(df: Any, arg: str) -> pd.DataFrame:
    """``df`` as a pandas DataFrame: pandas as is, a Polars DataFrame or an Arrow Table through
    its ``to_pandas()``; anything else is a ``ValueError`` naming ``arg``."""
    if is_pandas(df, "DataFrame"):
        return df
    module = type(df).__module__.split(".")[0]
    if module in ("polars", "pyarrow") and hasattr(df, "to_pandas"):
        try:
            return df.to_pandas()
        except Exception as e:  # e.g. polars without pyarrow
            raise ValueError(f"{arg}: could not convert the {module} {type(df).__name__} to pandas "
                             f"({e}); convert it with .to_pandas() first.") from e
    raise ValueError(f"{arg} must be a pandas DataFrame (or a Polars DataFrame / Arrow Table, "
                     f"converted with .to_pandas()), got {module}.{type(df).__name__}.")


def _read_json(path_or_text: str | Path, what: str) -> Any:
    """The JSON of a ``{...}`` text or of a file (``.json`` suffix forced, as the reference)."""
    text = str(path_or_text)
    if not text.lstrip().startswith("{"):
        path = Path(path_or_text).with_suffix(".json")
        if not path.is_file():
            also = f" (read as {str(path)!r})" if str(path) != str(path_or_text) else ""
            raise ValueError(f"{what} file {str(path_or_text)!r} does not exist{also}.")
        text = path.read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{what} file {str(path_or_text)[:200]!r} is not valid JSON: {e}.") from e


def _check_names(value: Sequence[str] | None, arg: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        raise ValueError(f"{arg} must be a list of column names, got the string {value!r}.")
    names = [str(v) for v in value]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"{arg} lists columns more than once: {dup}.")
    return names


@dataclass(frozen=True)
class TabularDataSpec:
    """Continuous and categorical features of a table, in column order.

    Attributes:
      features: every feature, in the table's column order.
      cts_dtypes: ``{continuous feature: dtype name}`` (reference registry names).
      cat_dtypes: ``{categorical feature: dtype name}``.
      cat_unique_map: ``{categorical feature: [category strings]}`` in first-appearance order.

    Example:
      >>> import pandas as pd
      >>> df = pd.DataFrame({"age": [31, 40], "sex": ["M", "F"]})
      >>> TabularDataSpec.from_df(df).cat_unique_map
      {'sex': ('M', 'F')}
    """

    features: tuple[str, ...]
    cts_dtypes: Mapping[str, str]
    cat_dtypes: Mapping[str, str]
    cat_unique_map: Mapping[str, tuple[str, ...]]

    def __post_init__(self):
        cts, cat = set(self.cts_dtypes), set(self.cat_dtypes)
        overlap = sorted(cts & cat)
        if overlap:
            raise ValueError(f"Continuous and categorical features overlap: {overlap}.")
        if set(self.features) != cts | cat or len(self.features) != len(cts | cat):
            raise ValueError(
                f"features {list(self.features)} must list each continuous and categorical feature once."
            )
        if set(self.cat_unique_map) != cat:
            raise ValueError("cat_unique_map must have exactly the categorical features as keys.")
        for f, cats in self.cat_unique_map.items():
            if len(set(cats)) != len(cats) or not all(isinstance(c, str) for c in cats):
                raise ValueError(f"Categories of {f!r} must be unique strings, got {list(cats)}.")
        object.__setattr__(self, "cat_unique_map", {f: tuple(self.cat_unique_map[f]) for f in self.cat_features})

    def __hash__(self) -> int:
        return hash(self.to_json())

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_df(
        cls,
        df: pd.DataFrame,
        cts_features: Sequence[str] | None = None,
        cat_features: Sequence[str] | None = None,
    ) -> TabularDataSpec:
        """Infer a spec from a table; declared lists win, other columns go by dtype.

        ``set_cts = (inferred_cts - declared_cat) | declared_cts`` and symmetrically for the
        categorical set, where a column is inferred continuous iff
        ``pd.api.types.is_numeric_dtype`` (booleans included, as in pandas).
        """
        df = as_pandas(df, "from_df's df")
        cts_decl = _check_names(cts_features, "cts_features")
        cat_decl = _check_names(cat_features, "cat_features")
        overlap = sorted(set(cts_decl) & set(cat_decl))
        if overlap:
            raise ValueError(f"Continuous and categorical features overlap: {overlap}.")
        columns = [str(c) for c in df.columns]
        repeated = sorted({c for c in columns if columns.count(c) > 1}) if len(set(columns)) < len(columns) else []
        if repeated:
            raise ValueError(f"The table has duplicate column names {repeated}; rename them (each feature needs one column).")
        missing = [f for f in cts_decl + cat_decl if f not in columns]
        if missing:
            raise ValueError(f"Declared features not in the table: {missing}; columns are {columns}.")
        df = df.set_axis(columns, axis=1)
        cts_dtypes: dict[str, str] = {}
        cat_dtypes: dict[str, str] = {}
        for name in columns:
            numeric = pd.api.types.is_numeric_dtype(df[name].dtype)
            kind = cts_dtypes if name in cts_decl or (numeric and name not in cat_decl) else cat_dtypes
            kind[name] = dtype_name(_scalar_type(df[name]))
        # the vocabularies are hash passes that release the GIL (arrow, pandas): one thread a column
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            cat_map = dict(zip(cat_dtypes, pool.map(lambda f: tuple(_categories(df[f])), cat_dtypes), strict=True))
        return cls(tuple(columns), cts_dtypes, cat_dtypes, cat_map)

    # ---- views --------------------------------------------------------------------------
    @property
    def cts_features(self) -> list[str]:
        """Continuous features in ``features`` order."""
        return [f for f in self.features if f in self.cts_dtypes]

    @property
    def cat_features(self) -> list[str]:
        """Categorical features in ``features`` order."""
        return [f for f in self.features if f in self.cat_dtypes]

    @property
    def n_features(self) -> int:
        """Number of features."""
        return len(self.features)

    @property
    def n_cts_features(self) -> int:
        """Number of continuous features."""
        return len(self.cts_dtypes)

    @property
    def n_cat_features(self) -> int:
        """Number of categorical features."""
        return len(self.cat_dtypes)

    @property
    def cat_unique_count_map(self) -> dict[str, int]:
        """``{categorical feature: number of categories}``."""
        return {f: len(c) for f, c in self.cat_unique_map.items()}

    @property
    def seq_n_cat(self) -> list[int]:
        """Number of categories of each categorical feature, in order."""
        return [len(self.cat_unique_map[f]) for f in self.cat_features]

    def get_unique_categories(self, feature: str) -> list[str]:
        """Categories of one categorical feature."""
        if feature not in self.cat_unique_map:
            raise ValueError(f"{feature!r} is not a categorical feature; those are {self.cat_features}.")
        return list(self.cat_unique_map[feature])

    def get_n_unique_categories(self, feature: str) -> int:
        """Number of categories of one categorical feature."""
        return len(self.get_unique_categories(feature))

    # ---- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The reference's JSON layout."""
        return {
            "continuous": {f: {"dtype": self.cts_dtypes[f]} for f in self.cts_features},
            "categorical": {
                f: {"dtype": self.cat_dtypes[f], "ls_categories": list(self.cat_unique_map[f])}
                for f in self.cat_features
            },
            "features_order": list(self.features),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TabularDataSpec:
        """Read the reference's JSON layout (``to_dict``)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"Spec JSON must be an object with 'continuous', 'categorical' and 'features_order', got {type(data).__name__}.")
        for key in ("continuous", "categorical", "features_order"):
            if key not in data:
                raise ValueError(f"Spec JSON lacks the key {key!r}.")
        for section in ("continuous", "categorical"):
            for f, entry in data[section].items():
                if entry.get("dtype") not in _KNOWN_DTYPES:
                    raise ValueError(f"Feature {f!r} has unknown dtype {entry.get('dtype')!r}.")
        return cls(
            tuple(data["features_order"]),
            {f: e["dtype"] for f, e in data["continuous"].items()},
            {f: e["dtype"] for f, e in data["categorical"].items()},
            {f: tuple(e.get("ls_categories", ())) for f, e in data["categorical"].items()},
        )

    def to_json(self, path: str | Path | None = None) -> str:
        """The JSON text; also written to ``path`` (``.json`` suffix forced, as the reference)."""
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            Path(path).with_suffix(".json").write_text(text)
        return text

    @classmethod
    def from_json(cls, path_or_text: str | Path) -> TabularDataSpec:
        """Read a spec written by ``to_json`` or by artifact-core's ``export``."""
        return cls.from_dict(_read_json(path_or_text, "spec"))

    # ---- SDV metadata -------------------------------------------------------------------
    @classmethod
    def from_sdv(cls, metadata: Mapping[str, Any] | str | Path, data: Any = None) -> TabularDataSpec:
        """A spec from SDV single-table metadata (a dict, its JSON text or a ``.json`` path).

        ``{"columns": {name: {"sdtype": ...}}}``; the multi-table form ``{"tables": {name:
        {...}}}`` is accepted when it holds one table. Column kinds: ``"numerical"`` and
        ``"datetime"`` are continuous (datetimes as nanoseconds since the epoch); ``"categorical"``,
        ``"ordinal"`` and ``"boolean"`` are categorical. ``"id"`` columns (keys) and the
        PII sdtypes (``"email"``, ``"phone_number"``, ...) are NOT features: they identify rows
        and carry no distribution to compare, so they are left out (SDMetrics' quality report
        skips them too; its ``KeyUniqueness`` check of a primary key has no counterpart here).

        Categories (and pandas dtypes) come from ``data`` when it is given (as ``from_df``
        infers them, restricted to the metadata's features); else from the ``"artifact_jax"``
        entry that ``to_sdv`` writes, so ``from_sdv(spec.to_sdv()) == spec``. A categorical
        column with neither is a ``ValueError`` naming it.

        Example:
          >>> meta = {"columns": {"id": {"sdtype": "id"}, "age": {"sdtype": "numerical"},
          ...                     "sex": {"sdtype": "categorical"}}}
          >>> TabularDataSpec.from_sdv(meta, pd.DataFrame({"id": [1, 2], "age": [30, 41], "sex": ["F", "M"]})).features
          ('age', 'sex')
        """
        meta = _read_json(metadata, "SDV metadata") if isinstance(metadata, str | Path) else metadata
        if not isinstance(meta, Mapping):
            raise ValueError(f"metadata must be an SDV metadata dict, JSON text or path, got {type(meta).__name__}.")
        if "tables" in meta:
            tables = meta["tables"]
            if not isinstance(tables, Mapping) or len(tables) != 1:
                names = list(tables) if isinstance(tables, Mapping) else tables
                raise ValueError(f"metadata describes {len(names)} tables {names}; a TabularDataSpec is one table: "
                                 f"pass metadata['tables'][name].")
            meta = next(iter(tables.values()))
        columns = meta.get("columns") if isinstance(meta, Mapping) else None
        if not isinstance(columns, Mapping) or not columns:
            raise ValueError("metadata lacks a non-empty 'columns' mapping {name: {'sdtype': ...}}.")
        cts, cat = [], []
        for name, column in columns.items():
            sdtype = column.get("sdtype") if isinstance(column, Mapping) else None
            if not isinstance(sdtype, str):
                raise ValueError(f"metadata column {name!r} has no 'sdtype' (one of {', '.join(_SDV_KINDS)}, 'id', ...).")
            kind = _SDV_KINDS.get(sdtype)
            if kind is not None:
                (cts if kind == "cts" else cat).append(str(name))
        features = [str(n) for n in columns if str(n) in cts or str(n) in cat]
        if not features:
            raise ValueError(f"metadata has no numerical, datetime, categorical or boolean column: {dict(columns)}.")
        if data is not None:
            df = as_pandas(data, "data")
            missing = [f for f in features if f not in {str(c) for c in df.columns}]
            if missing:
                raise ValueError(f"data lacks the metadata's columns {missing}; its columns are {list(df.columns)}.")
            df = df.set_axis([str(c) for c in df.columns], axis=1)[features]
            return cls.from_df(df, cts_features=cts, cat_features=cat)
        extra = meta.get("artifact_jax", {})
        dtypes, categories = extra.get("dtypes", {}), extra.get("categories", {})
        lacking = [f for f in cat if f not in categories]
        if lacking:
            raise ValueError(f"categorical columns {lacking} have no categories in the metadata: pass data= "
                             f"(a table holding them) to infer them.")
        def dtype(f: str) -> str:
            if f in dtypes:
                return dtypes[f]
            column = columns[f]
            if column["sdtype"] == "datetime":
                return "numpy.datetime64"
            if column["sdtype"] == "boolean":
                return "numpy.bool_"
            if column["sdtype"] == "numerical":
                return _SDV_NUMBERS.get(column.get("computer_representation", "Float"), "numpy.float64")
            return "str"
        for f in features:
            if dtype(f) not in _KNOWN_DTYPES:
                raise ValueError(f"metadata column {f!r} has unknown dtype {dtype(f)!r}.")
        return cls(tuple(features), {f: dtype(f) for f in cts}, {f: dtype(f) for f in cat},
                   {f: tuple(str(c) for c in categories[f]) for f in cat})

    def to_sdv(self, *, extensions: bool = True) -> dict[str, Any]:
        """SDV single-table metadata (``"SINGLE_TABLE_V1"``) of the spec's features.

        Continuous features are ``"numerical"`` (``computer_representation`` from the dtype) or
        ``"datetime"`` (datetime dtypes); categorical ones ``"boolean"`` (bool dtypes) or
        ``"categorical"``. With ``extensions`` the exact dtypes and categories go under the
        top-level key ``"artifact_jax"`` (SDV and SDMetrics ignore it), so that ``from_sdv``
        gives this spec back.
        """
        columns: dict[str, dict[str, str]] = {}
        for f in self.features:
            if f in self.cts_dtypes:
                dtype = self.cts_dtypes[f]
                if "datetime" in dtype.lower() or "timestamp" in dtype.lower():
                    columns[f] = {"sdtype": "datetime"}
                else:
                    rep = next((r for r, d in _SDV_NUMBERS.items() if d == dtype), "Float")
                    columns[f] = {"sdtype": "numerical", "computer_representation": rep}
            else:
                columns[f] = {"sdtype": "boolean" if self.cat_dtypes[f] in ("bool", "numpy.bool_") else "categorical"}
        out: dict[str, Any] = {"METADATA_SPEC_VERSION": "SINGLE_TABLE_V1", "columns": columns}
        if extensions:
            out["artifact_jax"] = {
                "dtypes": {**dict(self.cts_dtypes), **dict(self.cat_dtypes)},
                "categories": {f: list(c) for f, c in self.cat_unique_map.items()},
            }
        return out


#: SDV sdtypes that are features, and their kind (``id`` and PII sdtypes are left out).
_SDV_KINDS = {"numerical": "cts", "datetime": "cts", "categorical": "cat", "ordinal": "cat", "boolean": "cat"}
#: SDV ``computer_representation`` of numerical columns <-> dtype names.
_SDV_NUMBERS = {
    "Float": "numpy.float64", "Int64": "numpy.int64", "Int32": "numpy.int32", "Int16": "numpy.int16",
    "Int8": "numpy.int8", "UInt64": "numpy.uint64", "UInt32": "numpy.uint32", "UInt16": "numpy.uint16",
    "UInt8": "numpy.uint8",
}


def _class_name(value: Any, arg: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | np.integer | np.bool_ | np.str_):
        return str(value)
    raise ValueError(f"{arg} must be a class name (a string), got {value!r} of type {type(value).__name__}.")


@dataclass(frozen=True, init=False)
class BinaryClassSpec:
    """The two class names of a binary label, which one is positive, and the label's name.

    Follows artifact-core's ``BinaryClassSpec`` (spec section 2.2): exactly two distinct
    names, ``positive_class`` one of them, the other the negative class; ``label_name``
    defaults to ``"label"``. The JSON layout is the reference's::

        {"label_name": "y", "categorical_spec": {"dtype": "str", "ls_categories": ["0", "1"]},
         "positive_class": "1"}

    Differs from the reference: integer or boolean class names are turned into strings with
    ``str()`` (the reference raises ``TypeError``; it applies ``str()`` to the labels it is
    given, so ``0``/``1`` labels need the names ``"0"``/``"1"`` there anyway).

    Args:
      class_names: the two class names, in order (the order fixes the class indices).
      positive_class: the name of the positive class.
      label_name: the name of the label column.

    Example:
      >>> spec = BinaryClassSpec(["0", "1"], positive_class="1")
      >>> spec.negative_class, spec.positive_class_idx
      ('0', 1)
    """

    class_names: tuple[str, ...]
    positive_class: str
    label_name: str

    def __init__(self, class_names: Sequence[str], positive_class: str, label_name: str | None = None):
        if isinstance(class_names, str) or not (isinstance(class_names, Sequence | np.ndarray) or is_pandas(class_names, "Index")):
            raise ValueError(f"class_names must be a list of two class names, got {class_names!r}.")
        names = tuple(_class_name(c, "class_names entry") for c in class_names)
        if len(names) != 2:
            raise ValueError(f"class_names must contain exactly 2 categories; got {len(names)}: {list(names)}.")
        if names[0] == names[1]:
            raise ValueError(f"class_names must contain two distinct categories; got {list(names)}.")
        positive = _class_name(positive_class, "positive_class")
        if positive not in names:
            raise ValueError(f"positive_class {positive!r} is not one of class_names {list(names)}.")
        object.__setattr__(self, "class_names", names)
        object.__setattr__(self, "positive_class", positive)
        object.__setattr__(self, "label_name", "label" if label_name is None else str(label_name))

    def __repr__(self) -> str:
        return (
            f"BinaryClassSpec(label_name={self.label_name!r}, classes={list(self.class_names)}, "
            f"positive_class={self.positive_class!r}, negative_class={self.negative_class!r})"
        )

    # ---- views --------------------------------------------------------------------------
    @property
    def n_classes(self) -> int:
        """Number of classes (always 2)."""
        return 2

    @property
    def negative_class(self) -> str:
        """The class that is not ``positive_class``."""
        return self.class_names[0] if self.class_names[1] == self.positive_class else self.class_names[1]

    @property
    def positive_class_idx(self) -> int:
        """Index of the positive class in ``class_names``."""
        return self.class_names.index(self.positive_class)

    @property
    def negative_class_idx(self) -> int:
        """Index of the negative class in ``class_names``."""
        return self.class_names.index(self.negative_class)

    def has_class(self, class_name: str) -> bool:
        """Whether ``class_name`` is one of the two classes."""
        return class_name in self.class_names

    def _require(self, class_name: str) -> str:
        if not self.has_class(class_name):
            raise ValueError(f"Unknown class {class_name!r}. Known classes: {list(self.class_names)}.")
        return class_name

    def get_class_idx(self, class_name: str) -> int:
        """Index of ``class_name`` in ``class_names`` (ValueError for an unknown name)."""
        return self.class_names.index(self._require(class_name))

    def is_positive(self, class_name: str) -> bool:
        """Whether ``class_name`` is the positive class (ValueError for an unknown name)."""
        return self._require(class_name) == self.positive_class

    def is_negative(self, class_name: str) -> bool:
        """Whether ``class_name`` is the negative class (ValueError for an unknown name)."""
        return self._require(class_name) == self.negative_class

    # ---- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The reference's JSON layout."""
        return {
            "label_name": self.label_name,
            "categorical_spec": {"dtype": "str", "ls_categories": list(self.class_names)},
            "positive_class": self.positive_class,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BinaryClassSpec:
        """Read the reference's JSON layout (``to_dict``)."""
        for key in ("label_name", "categorical_spec", "positive_class"):
            if key not in data:
                raise ValueError(f"BinaryClassSpec JSON lacks the key {key!r}.")
        cat = data["categorical_spec"]
        if not isinstance(cat, Mapping) or "ls_categories" not in cat:
            raise ValueError("BinaryClassSpec JSON: 'categorical_spec' must hold 'ls_categories'.")
        if cat.get("dtype", "str") not in _KNOWN_DTYPES:
            raise ValueError(f"BinaryClassSpec JSON: unknown dtype {cat.get('dtype')!r}.")
        return cls(cat["ls_categories"], data["positive_class"], data["label_name"])

    def to_json(self, path: str | Path | None = None) -> str:
        """The JSON text; also written to ``path`` (``.json`` suffix forced, as the reference)."""
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            Path(path).with_suffix(".json").write_text(text)
        return text

    @classmethod
    def from_json(cls, path_or_text: str | Path) -> BinaryClassSpec:
        """Read a spec written by ``to_json`` or by artifact-core's ``export``."""
        return cls.from_dict(_read_json(path_or_text, "spec"))
