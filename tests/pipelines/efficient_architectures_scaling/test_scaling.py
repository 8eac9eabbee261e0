"""The compound-scaling plan: the equations of Tan & Le's section 3.3 and the equal-MACs rivals."""

from __future__ import annotations

import pandas as pd
import pytest

from dl_roadmap.pipelines.efficient_architectures_scaling import nodes
from dl_roadmap.pipelines.efficient_architectures_scaling.scaling import compound, macs_of, model_of, scaling_plan

BASE = {"arch": "efficientnet", "width": 0.25, "depth": 0.5, "resolution": 12, "stem_stride": 1}
SCALING = {"phi": 1.0, "alpha": 1.2, "beta": 1.1, "gamma": 1.15,
           "search": {"largest": {"depth": 3.0, "width": 1.6, "resolution": 1.6}, "steps": 6}}


def test_compound_scales_each_dimension_by_its_base_to_the_phi() -> None:
    scaled = compound(BASE, 2.0, 1.2, 1.1, 1.15)
    assert scaled["depth"] == pytest.approx(0.5 * 1.44)
    assert scaled["width"] == pytest.approx(0.25 * 1.21)
    assert scaled["resolution"] == round(12 * 1.15 ** 2)


def test_resolution_alone_grows_macs_about_quadratically() -> None:
    assert macs_of({**BASE, "resolution": 24}) / macs_of(BASE) == pytest.approx(4.0, rel=0.3)


@pytest.fixture(scope="module")
def plan() -> pd.DataFrame:
    return scaling_plan(BASE, SCALING)


def test_the_plan_scales_one_dimension_per_rival(plan) -> None:
    rows = plan.set_index("network")
    assert list(plan["network"]) == ["base", "compound", "depth only", "width only", "resolution only"]
    for name, moved in (("depth only", "depth"), ("width only", "width"), ("resolution only", "resolution")):
        for dimension in ("depth", "width", "resolution"):
            same = rows.loc[name, dimension] == rows.loc["base", dimension]
            assert same != (dimension == moved), (name, dimension)
    assert rows.loc["compound", "macs"] > rows.loc["base", "macs"]


def test_each_rival_is_the_candidate_closest_to_the_compound_cost(plan) -> None:
    rows = plan.set_index("network")
    target = rows.loc["compound", "macs"]
    depth = rows.loc["depth only", "depth"]
    # the neighbouring depth multipliers are no closer to the target
    for other in (depth - 0.2, depth + 0.2):
        if other > BASE["depth"]:
            assert abs(macs_of({**BASE, "depth": other}) - target) >= abs(rows.loc["depth only", "macs"] - target) - 1
    assert model_of(plan, "width only", BASE)["width"] == pytest.approx(rows.loc["width only", "width"])


def test_results_give_the_gain_over_the_base() -> None:
    rows = [{"network": "base", "test_acc": 0.80, "val_acc": 0.8, "macs": 1, "params": 1},
            {"network": "compound", "test_acc": 0.83, "val_acc": 0.8, "macs": 2, "params": 2}]
    table, metrics = nodes.results(*rows)
    assert table["gain_points"].tolist() == [0.0, 3.0]
    assert metrics["compound/test_acc"]["value"] == 0.83
    assert nodes.scaling_figure(table).axes
