"""Comparing two versions of a line: versions built from known edits, areas known by arithmetic.

Every expected area is the exact geodesic area (Karney's algorithm, ``pyproj.Geod``) of a
rectangle worked out by hand from the edit that made it; nothing is checked against
geozones' own output.
"""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely import Polygon, box

import geozones
from geozones.analysis.compare import VersionMatchWarning, check_adjustment, compare_versions
from geozones.errors import (
    CRSReprojectionWarning,
    FieldError,
    MissingCRSError,
    OutsideZonesWarning,
)

X, Y = 39_580_000.0, 3_150_000.0  # 80 km east of the central meridian of zone 39
MU = 2000.0 / 3.0


def karney(geom: shapely.Geometry) -> float:
    """The exact area on CGCS2000 (Karney's algorithm) of a polygon given in EPSG:4527."""
    to_lonlat = pyproj.Transformer.from_crs("EPSG:4527", "EPSG:4490", always_xy=True)
    lonlat = shapely.transform(geom, lambda xy: np.column_stack(to_lonlat.transform(*xy.T)))
    geod = pyproj.Geod(a=6378137.0, rf=298.257222101)
    return abs(geod.geometry_area_perimeter(shapely.orient_polygons(lonlat))[0])


def close(value: float, rel: float = 1e-9):
    """Equal to `rel`; Geod's per-edge rounding leaves ~1e-7 m² on small pieces (docs/area.md)."""
    return pytest.approx(value, rel=rel, abs=1e-6)


