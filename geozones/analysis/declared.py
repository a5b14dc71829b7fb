"""Checks of a layer's declared area figures (TBMJ and kin) against the measured area.

Split from the layer report (:mod:`geozones.io.quality`), which is about reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geozones.choices import checked_instance, checked_layer, checked_non_negative
from geozones.errors import FieldError
from geozones.measure.area import AreaMethod, area, check_method
from geozones.units import square_metres_per

if TYPE_CHECKING:
    import geopandas as gpd


def check_declared_area(
    layer: gpd.GeoDataFrame,
    field: str = "TBMJ",
    *,
    method: AreaMethod = "survey",
    densify_m: float | None = None,
    tolerance_m2: float = 0.01,
    unit: str = "m2",
    rel_tol: float | None = None,
    abs_tol: float | None = None,
) -> pd.DataFrame:
    """Features whose declared area differs from the one computed the way it was declared.

    Declared areas (TBMJ, YJJBNTTBMJ, MJ) follow the survey formula of 国土调查办发〔2008〕32号,
    rounded to 0.01 m² (see :func:`declared_area_convention` to find which convention a
    layer follows). A feature is listed when its declared figure differs from the computed
    one, rounded to two decimals, by more than `tolerance_m2`.

    Parameters
    ----------
    layer : GeoDataFrame
        Polygon layer with a declared-area field.
    field : str, default "TBMJ"
        The declared-area field (图斑面积).
    method : {"survey", "ellipsoidal", "geodesic", "planar"}, default "survey"
        Area method that produced the declarations (see :func:`geozones.area`).
    densify_m : float, optional
        ``survey`` only: the edges were densified to this many metres first.
    tolerance_m2 : float, default 0.01
        Largest accepted difference, in m² (one unit of the declared figures' rounding).
    unit : str, default "m2"
        Unit of the declared figures (``m2``, ``mu``, ``ha``, …); the computed figure is
        rounded to two decimals in it.
    rel_tol, abs_tol : float, optional
        The older, looser rule: given either, a feature is listed when
        ``|declared − computed| > max(abs_tol, rel_tol × computed)`` (defaults 0.001 and
        1.0, `abs_tol` in `unit`), without rounding; `tolerance_m2` is then unused.

    Returns
    -------
    pandas.DataFrame
        Indexed like `layer`, one row per listed feature: ``declared``, ``computed``,
        ``difference`` (declared − computed, in `unit`) and ``relative_difference``.
        Features with no declared figure are listed with NaN differences. ``attrs``
        records ``unit``, ``method``, ``densify_m``, ``field`` and ``tolerance``.

    Raises
    ------
    FieldError
        `field` is missing or not numeric.

    Examples
    --------
    Two parcels declared by the survey formula, the second wrongly:

    >>> import geopandas as gpd
    >>> from shapely import box
    >>> parcels = gpd.GeoDataFrame(
    ...     {"TBMJ": [9997.53, 12_000.0]},
    ...     geometry=[box(39_600_000, 3_150_000, 39_600_100, 3_150_100)] * 2,
    ...     crs=4527,
    ... )
    >>> check_declared_area(parcels)
       declared  computed  difference  relative_difference
    1   12000.0   9997.53     2002.47             0.200296
    """
    checked_layer(layer, name="layer")
    checked_non_negative(tolerance_m2, name="tolerance_m2", unit="m²")
    check_method(method, densify_m=densify_m)
    declared = _declared_values(layer, field)
    computed = area(layer, unit=unit, method=method, densify_m=densify_m)
    if rel_tol is None and abs_tol is None:
        computed = computed.round(2)
        difference = declared - computed
        tolerance = tolerance_m2 / square_metres_per(unit)
        # The rounded figures are multiples of 0.01: allow their binary representation.
        listed = ~(difference.abs() <= tolerance * (1.0 + 1e-9) + 1e-9)
        rule = f"|declared - round(computed, 2)| <= {tolerance_m2} m2"
    else:
        rel = 0.001 if rel_tol is None else rel_tol
        absolute = 1.0 if abs_tol is None else abs_tol
        difference = declared - computed
        listed = ~(difference.abs() <= np.maximum(absolute, rel * computed.abs()))
        rule = f"|declared - computed| <= max({absolute} {unit}, {rel} x computed)"
    result = pd.DataFrame(
        {
            "declared": declared,
            "computed": computed,
            "difference": difference,
            "relative_difference": difference / computed,
        }
    )[listed]
    result.attrs.update(unit=unit, method=method, densify_m=densify_m, field=field, tolerance=rule)
    return result


#: Candidates of :func:`declared_area_convention`, in order of preference on a tie: the
#: survey formula on the vertices, densified at these steps (m, coarsest first: the coarser the
#: step, the further from the exact area, so a match says more), then the exact area.
DENSIFY_CANDIDATES_M = (100.0, 70.0, 50.0, 20.0)


@dataclass(frozen=True)
class AreaConvention:
    """Which convention a layer's declared areas follow (:func:`declared_area_convention`).

    Attributes
    ----------
    convention : str
        The best candidate, e.g. ``"survey, densified at 70 m"``, ``"survey"`` or ``"exact"``.
    method : str
        Its area method for :func:`geozones.area` (``survey`` or ``ellipsoidal``).
    densify_m : float or None
        Its densification step.
    share : float
        The share of the compared features whose declared figure it matches.
    matched, compared : int
        How many features it matches, and how many had a declared figure.
    candidates : pandas.DataFrame
        Every candidate: ``convention``, ``method``, ``densify_m``, ``matched``, ``share``,
        best first.
    equivalent : tuple of str
        The other candidates that match exactly as many features: the data cannot tell
        them apart (short edges, or a fine densification that is the exact area to 0.01 m²).
    """

    convention: str
    method: str
    densify_m: float | None
    share: float
    matched: int
    compared: int
    candidates: pd.DataFrame
    equivalent: tuple[str, ...] = ()


def declared_area_convention(
    layer: gpd.GeoDataFrame,
    field: str = "TBMJ",
    *,
    unit: str = "m2",
    tolerance_m2: float = 0.0,
    densify_candidates: tuple[float, ...] = DENSIFY_CANDIDATES_M,
) -> AreaConvention:
    """Which area convention the declared figures of `field` follow, and for what share.

    Each candidate computes the area, rounds it to two decimals in `unit` and counts the
    features whose declared figure it matches (equal at two decimals, or within
    `tolerance_m2`): the 32号 survey formula on
    the vertices as given, the same with edges densified at each of `densify_candidates`
    metres, and the exact ellipsoidal area. On parcels with short edges several agree; ties
    go to that order.

    Parameters
    ----------
    layer : GeoDataFrame
        Polygon layer with a declared-area field.
    field : str, default "TBMJ"
        The declared-area field.
    unit : str, default "m2"
        Unit of the declared figures.
    tolerance_m2 : float, default 0
        Largest difference counted as a match; 0 asks for equal figures at two decimals,
        which tells conventions apart that differ by a single unit.
    densify_candidates : tuple of float
        Densification steps (m) to try with the survey formula.

    Returns
    -------
    AreaConvention
        The best candidate, its share, and every candidate's share.

    Raises
    ------
    FieldError
        `field` is missing or not numeric.

    Examples
    --------
    A long slanted parcel 150 km from the meridian, declared by the survey formula after
    densifying its edges at 70 m:

    >>> import geopandas as gpd
    >>> from shapely import Polygon
    >>> e, n = 39_650_000, 3_300_000
    >>> parcel = Polygon([(e, n), (e + 6000, n + 3000), (e + 5900, n + 3400), (e, n + 250)])
    >>> layer = gpd.GeoDataFrame(geometry=[parcel], crs=4527)
    >>> layer["TBMJ"] = area(layer, method="survey", densify_m=70).round(2)
    >>> found = declared_area_convention(layer, "TBMJ")
    >>> found.convention, found.share, found.equivalent  # 50 m gives the same figure here
    ('survey, densified at 70 m', 1.0, ('survey, densified at 50 m',))
    >>> found.candidates[["convention", "matched"]]
                       convention  matched
    0   survey, densified at 70 m        1
    1   survey, densified at 50 m        1
    2                      survey        0
    3  survey, densified at 100 m        0
    4   survey, densified at 20 m        0
    5                       exact        0
    """
    checked_layer(layer, name="layer")
    checked_non_negative(tolerance_m2, name="tolerance_m2", unit="m²")
    declared = _declared_values(layer, field)
    present = declared.notna()
    compared = int(present.sum())
    # Half a unit of the second decimal absorbs the binary representation of the figures.
    tolerance = tolerance_m2 / square_metres_per(unit) + 0.001
    options: list[tuple[str, AreaMethod, float | None]] = [("survey", "survey", None)]
    options += [(f"survey, densified at {step:g} m", "survey", step) for step in densify_candidates]
    options.append(("exact", "ellipsoidal", None))
    rows = []
    for name, method, step in options:
        computed = area(layer, unit=unit, method=method, densify_m=step).round(2)
        matched = int(((declared - computed).abs() <= tolerance)[present].sum())
        rows.append(
            {
                "convention": name,
                "method": method,
                "densify_m": step,
                "matched": matched,
                "share": matched / compared if compared else 0.0,
            }
        )
    candidates = (
        pd.DataFrame(rows)
        .sort_values("share", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    best = candidates.iloc[0]
    step = best["densify_m"]
    return AreaConvention(
        convention=str(best["convention"]),
        method=str(best["method"]),
        densify_m=None if pd.isna(step) else float(step),
        share=float(best["share"]),
        matched=int(best["matched"]),
        compared=compared,
        candidates=candidates,
        equivalent=tuple(
            str(name)
            for name in candidates["convention"].iloc[1:][
                candidates["matched"].iloc[1:] == best["matched"]
            ]
        ),
    )


#: Gross and net area fields :func:`check_area_fields` looks for, in order.
GROSS_AREA_FIELDS = ("TBMJ", "YJJBNTTBMJ")
NET_AREA_FIELDS = ("TBDLMJ", "YJJBNTMJ")
#: Identifier fields that name a feature in the listing, in order.
ID_FIELDS = ("BSM", "YJJBNTTBBH", "TBBH")


def check_area_fields(
    layer: gpd.GeoDataFrame,
    *,
    gross: str | None = None,
    coefficient: str = "KCXS",
    deduction: str = "KCMJ",
    net: str | None = None,
    id_field: str | None = None,
    tolerance_m2: float = 0.01,
) -> pd.DataFrame:
    """Check the arithmetic of delivered area fields: deduction and net area.

    ``KCMJ = round(TBMJ × KCXS, 2)`` (扣除面积 = 图斑面积 × 扣除系数) and
    ``TBDLMJ = TBMJ − KCMJ`` (图斑地类面积; ``YJJBNTMJ`` in farmland layers), to the
    figures' resolution `tolerance_m2`: a figure is right when it lies within half of it of
    the rule's unrounded value (either rounding of a tie is accepted). Only the fields'
    values are read, not the geometry.

    Parameters
    ----------
    layer : DataFrame or GeoDataFrame
        The attribute table.
    gross : str, optional
        The gross area field; the first of ``TBMJ``, ``YJJBNTTBMJ`` present if omitted.
    coefficient, deduction : str
        The deduction coefficient (a fraction, e.g. 0.08) and deduction area fields.
    net : str, optional
        The net area field; the first of ``TBDLMJ``, ``YJJBNTMJ`` present if omitted. With
        none present only the deduction is checked.
    id_field : str, optional
        The field that names each feature in the listing; the first of ``BSM``,
        ``YJJBNTTBBH``, ``TBBH`` present, else the index.
    tolerance_m2 : float, default 0.01
        Resolution of the area figures, in m².

    Returns
    -------
    pandas.DataFrame
        One row per mismatch (a feature can have two), indexed like `layer`: ``id``,
        ``check`` (the rule, e.g. ``KCMJ = round(TBMJ × KCXS, 2)``), ``field`` (the field
        found wrong), ``declared``, ``expected`` and ``difference``. A missing value in a
        field the rule needs is a mismatch with NaN ``declared`` or ``expected``. ``attrs``
        records the fields used and ``checked`` (features).

    Raises
    ------
    FieldError
        A field named or needed is not in the layer, or holds no numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame(
    ...     {
    ...         "BSM": ["A1", "A2"],
    ...         "TBMJ": [1000.0, 2345.67],
    ...         "KCXS": [0.08, 0.1],
    ...         "KCMJ": [80.0, 234.56],
    ...         "TBDLMJ": [920.0, 2111.12],
    ...     }
    ... )
    >>> check_area_fields(table)[["id", "field", "declared", "expected"]]
       id    field  declared  expected
    1  A2     KCMJ    234.56    234.57
    1  A2   TBDLMJ   2111.12   2111.11
    """
    checked_instance(
        layer, pd.DataFrame, name="layer", needed="a layer, or a DataFrame of its attributes"
    )
    checked_non_negative(tolerance_m2, name="tolerance_m2", unit="m²")
    gross = gross or _first_present(layer, GROSS_AREA_FIELDS, "gross area")
    net = net or next((name for name in NET_AREA_FIELDS if name in layer.columns), None)
    if id_field is None:
        id_field = next((name for name in ID_FIELDS if name in layer.columns), None)
    elif id_field not in layer.columns:
        raise FieldError(_missing_field_message(layer, id_field, "identifier"))
    gross_area = _declared_values(layer, gross)
    coefficients = _declared_values(layer, coefficient)
    deducted = _declared_values(layer, deduction)
    tolerance = 0.5 * tolerance_m2 * (1.0 + 1e-9) + 1e-9
    ids = layer[id_field] if id_field is not None else pd.Series(layer.index, index=layer.index)
    product = gross_area * coefficients
    # (rule, field, found, unrounded value, value shown as expected)
    checks = [
        (
            f"{deduction} = round({gross} × {coefficient}, 2)",
            deduction,
            deducted,
            product,
            product.round(2),
        )
    ]
    if net is not None:
        remainder = gross_area - deducted
        checks.append(
            (
                f"{net} = {gross} − {deduction}",
                net,
                _declared_values(layer, net),
                remainder,
                remainder.round(2),
            )
        )
    frames = []
    for rule, field_name, found, exact, expected in checks:
        wrong = ~((found - exact).abs() <= tolerance)
        frames.append(
            pd.DataFrame(
                {
                    "id": ids[wrong],
                    "check": rule,
                    "field": field_name,
                    "declared": found[wrong],
                    "expected": expected[wrong],
                    "difference": (found - expected)[wrong],
                }
            )
        )
    result = pd.concat(frames)
    order = np.argsort(layer.index.get_indexer(result.index), kind="stable")
    result = result.iloc[order]
    result.attrs.update(
        gross=gross,
        coefficient=coefficient,
        deduction=deduction,
        net=net,
        id_field=id_field,
        tolerance_m2=tolerance_m2,
        checked=len(layer),
    )
    return result


def _first_present(layer: pd.DataFrame, names: tuple[str, ...], what: str) -> str:
    for name in names:
        if name in layer.columns:
            return name
    raise FieldError(
        f"no {what} field ({' or '.join(names)}) in the layer; name it, e.g. gross='MJ'; "
        f"fields are: {_field_list(layer)}"
    )


def _declared_values(layer: pd.DataFrame, field: str) -> pd.Series:
    """The numbers of `field` (NaN where missing); FieldError if it has none."""
    if field not in layer.columns:
        raise FieldError(_missing_field_message(layer, field, "area"))
    values = pd.to_numeric(layer[field], errors="coerce")
    if values.isna().all() and layer[field].notna().any():
        raise FieldError(f"field {field!r} holds no numbers")
    return values.astype(float)


def _missing_field_message(layer: pd.DataFrame, field: str, what: str) -> str:
    return f"{what} field {field!r} is not in the layer; fields are: {_field_list(layer)}"


def _field_list(layer: pd.DataFrame) -> str:
    geometry = layer.geometry.name if hasattr(layer, "geometry") else None
    return ", ".join(str(c) for c in layer.columns if c != geometry)
