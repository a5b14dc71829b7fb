"""Control totals (平差): parcel areas adjusted to add up exactly to their unit's control area.

Land surveys adjust the computed areas of the parcels of an administrative unit so that, after
rounding, they add up exactly to the unit's control area (控制面积): the difference is spread in
proportion to area, and the last units of the rounding go to the parts with the largest
remainders (the largest-remainder method).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from geozones.errors import ControlTotalError

__all__ = ["adjust_to_control"]


def adjust_to_control(
    areas: pd.Series,
    control: float | Mapping[Hashable, float] | pd.Series,
    *,
    by: pd.Series | np.ndarray | list[Any] | None = None,
    decimals: int = 2,
) -> pd.Series:
    """Scale areas so that, rounded to `decimals`, they sum exactly to their control total.

    Within each zone, every part gets ``area × control / Σ area`` (its proportional share),
    rounded down to a unit of ``10**-decimals``; the units still missing go one each to the
    parts with the largest remainders (ties to the larger area, then to the smaller index
    label), so that the zone's rounded parts sum to its rounded control total exactly. No
    part moves by a unit or more from its proportional share, and the result does not
    depend on the order of the rows.

    Parameters
    ----------
    areas : pandas.Series
        Computed areas, non-negative, any unit (the control totals' unit).
    control : float, mapping or pandas.Series
        The control total of the whole (a number, with `by` None) or of each zone (a mapping
        or Series from zone to total).
    by : pandas.Series, array or list, optional
        The zone of each area (aligned with `areas` by position, or by index for a Series),
        e.g. ``parcels["XZQDM"]``. None: all areas form one zone.
    decimals : int, default 2
        Decimals of the adjusted figures (2: 0.01 m² for m², 0.01 亩 for 亩).

    Returns
    -------
    pandas.Series
        The adjusted areas, rounded to `decimals`, indexed like `areas`. ``attrs`` records
        ``decimals`` and ``factor`` (per zone, control / Σ area).

    Raises
    ------
    ControlTotalError
        A zone has no control total; an area or control total is negative, NaN or infinite;
        a zone's areas sum to zero but its control total does not; `control` is a mapping
        while `by` is None, or a number while `by` is given.

    Examples
    --------
    Three parcels of a county whose control area is 1000.00 m²:

    >>> parcels = pd.Series([333.331, 333.332, 333.334], index=["a", "b", "c"])
    >>> adjusted = adjust_to_control(parcels, 1000.0)
    >>> adjusted.tolist(), float(round(adjusted.sum(), 2))
    ([333.33, 333.33, 333.34], 1000.0)

    Two counties, by code:

    >>> counties = pd.Series(["990101", "990101", "990102"])
    >>> adjust_to_control(
    ...     pd.Series([10.0, 20.0, 5.0]), {"990101": 30.01, "990102": 4.99}, by=counties
    ... ).tolist()
    [10.0, 20.01, 4.99]
    """
    if isinstance(decimals, bool) or not isinstance(decimals, int | np.integer) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative integer, not {decimals!r}")
    values = pd.to_numeric(pd.Series(areas), errors="coerce").astype(float)
    bad = ~np.isfinite(values.to_numpy()) | (values.to_numpy() < 0)
    if bad.any():
        labels = ", ".join(map(str, values.index[bad][:5]))
        raise ControlTotalError(
            f"{int(bad.sum())} area(s) are negative, missing or not finite (e.g. {labels}); "
            "measure or repair those features before adjusting to a control total"
        )
    zones, totals = _zones_and_totals(values, control, by)
    scale = 10.0**decimals
    result = np.zeros(len(values))
    factors: dict[Hashable, float] = {}
    area_values = values.to_numpy()
    order_key = _label_ranks(values.index)
    for zone, members in pd.Series(np.arange(len(values))).groupby(zones, sort=False):
        index = members.to_numpy()
        units = round(totals[zone] * scale)
        part = area_values[index]
        whole = math.fsum(part.tolist())  # correctly rounded: independent of the order
        if whole == 0:
            if units != 0:
                raise ControlTotalError(
                    f"zone {zone!r} has a control total of {totals[zone]} but its areas sum "
                    "to 0: there is nothing to spread it over"
                )
            factors[zone] = float("nan")
            continue
        factors[zone] = totals[zone] / whole
        share = (part / whole) * units  # part / whole first: whole may be subnormal
        base = np.floor(share)
        missing = int(units - base.sum())
        remainder = share - base
        # Largest remainder first; ties to the larger area, then the smaller index label.
        rank = np.lexsort((order_key[index], -part, -remainder))
        base[rank[:missing]] += 1
        result[index] = base / scale
    adjusted = pd.Series(np.round(result, decimals), index=values.index, name=values.name)
    adjusted.attrs.update(decimals=decimals, factor=factors)
    return adjusted


def _zones_and_totals(
    values: pd.Series,
    control: float | Mapping[Hashable, float] | pd.Series,
    by: pd.Series | np.ndarray | list[Any] | None,
) -> tuple[np.ndarray, dict[Hashable, float]]:
    """The zone of each value, and each zone's checked control total."""
    if by is None:
        if isinstance(control, Mapping | pd.Series):
            raise ControlTotalError(
                "control totals per zone need by=, the zone of each area (e.g. by=parcels['XZQDM'])"
            )
        zones = np.zeros(len(values), dtype=np.int64)
        totals: dict[Hashable, float] = {0: _checked_total(control, "the whole")}
        return zones, totals
    if not isinstance(control, Mapping | pd.Series):
        raise ControlTotalError(
            "with by=, give the control total of each zone as a mapping or Series"
        )
    if isinstance(by, pd.Series):
        zone_series = by.reindex(values.index) if not by.index.equals(values.index) else by
    else:
        zone_series = pd.Series(list(by), index=values.index)
    if len(zone_series) != len(values):
        raise ControlTotalError(f"by has {len(zone_series)} values for {len(values)} areas")
    if zone_series.isna().any():
        raise ControlTotalError(
            f"{int(zone_series.isna().sum())} area(s) have no zone in by; give every area one"
        )
    given = dict(control.items())
    missing = [zone for zone in pd.unique(zone_series) if zone not in given]
    if missing:
        raise ControlTotalError(
            f"no control total for zone(s) {', '.join(map(repr, missing[:5]))}; the control "
            f"totals name: {', '.join(map(repr, list(given)[:10]))}"
        )
    totals = {
        zone: _checked_total(given[zone], f"zone {zone!r}") for zone in pd.unique(zone_series)
    }
    return zone_series.to_numpy(), totals


def _checked_total(value: object, what: str) -> float:
    try:
        total = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ControlTotalError(f"the control total of {what} is not a number: {value!r}") from None
    if not np.isfinite(total) or total < 0:
        raise ControlTotalError(
            f"the control total of {what} is {total}; it must be a non-negative number"
        )
    return total


def _label_ranks(index: pd.Index) -> np.ndarray:
    """The rank of each label in sorted order (by text where the labels do not compare)."""
    labels = index.to_numpy()
    try:
        order = np.argsort(labels, kind="stable")
    except TypeError:
        order = np.argsort(labels.astype(str), kind="stable")
    ranks = np.empty(len(labels), dtype=np.int64)
    ranks[order] = np.arange(len(labels))
    return ranks