def b(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return box(X + x0, Y + y0, X + x1, Y + y1)


def frame(rows: list[tuple[str, str, int, Polygon]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "BSM": [r[0] for r in rows],
            "DLBM": [r[1] for r in rows],
            "GDDB": [r[2] for r in rows],
        },
        geometry=[r[3] for r in rows],
        crs="EPSG:4527",
    )


# The edits, one per parcel 100 m × 100 m, side by side along a row:
#   U  unchanged           R  removed            N  added (elsewhere, 150 m × 100 m, grade 7)
#   S  split in two (60 m | 40 m, the right part a new parcel S2)
#   M1, M2 (50 m each) merged into M1
#   G  shrunk: its northern 20 m taken (by a road)
#   T  one corner moved by 0.4 mm (less than the 1 mm tolerance): no change
#   T2 its eastern edge moved out by 0.5 m (more than the tolerance)
#   A  attributes only (DLBM 0101 → 0103)
#   ROT the same square, its ring starting at another vertex and running the other way
BEFORE = frame(
    [
        ("U", "0101", 5, b(0, 0, 100, 100)),
        ("R", "0101", 3, b(200, 0, 300, 100)),
        ("S", "0101", 4, b(400, 0, 500, 100)),
        ("M1", "0101", 6, b(600, 0, 650, 100)),
        ("M2", "0101", 6, b(650, 0, 700, 100)),
        ("G", "0101", 5, b(800, 0, 900, 100)),
        ("T", "0101", 5, b(1000, 0, 1100, 100)),
        ("T2", "0101", 5, b(1200, 0, 1300, 100)),
        ("A", "0101", 5, b(1400, 0, 1500, 100)),
        (
            "ROT",
            "0101",
            5,
            Polygon([(X + 1600, Y), (X + 1700, Y), (X + 1700, Y + 100), (X + 1600, Y + 100)]),
        ),
    ]
)
T_MOVED = Polygon([(X + 1000, Y), (X + 1100, Y), (X + 1100.0004, Y + 100), (X + 1000, Y + 100)])
AFTER = frame(
    [
        ("U", "0101", 5, b(0, 0, 100, 100)),
        ("N", "0101", 7, b(200, 300, 350, 400)),
        ("S", "0101", 4, b(400, 0, 460, 100)),
        ("S2", "0101", 4, b(460, 0, 500, 100)),
        ("M1", "0101", 6, b(600, 0, 700, 100)),
        ("G", "0101", 5, b(800, 0, 900, 80)),
        ("T", "0101", 5, T_MOVED),
        ("T2", "0101", 5, b(1200, 0, 1300.5, 100)),
        ("A", "0103", 5, b(1400, 0, 1500, 100)),
        (
            "ROT",
            "0101",
            5,
            Polygon([(X + 1700, Y + 100), (X + 1600, Y + 100), (X + 1600, Y), (X + 1700, Y)]),
        ),
    ]
)
EXPECTED = {  # status: (before ids, after ids)
    "removed": [(("R",), ())],
    "added": [((), ("N",))],
    "split": [(("S",), ("S", "S2"))],
    "merged": [(("M1", "M2"), ("M1",))],
    "changed_geometry": [(("G",), ("G",)), (("T2",), ("T2",))],
    "changed_attributes": [(("A",), ("A",))],
}
OUT = {"R": b(200, 0, 300, 100), "G": b(800, 80, 900, 100)}  # land taken out, by feature
IN = {"N": b(200, 300, 350, 400), "T2": b(1300, 0, 1300.5, 100)}  # land put in


def total(geoms: list[Polygon]) -> float:
    return math.fsum(karney(g) for g in geoms)


def found(diff: geozones.analysis.compare.VersionDiff) -> dict[str, list[tuple[tuple, tuple]]]:
    result: dict[str, list[tuple[tuple, tuple]]] = {}
    for row in diff.changes.itertuples():
        result.setdefault(row.status, []).append((tuple(row.before_ids), tuple(row.after_ids)))
    return {key: sorted(value) for key, value in result.items()}


def assert_identity(balance: pd.DataFrame, rel: float = 1e-9) -> None:
    """before - out + in + within_tolerance = after, to `rel` of the area, in every row."""
    lhs = balance["before"] - balance["out"] + balance["in"] + balance["within_tolerance"]
    scale = balance[["before", "after"]].abs().max(axis=1).clip(lower=1.0)
    assert ((lhs - balance["after"]).abs() <= rel * scale).all(), lhs - balance["after"]
    assert np.allclose(balance["net"], balance["after"] - balance["before"], rtol=0, atol=1e-9)


# --------------------------------------------------------------------------------------------
# The edits are found
# --------------------------------------------------------------------------------------------


def test_matched_by_id_every_edit_is_found_with_its_area():
    diff = compare_versions(BEFORE, AFTER, id_field="BSM", unit="m2")

    assert found(diff) == EXPECTED
    assert diff.changes.loc[diff.changes["status"] == "changed_attributes", "fields"].tolist() == [
        ("DLBM",)
    ]
    status = dict(zip(diff.before_status["feature"], diff.before_status["status"], strict=True))
    assert status["U"] == status["T"] == status["ROT"] == "unchanged"
    assert set(diff.changes["matched_by"]) == {"id", ""}

    out = diff.taken_out.set_index("feature")["area_m2"]
    put_in = diff.put_in.set_index("feature")["area_m2"]
    assert sorted(out.index) == sorted(OUT) and sorted(put_in.index) == sorted(IN)
    for feature, piece in OUT.items():
        assert out[feature] == close(karney(piece))
    for feature, piece in IN.items():
        assert put_in[feature] == close(karney(piece))
    # Split and merged parcels moved no land: no piece, no area.
    changes = diff.changes.set_index("status")
    for status in ("split", "merged"):
        assert changes.loc[status, "out_area"] == 0 and changes.loc[status, "in_area"] == 0

    row = diff.balance.loc["total"]
    assert row["before"] == close(total(list(BEFORE.geometry)))
    assert row["after"] == close(total(list(AFTER.geometry)))
    assert row["out"] == close(total(list(OUT.values())))
    assert row["in"] == close(total(list(IN.values())))
    # The corner of T moved by 0.4 mm: a triangle of 100 m × 0.4 mm / 2 = 0.02 m², no change.
    sliver = Polygon([(X + 1100, Y), (X + 1100.0004, Y + 100), (X + 1100, Y + 100)])
    assert row["within_tolerance"] == close(karney(sliver))
    assert_identity(diff.balance)


def test_without_an_id_field_the_same_edits_are_found_by_geometry_and_overlap():
    before = BEFORE.set_index("BSM", drop=False)
    after = AFTER.set_index("BSM", drop=False)
    diff = compare_versions(before, after, unit="m2")

    assert found(diff) == EXPECTED  # ids are the index labels here, which are the BSMs
    by_status = diff.changes.set_index("status")["matched_by"]
    assert by_status["changed_attributes"] == "geometry"
    assert by_status["split"] == by_status["merged"] == "overlap"
    assert diff.matching.startswith("by geometry")
    out = diff.taken_out.set_index("feature")["area_m2"]
    assert out["G"] == close(karney(OUT["G"]))
    assert_identity(diff.balance)


def test_a_parcel_renamed_is_an_attribute_change_found_by_its_geometry():
    before = frame([("OLD", "0101", 5, b(0, 0, 100, 100)), ("K", "0101", 5, b(200, 0, 300, 100))])
    after = frame([("NEW", "0101", 5, b(0, 0, 100, 100)), ("K", "0101", 5, b(200, 0, 300, 100))])
    diff = compare_versions(before, after, id_field="BSM")
    assert diff.changes[["status", "matched_by", "before_ids", "after_ids", "fields"]].to_dict(
        "records"
    ) == [
        {
            "status": "changed_attributes",
            "matched_by": "geometry",
            "before_ids": ("OLD",),
            "after_ids": ("NEW",),
            "fields": ("BSM",),
        }
    ]
    assert diff.balance.loc["total", "out"] == diff.balance.loc["total", "in"] == 0


def test_tolerance_decides_what_is_a_change():
    # An edge moved by 2 mm: a change at the default 1 mm, none at 5 mm.
    before = frame([("P", "0101", 5, b(0, 0, 100, 100))])
    after = frame([("P", "0101", 5, b(0, 0, 100.002, 100))])
    strict = compare_versions(before, after, id_field="BSM", unit="m2")
    assert strict.changes["status"].tolist() == ["changed_geometry"]
    assert strict.balance.loc["total", "in"] == pytest.approx(karney(b(100, 0, 100.002, 100)))
    loose = compare_versions(before, after, id_field="BSM", unit="m2", xy_tolerance=0.005)
    assert loose.changes.empty
    assert loose.balance.loc["total", "in"] == 0
    assert loose.balance.loc["total", "within_tolerance"] == pytest.approx(
        karney(b(100, 0, 100.002, 100)), rel=1e-6
    )
    assert_identity(strict.balance)
    assert_identity(loose.balance)


def test_a_real_change_next_to_a_sub_tolerance_shift_is_measured_without_the_shift():
    # The whole parcel shifted east by 0.3 mm, and its north-east corner cut out along lines
    # drawn at x = 90.0003 and y = 90: that corner is taken out, exactly; the 0.3 mm strips
    # along the west and east edges are no change.
    shifted = shapely.affinity.translate(b(0, 0, 100, 100), 0.0003, 0)
    cut = shifted.difference(b(90.0003, 90, 101, 101))
    before = frame([("P", "0101", 5, b(0, 0, 100, 100))])
    after = frame([("P", "0101", 5, cut)])
    diff = compare_versions(before, after, id_field="BSM", unit="m2")
    assert diff.changes["status"].tolist() == ["changed_geometry"]
    assert diff.balance.loc["total", "out"] == close(karney(b(90.0003, 90, 100, 100)))
    assert diff.balance.loc["total", "in"] == 0
    # Cutting the 100 m east edge at 90 m changes an area with geodesic edges by
    # x Δy L1 L2 / (6 R²) = 80 km × 90 m × 90 m × 10 m / (6 R²) ≈ 2.7e-5 m² per cut edge
    # (docs/area.md): 4.4e-9 of this parcel, the additivity of today's area.
    assert_identity(diff.balance, rel=1e-8)


def test_a_version_reprojected_and_back_is_unchanged():
    after = BEFORE.to_crs("EPSG:4490")
    with pytest.warns(CRSReprojectionWarning):
        diff = compare_versions(BEFORE, after, id_field="BSM")
    assert diff.changes.empty
    assert (diff.before_status["status"] == "unchanged").all()
    row = diff.balance.loc["total"]
    assert row["out"] == row["in"] == 0
    assert abs(row["within_tolerance"]) < 1e-3 / MU  # sub-millimetre noise, in 亩
    assert_identity(diff.balance)


def test_a_duplicate_removed_takes_no_land_out():
    before = frame(
        [
            ("P", "0101", 5, b(0, 0, 100, 100)),
            ("P_copy", "0101", 5, b(0, 0, 100, 100)),
            ("Q", "0101", 5, b(200, 0, 300, 100)),
        ]
    )
    after = frame([("P", "0101", 5, b(0, 0, 100, 100)), ("Q", "0101", 5, b(200, 0, 300, 100))])
    diff = compare_versions(before, after, id_field="BSM", unit="m2")
    assert found(diff) == {"removed": [(("P_copy",), ())]}
    row = diff.balance.loc["total"]
    assert row["out"] == 0  # the land is still farmland
    # The overlap of the removed copy counts once: before is the land, not the sum of rows.
    assert row["before"] == close(karney(b(0, 0, 100, 100)) + karney(b(200, 0, 300, 100)))
    assert row["net"] == pytest.approx(0.0, abs=1e-6)
    assert_identity(diff.balance)


def test_features_without_a_usable_id_are_matched_by_geometry_with_a_warning():
    before = frame([("D", "0101", 5, b(0, 0, 100, 100)), ("D", "0101", 5, b(200, 0, 300, 100))])
    after = frame([("D", "0101", 5, b(0, 0, 100, 100)), ("E", "0101", 5, b(200, 0, 300, 100))])
    with pytest.warns(VersionMatchWarning, match="repeated: D"):
        diff = compare_versions(before, after, id_field="BSM")
    assert found(diff) == {"changed_attributes": [(("D",), ("E",))]}
    assert "without a usable id" in diff.matching


# --------------------------------------------------------------------------------------------
# Zones, grades and the balance
# --------------------------------------------------------------------------------------------


def counties() -> gpd.GeoDataFrame:
    # Two counties meeting at x = X + 250, which cuts the removed parcel R in two.
    return gpd.GeoDataFrame(
        {"XZQDM": ["990101", "990102"]},
        geometry=[b(-1000, -1000, 250, 1000), b(250, -1000, 3000, 1000)],
        crs="EPSG:4527",
    )


def test_the_balance_per_county_adds_up_and_pieces_are_cut_at_the_boundary():
    diff = compare_versions(
        BEFORE, AFTER, zones=counties(), zone_field="XZQDM", id_field="BSM", unit="m2"
    )
    out = diff.taken_out
    r = out[out["feature"] == "R"].set_index("zone")["area_m2"]
    assert r["990101"] == close(karney(b(200, 0, 250, 100)))
    assert r["990102"] == close(karney(b(250, 0, 300, 100)))
    put_in = diff.put_in.set_index("feature")
    # N (200–350 m) crosses the boundary too.
    assert put_in.loc["N", "zone"].tolist() == ["990101", "990102"]

    balance = diff.balance
    assert balance.index.tolist() == ["990101", "990102", "total"]
    west = balance.loc["990101"]
    assert west["before"] == close(karney(b(0, 0, 100, 100)) + karney(b(200, 0, 250, 100)))
    assert west["out"] == close(karney(b(200, 0, 250, 100)))
    assert west["in"] == close(karney(b(200, 300, 250, 400)))
    zones = balance[balance["level"] == "zone"]
    for column in ("before", "out", "in", "within_tolerance", "after", "net"):
        assert balance.loc["total", column] == pytest.approx(zones[column].sum(), rel=1e-12)
    assert diff.taken_out["area_m2"].sum() == pytest.approx(balance.loc["total", "out"], rel=1e-12)
    assert diff.put_in["area_m2"].sum() == pytest.approx(balance.loc["total", "in"], rel=1e-12)
    assert_identity(balance)
    assert diff.changes.set_index("status").loc["removed", "zones"] == ("990101", "990102")


def test_land_outside_every_zone_has_its_own_row():
    zones = counties().iloc[[0]]  # only the western county
    with pytest.warns(OutsideZonesWarning, match="outside every zone"):
        diff = compare_versions(
            BEFORE, AFTER, zones=zones, zone_field="XZQDM", id_field="BSM", unit="m2"
        )
    balance = diff.balance
    assert balance.index.tolist() == ["990101", "outside", "total"]
    assert balance.loc["outside", "out"] == close(karney(b(250, 0, 300, 100)) + karney(OUT["G"]))
    assert balance.loc["total", "before"] == close(total(list(BEFORE.geometry)))
    assert_identity(balance)


def test_quality_grades_are_area_weighted():
    diff = compare_versions(BEFORE, AFTER, id_field="BSM", unit="mu")
    assert diff.grade_field == "GDDB"
    row = diff.balance.loc["total"]
    r, g = karney(OUT["R"]), karney(OUT["G"])
    n, t2 = karney(IN["N"]), karney(IN["T2"])
    assert row["grade_out"] == close((3 * r + 5 * g) / (r + g))
    assert row["grade_in"] == close((7 * n + 5 * t2) / (n + t2))
    assert bool(row["quality_fell"])
    areas = [karney(geom) for geom in BEFORE.geometry]
    mean = sum(a * grade for a, grade in zip(areas, BEFORE["GDDB"], strict=True)) / sum(areas)
    assert row["grade_before"] == close(mean)
    assert diff.taken_out.set_index("feature")["grade"].to_dict() == {"R": 3.0, "G": 5.0}
    assert row["out"] == close((r + g) / MU)


def test_no_grade_field_means_no_quality_columns():
    diff = compare_versions(BEFORE, AFTER, id_field="BSM", grade_field=None)
    assert diff.grade_field is None
    assert "grade_out" not in diff.balance.columns and "grade" not in diff.taken_out.columns


# --------------------------------------------------------------------------------------------
# The rules
# --------------------------------------------------------------------------------------------


def test_farmland_rules_net_and_quality():
    diff = compare_versions(BEFORE, AFTER, id_field="BSM", unit="m2")
    rules = check_adjustment(diff, "farmland")
    assert rules["rule"].tolist() == ["net", "quality"]
    net = rules.set_index("rule").loc["net"]
    expected_net = total(list(AFTER.geometry)) - total(list(BEFORE.geometry))
    assert net["measured"] == close(expected_net) and bool(net["met"])
    quality = rules.set_index("rule").loc["quality"]
    assert not quality["met"] and quality["measured"] > quality["required"]
    assert rules.attrs["verdict"] is False
    # Asking for more than the net gain fails the quantity rule too.
    strict = diff.check("farmland", net_min=expected_net + 1)
    assert not strict.set_index("rule").loc["net", "met"]


def test_redline_rule_per_county_and_whole():
    diff = compare_versions(
        BEFORE, AFTER, zones=counties(), zone_field="XZQDM", id_field="BSM", unit="m2"
    )
    rules = check_adjustment(diff, "redline")
    assert rules["zone"].tolist() == ["990101", "990102", "total"]
    measured = rules.set_index("zone")["measured"]
    # 50 m × 100 m in, 50 m × 100 m out, at other northings: equal to ~1e-7 m².
    assert measured["990101"] == close(karney(b(200, 300, 250, 400)) - karney(b(200, 0, 250, 100)))
    assert rules.set_index("zone").loc["990101", "met"] == (measured["990101"] >= -1e-9)
    whole = check_adjustment(diff, "redline", by_zone=False)
    assert whole["zone"].tolist() == ["total"]


def test_urban_rules_cap_share_and_expansion():
    diff = compare_versions(
        BEFORE, AFTER, zones=counties(), zone_field="XZQDM", id_field="BSM", unit="m2"
    )
    after = diff.balance["after"]
    rules = check_adjustment(
        diff,
        "urban",
        cap={"990101": after["990101"] - 1, "990102": after["990102"] + 1},
        cap_percent=100.0,
        urban_land_2020=after["total"] / 1.2,
    )
    table = rules.set_index(["rule", "zone"])
    assert not table.loc[("cap", "990101"), "met"] and table.loc[("cap", "990102"), "met"]
    assert table.loc[("cap", "total"), "required"] == pytest.approx(
        after["990101"] + after["990102"]
    )
    share = 100 * after["total"] / diff.balance.loc["total", "before"]
    assert table.loc[("cap_percent", "total"), "measured"] == pytest.approx(share)
    assert not table.loc[("cap_percent", "total"), "met"]  # the area grew
    assert table.loc[("expansion", "total"), "measured"] == pytest.approx(1.2)
    assert table.loc[("expansion", "total"), "met"]  # 1.2 ≤ 1.3
    assert ("expansion", "990101") not in table.index  # one figure: the whole area only
    tighter = check_adjustment(
        diff, "urban", urban_land_2020=after["total"], expansion_multiple=0.9
    )
    assert not tighter["met"].all()


def test_rules_refuse_what_does_not_apply():
    diff = compare_versions(BEFORE, AFTER, id_field="BSM")
    with pytest.raises(ValueError, match="unknown line"):
        check_adjustment(diff, "forest")
    with pytest.raises(ValueError, match="urban"):
        check_adjustment(diff, "farmland", cap=10.0)


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def test_bad_input_gets_clear_errors():
    with pytest.raises(MissingCRSError, match="before version has no CRS"):
        compare_versions(BEFORE.set_crs(None, allow_override=True), AFTER)
    with pytest.raises(FieldError, match="id field 'XH' is not in the before version"):
        compare_versions(BEFORE, AFTER, id_field="XH")
    with pytest.raises(FieldError, match="grade field 'ZL'"):
        compare_versions(BEFORE, AFTER, grade_field="ZL")
    bad = AFTER.assign(GDDB=["x"] + [5] * (len(AFTER) - 1))
    with pytest.raises(FieldError, match="not numbers"):
        compare_versions(BEFORE, bad, grade_field="GDDB")
    with pytest.raises(ValueError, match="xy_tolerance"):
        compare_versions(BEFORE, AFTER, xy_tolerance=-1)
    with pytest.raises(ValueError, match="unknown area unit"):
        compare_versions(BEFORE, AFTER, unit="acre")
    assert issubclass(VersionMatchWarning, geozones.GeozonesWarning)


def test_empty_versions():
    empty = BEFORE.iloc[0:0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        diff = compare_versions(empty, AFTER, id_field="BSM", unit="m2")
    assert set(diff.changes["status"]) == {"added"}
    assert diff.balance.loc["total", "in"] == close(total(list(AFTER.geometry)))
    gone = compare_versions(BEFORE, empty, id_field="BSM", unit="m2")
    assert set(gone.changes["status"]) == {"removed"}
    assert_identity(gone.balance)


# --------------------------------------------------------------------------------------------
# Random edits of a grid of parcels
# --------------------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CELLS = 25  # a 5 × 5 grid of 50 m squares, 20 m apart


def cell(k: int, shrink: float = 0.0) -> Polygon:
    x, y = 70.0 * (k % 5), 70.0 * (k // 5)
    return b(x, y, x + 50.0 - shrink, y + 50.0)


@settings(max_examples=25, deadline=None)
@given(
    before_cells=st.sets(st.integers(0, CELLS - 1)),
    after_cells=st.sets(st.integers(0, CELLS - 1)),
    shrinks=st.lists(st.sampled_from([0.0, 0.0005, 5.0, 20.0]), min_size=CELLS, max_size=CELLS),
    with_ids=st.booleans(),
)
def test_random_edits_are_found_and_the_balance_adds_up(
    before_cells, after_cells, shrinks, with_ids
):
    def version(cells, shrink):
        ordered = sorted(cells)
        return gpd.GeoDataFrame(
            {"BSM": [f"P{k}" for k in ordered]},
            geometry=[cell(k, shrinks[k] if shrink else 0.0) for k in ordered],
            index=[f"P{k}" for k in ordered],
            crs="EPSG:4527",
        )

    before, after = version(before_cells, False), version(after_cells, True)
    diff = compare_versions(before, after, id_field="BSM" if with_ids else None, unit="m2")
    kept = before_cells & after_cells
    cut = {k for k in kept if shrinks[k] > 0.001}  # 0.5 mm is within the tolerance
    expected = {("removed", (f"P{k}",), ()) for k in before_cells - after_cells}
    expected |= {("added", (), (f"P{k}",)) for k in after_cells - before_cells}
    expected |= {("changed_geometry", (f"P{k}",), (f"P{k}",)) for k in cut}
    found = {(r.status, r.before_ids, r.after_ids) for r in diff.changes.itertuples()}
    assert found == expected

    row = diff.balance.loc["total"]
    out = [cell(k) for k in before_cells - after_cells]
    strips = [
        b(70 * (k % 5) + 50 - shrinks[k], 70 * (k // 5), 70 * (k % 5) + 50, 70 * (k // 5) + 50)
        for k in cut
    ]
    # Geod's per-edge rounding leaves up to ~1e-4 m² on small pieces (docs/performance.md):
    # geozones agrees with it to 1e-9 × area + 5e-4 m².
    added = [cell(k, shrinks[k]) for k in after_cells - before_cells]
    for measured, pieces in (
        (row["out"], out + strips),
        (row["in"], added),
        (row["before"], [cell(k) for k in before_cells]),
        (row["after"], [cell(k, shrinks[k]) for k in after_cells]),
    ):
        assert measured == pytest.approx(total(pieces), rel=1e-9, abs=5e-4 * max(len(pieces), 1))
    assert_identity(diff.balance)


def test_progress_bar_over_the_steps(capsys):
    quiet = compare_versions(BEFORE, AFTER, id_field="BSM")
    shown = compare_versions(BEFORE, AFTER, id_field="BSM", progress=True)
    assert "compare" in capsys.readouterr().err
    pd.testing.assert_frame_equal(quiet.balance, shown.balance)
