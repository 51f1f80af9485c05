"""SDV metadata <-> TabularDataSpec, and Polars / Arrow tables giving their pandas twin's numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import artifact_jax as aj
from artifact_jax import table_comparison as tc

# SDV single-table metadata as SDV 1.x writes it (Metadata.to_dict / save_to_json)
SDV_JSON = """{
  "METADATA_SPEC_VERSION": "SINGLE_TABLE_V1",
  "primary_key": "guest_email",
  "columns": {
    "guest_email": {"sdtype": "email", "pii": true},
    "booking_id": {"sdtype": "id", "regex_format": "BK[0-9]{4}"},
    "has_rewards": {"sdtype": "boolean"},
    "room_type": {"sdtype": "categorical"},
    "checkin_date": {"sdtype": "datetime", "datetime_format": "%Y-%m-%d"},
    "amenities_fee": {"sdtype": "numerical", "computer_representation": "Float"},
    "nights": {"sdtype": "numerical", "computer_representation": "Int64"}
  }
}"""


def _table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "guest_email": [f"g{i}@x.org" for i in range(n)],
        "booking_id": [f"BK{i:04d}" for i in range(n)],
        "has_rewards": rng.random(n) < 0.3,
        "room_type": rng.choice(["BASIC", "DELUXE", "SUITE"], n),
        "checkin_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        "amenities_fee": np.where(rng.random(n) < 0.1, np.nan, rng.gamma(2.0, 10.0, n)),
        "nights": rng.integers(1, 15, n),
    })
    return df


def test_from_sdv_keeps_the_statistical_columns_and_round_trips(tmp_path):
    df = _table()
    spec = aj.TabularDataSpec.from_sdv(SDV_JSON, df)
    # id and PII columns (booking_id, guest_email) are not features; order is the metadata's
    assert spec.features == ("has_rewards", "room_type", "checkin_date", "amenities_fee", "nights")
    assert spec.cts_features == ["checkin_date", "amenities_fee", "nights"]
    assert spec.cat_unique_map["room_type"] == tuple(pd.unique(df["room_type"]))
    assert spec.cat_unique_map["has_rewards"] == tuple(str(v) for v in pd.unique(df["has_rewards"]))
    meta = spec.to_sdv()
    assert {c: m["sdtype"] for c, m in meta["columns"].items()} == {
        "has_rewards": "boolean", "room_type": "categorical", "checkin_date": "datetime",
        "amenities_fee": "numerical", "nights": "numerical",
    }
    assert meta["columns"]["nights"]["computer_representation"] == "Int64"
    # round trips: dict, JSON text, file, the multi-table form with one table
    assert aj.TabularDataSpec.from_sdv(meta) == spec
    assert aj.TabularDataSpec.from_sdv(json.dumps(meta)) == spec
    (tmp_path / "metadata.json").write_text(json.dumps(meta))
    assert aj.TabularDataSpec.from_sdv(tmp_path / "metadata.json") == spec
    assert aj.TabularDataSpec.from_sdv({"METADATA_SPEC_VERSION": "V1", "tables": {"hotel": meta}}) == spec
    assert aj.TabularDataSpec.from_sdv(spec.to_sdv(extensions=False), df) == spec  # plain SDV + data
    assert "artifact_jax" not in spec.to_sdv(extensions=False)


def test_from_sdv_errors_name_the_problem():
    with pytest.raises(ValueError, match="2 tables"):
        aj.TabularDataSpec.from_sdv({"tables": {"a": {"columns": {}}, "b": {"columns": {}}}})
    with pytest.raises(ValueError, match="'room_type'.*categories|categories.*room_type"):
        aj.TabularDataSpec.from_sdv(SDV_JSON)  # no data, no categories
    with pytest.raises(ValueError, match="'x' has no 'sdtype'"):
        aj.TabularDataSpec.from_sdv({"columns": {"x": {"type": "numerical"}}})
    with pytest.raises(ValueError, match="lacks the metadata's columns"):
        aj.TabularDataSpec.from_sdv(SDV_JSON, _table().drop(columns=["nights"]))
    with pytest.raises(ValueError, match="does not exist"):
        aj.TabularDataSpec.from_sdv("no/such/metadata.json")


def test_polars_and_arrow_tables_give_the_pandas_numbers():
    pl = pytest.importorskip("polars")
    real, synthetic = _table(seed=1), _table(seed=2)
    synthetic.loc[:5, "room_type"] = "PENTHOUSE"  # unseen
    synthetic.loc[6:9, "nights"] = 99  # out of range
    spec = aj.TabularDataSpec.from_sdv(SDV_JSON, real)
    plan = aj.TableComparisonPlan(
        scores=["MEAN_JS_DISTANCE", "CORRELATION_DISTANCE", "DIAGNOSTIC_SCORE"],
        score_collections=["JS_DISTANCE", "BOUNDARY_ADHERENCE", "CATEGORY_ADHERENCE", "MISSING_VALUE_SIMILARITY",
                           "UNSEEN_CATEGORY_SHARE"],
    )
    want = plan.run(real, synthetic, spec).to_dict()
    assert want["score_collections"]["UNSEEN_CATEGORY_SHARE"]["room_type"] == 6 / 400
    for convert in (pl.from_pandas, lambda df: pa.Table.from_pandas(df, preserve_index=False)):
        got = plan.run(convert(real), convert(synthetic), spec).to_dict()
        assert got == want
    assert aj.TabularDataSpec.from_sdv(SDV_JSON, pl.from_pandas(real)) == spec
    assert tc.compute("BOUNDARY_ADHERENCE", pl.from_pandas(real), pl.from_pandas(synthetic), spec)["nights"] == 1 - 4 / 400
