"""Site check: areas a project takes from farmland and the red line, worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely import box

import geozones
from geozones.errors import CRSReprojectionWarning, GeozonesError

X, Y = 39_580_000.0, 3_150_000.0


def karney(geom) -> float:
    to_lonlat = pyproj.Transformer.from_crs("EPSG:4527", "EPSG:4490", always_xy=True)
    lonlat = shapely.transform(geom, lambda xy: np.column_stack(to_lonlat.transform(*xy.T)))
    geod = pyproj.Geod(a=6378137.0, rf=298.257222101)
    return abs(geod.geometry_area_perimeter(shapely.orient_polygons(lonlat))[0])


def layer(*boxes, ids=None):
    return gpd.GeoDataFrame(
        geometry=[box(*b) for b in boxes], index=ids or range(len(boxes)), crs="EPSG:4527"
    )


def lines():
    return {
        # Two farmland parcels overlapping each other by 20 m × 100 m.
        "farmland": layer(
            (X, Y, X + 100, Y + 100), (X + 80, Y, X + 180, Y + 100), ids=["NT1", "NT2"]
        ),
        "redline": layer((X + 1000, Y, X + 1200, Y + 200), ids=["HX1"]),
        "urban": layer((X - 500, Y - 500, X + 1100, Y + 500), ids=["CZ1"]),
    }


def test_batch_of_projects_by_hand():
    projects = layer(
        (X + 300, Y + 300, X + 400, Y + 400),  # inside the boundary, touches nothing: pass
        (X + 50, Y, X + 150, Y + 100),  # over both overlapping parcels: 100 m × 100 m once
        (X + 1050, Y + 400, X + 1150, Y + 600),  # partly outside the boundary
        ids=["ok", "farm", "out"],
    )
    result = geozones.site_check(projects, lines(), unit="m2")

    assert result["verdict"].tolist() == ["pass", "fail", "fail"]
    assert result.loc["ok", "reasons"] == ""
    assert result.loc["farm", "farmland_m2"] == pytest.approx(
        karney(box(X + 50, Y, X + 150, Y + 100)), rel=1e-9
    )
    assert sorted(result.loc["farm", "farmland_hit"]) == ["NT1", "NT2"]
    # The third project lies north of the red line (which ends at Y + 200): takes none of it.
    assert result.loc["out", "redline_m2"] == 0.0
    outside = box(X + 1050, Y + 400, X + 1150, Y + 600).difference(
        box(X - 500, Y - 500, X + 1100, Y + 500)
    )
    # Outside = project - inside, so the rows add up; Karney's figure for the L-shaped rest
    # differs by the split edge's geodesic bulge, x Δy L1 L2 / 6R² ≈ 7e-4 m² here.
    assert result.loc["out", "outside_urban_m2"] == pytest.approx(karney(outside), rel=1e-7)
    assert "outside the urban boundary" in result.loc["out", "reasons"]


def test_red_line_taken_in_mu():
    project = layer((X + 1100, Y + 100, X + 1300, Y + 300))
    result = geozones.site_check(project, lines(), unit="mu")
    taken = karney(box(X + 1100, Y + 100, X + 1200, Y + 200))
    assert result["redline_m2"].iloc[0] == pytest.approx(taken, rel=1e-9)
    assert result["redline_area"].iloc[0] == pytest.approx(taken * 3 / 2000, rel=1e-9)
    assert result["redline_hit"].iloc[0] == ["HX1"]
    assert "of the red line (features HX1)" in result["reasons"].iloc[0]


def test_sliver_threshold_and_no_urban_layer():
    project = layer((X + 99.9, Y + 200, X + 99.95, Y + 250))  # nowhere near farmland
    sliver = layer((X + 99.0, Y + 10, X + 100.5, Y + 20))  # 1.5 m² into NT1/NT2
    result = geozones.site_check(sliver, lines(), unit="m2", min_area_m2=200, urban=None)
    assert result["verdict"].iloc[0] == "pass"
    assert result["farmland_m2"].iloc[0] > 0
    assert np.isnan(result["outside_urban_m2"].iloc[0])
    assert geozones.site_check(project, lines())["verdict"].iloc[0] == "pass"


def test_footprint_in_degrees_is_reprojected_with_a_warning():
    project = layer((X + 50, Y, X + 150, Y + 100)).to_crs("EPSG:4490")
    with pytest.warns(CRSReprojectionWarning):
        result = geozones.site_check(project, lines(), unit="m2")
    assert result["farmland_m2"].iloc[0] == pytest.approx(
        karney(box(X + 50, Y, X + 150, Y + 100)), rel=1e-7
    )


def test_unknown_layer_name_is_an_error():
    with pytest.raises(GeozonesError, match="'YJJBNT'"):
        geozones.site_check(layer((X, Y, X + 1, Y + 1)), lines(), farmland="YJJBNT")
