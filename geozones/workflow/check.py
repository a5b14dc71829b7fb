"""The checks that the batch report and the CLI's commands both run.

Coverage of each line per county, city and province (:func:`coverage_by_line`), the rows of
area outside every zone (:func:`with_outside_rows`), and layers indexed by their id field
(:func:`index_by_id`). :func:`geozones.report.model.build_report` and the ``stats``,
``stream`` and layer-reading commands call them from here.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geozones.analysis.coverage import coverage
from geozones.measure.area import AreaMethod
from geozones.measure.tolerance import DEFAULT_XY_TOLERANCE

LEVELS = ("county", "city", "province")


def coverage_by_line(
    lines: dict[str, gpd.GeoDataFrame],
    zones: gpd.GeoDataFrame,
    code_field: str,
    names: dict[str, str],
    unit: str,
    *,
    xy_tolerance: float = DEFAULT_XY_TOLERANCE,
    method: AreaMethod = "ellipsoidal",
    densify_m: float | None = None,
) -> pd.DataFrame:
    """Coverage of each line per county, city and province, long form with zone names.

    Areas by `method` (and `densify_m`), see :func:`geozones.coverage`.

    ``attrs["outside_area"]`` holds, per line, its area outside every zone (in `unit`): it is in
    no row, and each line's :class:`~geozones.errors.OutsideZonesWarning` says so.
    """
    rows = []
    outside: dict[str, float] = {}
    for key, frame in lines.items():
        measured = coverage(
            frame,
            zones,
            by=code_field,
            unit=unit,
            levels=LEVELS,
            xy_tolerance=xy_tolerance,
            method=method,
            densify_m=densify_m,
        )
        outside[key] = float(measured.attrs.get("outside_area", 0.0))
        table = measured.reset_index()
        table.insert(0, "line", key)
        table.insert(3, "name", table["zone"].map(names).fillna(""))
        rows.append(table)
    result = pd.concat(rows, ignore_index=True)
    result.attrs = {
        "unit": unit,
        "outside_area": outside,
        "method": method,
        "densify_m": densify_m,
    }
    return result


def with_outside_rows(table: pd.DataFrame, outside: dict[str, float]) -> pd.DataFrame:
    """A long-form coverage table with one more row per line: its area outside every zone.

    The row has level ``outside``, no zone, the area as ``covered_area`` and nothing else, so
    that the county rows and the outside rows of a line add up to the whole line.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows with ``line``, ``level``, ``zone`` and the area columns.
    outside : dict of str to float
        Per line, its area outside every zone (in the table's unit).

    Returns
    -------
    pandas.DataFrame
        `table` and the outside rows after it.

    Examples
    --------
    >>> table = pd.DataFrame(
    ...     {"line": ["redline"], "level": ["county"], "zone": ["990102"], "covered_area": [5.0]}
    ... )
    >>> with_outside_rows(table, {"redline": 0.25})[["level", "zone", "covered_area"]]
         level    zone  covered_area
    0   county  990102          5.00
    1  outside                  0.25
    """
    covered = next(column for column in table.columns if str(column).startswith("covered_area"))
    rows = pd.DataFrame(
        {
            column: (
                np.full(len(outside), np.nan)
                if pd.api.types.is_numeric_dtype(table[column])
                else np.full(len(outside), "", dtype=object)
            )
            for column in table.columns
        }
    )
    rows["line"] = list(outside)
    if "level" in table.columns:
        rows["level"] = "outside"
    rows[covered] = np.array([float(area) for area in outside.values()], dtype=float)
    return pd.concat([table, rows], ignore_index=True)


def index_by_id(
    frame: gpd.GeoDataFrame,
    id_field: str | None,
    guesses: list[tuple[str, str, str, str]] | None = None,
) -> gpd.GeoDataFrame:
    """The layer indexed by its id field (BSM), so reports name features as users do.

    Without an id field, or when its values are missing or repeated, the feature ids (FID)
    stay, and the reason is recorded.
    """
    if not id_field:
        return frame
    ids = frame[id_field]
    if ids.isna().any() or ids.duplicated().any():
        repeated = ids[ids.duplicated(keep=False) & ids.notna()].astype(str).unique()[:5]
        (guesses if guesses is not None else []).append(
            (
                "ids",
                "",
                f"id field {id_field} is missing or repeated ({', '.join(repeated)}); features "
                "are named by their FID instead",
                "FID used",
            )
        )
        return frame
    indexed = frame.set_index(ids.astype(str), drop=False)
    indexed.index.name = id_field
    return indexed
