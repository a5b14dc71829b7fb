"""The configuration of a check: one TOML file naming the layers, the priority and the targets.

The ``geozones`` command line (``geozones stats CONFIG``, ``geozones conflicts CONFIG``,
``geozones report CONFIG``) reads one TOML file describing a check: the zones (counties) to
report by, the layers and how to read them, the priority order that resolves conflicts and its
exceptions, and the binding plan targets (约束性指标). :func:`load_config` reads and validates
it without opening any GIS file, so a typo is reported at once, with the file and the dotted
key (``layers.farmland.encodng``) and what to write instead. ``docs/config.md`` describes every
key.

Examples
--------
>>> from geozones.workflow.config import load_config
>>> config = load_config("sample_data/geozones.toml")
>>> config.priority
('farmland', 'redline', 'urban')
>>> sorted(config.layers)
['core_zone', 'farmland', 'redline', 'urban']
>>> config.layers["farmland"].encoding, config.layers["farmland"].declared_area_field
('GBK', 'TBMJ')
"""

from __future__ import annotations

import codecs
import math
import os
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar, cast

import geopandas as gpd
import pyproj

from geozones.analysis.conflicts import LINES
from geozones.choices import closest, did_you_mean
from geozones.errors import GeozonesError
from geozones.io import read_layer
from geozones.measure.tolerance import DEFAULT_XY_TOLERANCE, MAX_XY_TOLERANCE
from geozones.units import AREA_UNITS, UNIT_ALIASES
from geozones.workflow.config_schema import Key, keys_of, setting
from geozones.zones import check_zones

#: The layer keys every configuration must define.
REQUIRED_LAYERS: tuple[str, ...] = LINES
#: The priority order of the rules: 耕地和永久基本农田 → 生态保护红线 → 城镇开发边界.
DEFAULT_PRIORITY: tuple[str, ...] = LINES
#: Report header languages.
LANGUAGES: tuple[str, ...] = ("zh", "en")
#: What to write for a missing ``path``.
PATH_EXAMPLE = 'path = "sanqusanxian.gpkg"'
#: What to write for a missing ``priority``.
PRIORITY_EXAMPLE = 'priority = ["redline", "farmland", "urban"]'
#: Added to a message about a wrong target.
NO_TARGET_HINT = "; remove the key to set no target"


class ConfigError(GeozonesError, ValueError):
    """A configuration file is unreadable, not valid TOML, or holds a wrong or unknown key.

    The message names the configuration file and the dotted key (``layers.farmland.path``),
    or the line and column of a TOML syntax error, and says what to write instead.

    Parameters
    ----------
    message : str
        The full message.
    source : path-like, optional
        The configuration file.
    key : str, optional
        The dotted key at fault (``layers.farmland.path``, ``resolution.overrides[0].mask``);
        for a syntax error, the table the line is in.
    line, column : int, optional
        Position of a TOML syntax error, counted from 1.

    Attributes
    ----------
    source : pathlib.Path or None
    key : str or None
    line, column : int or None
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | os.PathLike[str] | None = None,
        key: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.source = Path(source) if source is not None else None
        self.key = key
        self.line = line
        self.column = column


@dataclass(frozen=True)
class BeforeSpec:
    """The version of a layer before an adjustment: ``before`` in a ``[layers.KEY]`` table.

    ``geozones report`` then compares it with the layer (:func:`geozones.compare_versions`)
    and checks the rules of the line (:func:`geozones.check_adjustment`).

    Attributes
    ----------
    path : pathlib.Path
        The file (or ``.gdb`` folder), absolute.
    layer, encoding, crs : str or None
        As for :class:`LayerSpec`; the id field is the layer's.
    net_min : float or None
        Smallest net change allowed, in the report's unit (0 for farmland and the red line
        when None).
    quality : bool
        Check the farmland quality grade when both versions have one.
    cap, cap_percent, urban_land_2020 : float or None
        Urban boundary only: largest area after (report unit), largest area after as a
        percentage of before, and the 2020 urban construction land (report unit).
    expansion_multiple : float
        Urban boundary only: largest area after over `urban_land_2020`.
    """

    path: Path = setting(
        "The file.", kind="string", required=True, example=PATH_EXAMPLE, field_default=False
    )
    layer: str | None = setting(
        "The layer inside a GeoPackage or File Geodatabase, as for `[layers.KEY]`.",
        kind="string",
        default=None,
        shown="none",
    )
    encoding: str | None = setting(
        "Attribute encoding, as for `[layers.KEY]`.",
        kind="string",
        default=None,
        shown="detected",
    )
    crs: str | None = setting(
        "The CRS, as for `[layers.KEY]`.", kind="string", default=None, shown="the file's"
    )
    net_min: float | None = setting(
        "Smallest net change allowed (after − before), in the report's `unit`: 数量不减少 / "
        "面积不减少.",
        kind="number",
        default=None,
        shown="0 for `farmland` and `redline`; none for `urban`",
        lines=LINES,
    )
    quality: bool = setting(
        "`farmland` only: the land put in has a mean quality grade (GDDB) no worse than the "
        "land taken out (质量不降低), when both versions have a grade field.",
        kind="boolean",
        default=True,
        lines=("farmland",),
    )
    cap: float | None = setting(
        "`urban` only: the largest area after, in the report's `unit`.",
        kind="number",
        default=None,
        above=0.0,
        lines=("urban",),
    )
    cap_percent: float | None = setting(
        "`urban` only: the largest area after, as a percentage of the area before (100: not "
        "larger).",
        kind="number",
        default=None,
        above=0.0,
        lines=("urban",),
    )
    urban_land_2020: float | None = setting(
        "`urban` only: the 2020 urban construction land (现状城镇建设用地), in the report's "
        "`unit`.",
        kind="number",
        default=None,
        above=0.0,
        lines=("urban",),
    )
    expansion_multiple: float = setting(
        "`urban` only: the largest area after over `urban_land_2020`.",
        kind="number",
        default=1.3,
        above=0.0,
        lines=("urban",),
    )

    def rules(self, line: str) -> dict[str, Any]:
        """The keyword options of :func:`geozones.check_adjustment` for `line`."""
        options: dict[str, Any] = {}
        if self.net_min is not None:
            options["net_min"] = self.net_min
        if line == "farmland":
            options["quality"] = self.quality
        if line == "urban":
            options.update(
                cap=self.cap,
                cap_percent=self.cap_percent,
                urban_land_2020=self.urban_land_2020,
                expansion_multiple=self.expansion_multiple,
            )
        return options


@dataclass(frozen=True)
class LayerSpec:
    """How to read one layer: a ``[layers.KEY]`` table.

    Attributes
    ----------
    path : pathlib.Path
        The file (or ``.gdb`` folder), absolute.
    layer : str or None
        The layer inside a GeoPackage or File Geodatabase.
    encoding : str or None
        Attribute encoding (``"GBK"``); detected when None.
    crs : str or None
        ``"EPSG:4527"``, a WKT or PROJ string, or ``"infer"``; the file's own when None.
    id_field : str or None
        Field holding the feature ids used in reports (``BSM``); the feature id (FID) when None.
    declared_area_field : str or None
        Field holding a declared area to check (``TBMJ``).
    declared_area_unit : str
        Unit of `declared_area_field`, one of :data:`geozones.units.AREA_UNITS`.
    before : BeforeSpec or None
        The version of the layer before an adjustment, which reports compare it with.
    """

    path: Path = setting(
        "The file, as for `[zones]`.",
        kind="string",
        required=True,
        example=PATH_EXAMPLE,
        field_default=False,
    )
    layer: str | None = setting(
        "The layer inside a GeoPackage or File Geodatabase.",
        kind="string",
        default=None,
        shown="none",
    )
    encoding: str | None = setting(
        'Attribute encoding (`"GBK"`, `"GB18030"`, `"UTF-8"`). When omitted, a shapefile\'s '
        "`.cpg` is used. Without a `.cpg`, the encoding is detected from the bytes, with a "
        "warning. Must be a name Python knows.",
        kind="string",
        default=None,
        shown="detected",
    )
    crs: str | None = setting(
        '`"EPSG:4527"`, a WKT or PROJ string, or `"infer"`. `"infer"` accepts the CRS the '
        "coordinates suggest when the file declares none, for example a Gauss–Krüger zone "
        "read from the zone prefix of the easting. Write EPSG codes as strings "
        '(`"EPSG:4527"`, not `4527`). The CRS must be one pyproj knows. A CRS the '
        "coordinates contradict is refused when the layer is read.",
        kind="string",
        default=None,
        shown="the file's",
    )
    id_field: str | None = setting(
        "The field whose values name features in reports (标识码, usually `BSM`).",
        kind="string",
        default=None,
        shown="the feature id (FID)",
    )
    declared_area_field: str | None = setting(
        "A field holding a declared area to check against the computed area (图斑面积, "
        "usually `TBMJ`).",
        kind="string",
        default=None,
    )
    declared_area_unit: str = setting(
        "Unit of `declared_area_field`. Allowed only together with it.",
        kind="string",
        default="m2",
        choices=tuple(AREA_UNITS),
    )
    before: BeforeSpec | None = setting(
        "The version of the layer before an adjustment (调整前): `geozones report` then "
        "compares the two and adds the comparison to its files (see `[layers.KEY.before]` "
        "below).",
        kind="string or table",
        default=None,
    )


@dataclass(frozen=True)
class ZoneSpec:
    """The zones (counties) results are reported by: the ``[zones]`` table.

    Attributes
    ----------
    path : pathlib.Path
        The file, absolute.
    layer : str or None
        The layer inside a GeoPackage or File Geodatabase.
    code_field : str
        Field holding the 6-digit county code (``XZQDM``); the first two digits are the
        province and the first four the city, so results roll up.
    name_field : str or None
        Field holding the zone name (``XZQMC``).
    encoding : str or None
        Attribute encoding; detected when None.
    crs : str or None
        As for :class:`LayerSpec`.
    names : dict of str to str
        Zone names by 6-digit code (``"990100"`` for the city ``9901``) from
        ``[zones.names]``: the names of the city and province rows of reports.
    """

    path: Path = setting(
        "The file: Shapefile, GeoPackage, File Geodatabase (`.gdb` folder), GeoJSON, "
        "FlatGeobuf or GeoParquet.",
        kind="string",
        required=True,
        example=PATH_EXAMPLE,
        field_default=False,
    )
    layer: str | None = setting(
        "The layer inside a GeoPackage or File Geodatabase. Required when the file has "
        "several layers.",
        kind="string",
        default=None,
        shown="none",
        field_default=False,
    )
    code_field: str = setting(
        "The field holding the 6-digit county code (行政区代码, usually `XZQDM`). The first "
        "two digits are the province and the first four the city, so results roll up to "
        "city and province.",
        kind="string",
        required=True,
        example='code_field = "XZQDM" (the field of 6-digit county codes)',
        field_default=False,
    )
    name_field: str | None = setting(
        "The field holding the zone name (行政区名称, usually `XZQMC`).",
        kind="string",
        default=None,
    )
    encoding: str | None = setting("As for layers.", kind="string", default=None, shown="detected")
    crs: str | None = setting("As for layers.", kind="string", default=None, shown="the file's")
    names: dict[str, str] = setting(
        "Names of provinces, cities and counties by code, for the rows the reports roll up "
        '(see below): `32 = "江苏省"`, `3201 = "南京市"`. A county named here takes this name '
        "instead of its `name_field`.",
        kind="table",
        default={},
        default_factory=dict,
        shown="none",
        label="`[zones.names]`",
    )


@dataclass(frozen=True)
class Override:
    """An exception to the priority order: one ``[[resolution.overrides]]`` entry.

    Attributes
    ----------
    name : str
        Name of the rule, as the conflict audit records it.
    mask : str
        Key of the layer whose polygons the exception applies inside (``core_zone``).
    priority : tuple of str
        The priority order inside the mask: the same layers as the main order, optionally with
        the mask layer itself among them (``("redline", "core_zone", "farmland", "urban")``
        takes farmland inside a core zone out of the farmland even where no red line is).
    """

    name: str = setting(
        "Name of the exception. The conflict audit records it in its `rule` column. Each "
        "override needs its own name.",
        kind="string",
        required=True,
        example='name = "核心保护区内耕地调出"',
    )
    mask: str = setting(
        "The layer whose polygons the exception applies inside, such as `core_zone`. It "
        "must not be one of the layers in the main `priority`.",
        kind="layer key",
        required=True,
        example='mask = "core_zone" (a layer key)',
    )
    priority: tuple[str, ...] = setting(
        "The order that holds inside the mask. It must name the layers of the main "
        "`priority`, each once, and may name the mask layer itself among them.",
        kind="array of layer keys",
        required=True,
        example=PRIORITY_EXAMPLE,
    )


@dataclass(frozen=True)
class Resolution:
    """The priority order and its exceptions: the ``[resolution]`` table.

    :class:`Config` holds them as its `priority` and `overrides`.

    Attributes
    ----------
    priority : tuple of str
        Layer keys, highest priority first.
    overrides : tuple of Override
        Exceptions to the priority order, in the file's order.
    """

    priority: tuple[str, ...] = setting(
        "Layers to resolve, highest priority first. The default is the rule: "
        "耕地和永久基本农田 → 生态保护红线 → 城镇开发边界. Where two of these layers overlap, "
        "the piece is taken out (调出) of the lower one. Each key must be a layer, named "
        "once, and at least two are needed.",
        kind="array of layer keys",
        default=DEFAULT_PRIORITY,
    )
    overrides: tuple[Override, ...] = setting(
        "Exceptions to the priority order, applied in the order given.",
        kind="array of tables",
        default=(),
        shown="none",
        label="`[[resolution.overrides]]`",
    )


@dataclass(frozen=True)
class Targets:
    """The binding plan targets (约束性指标): the ``[targets]`` table.

    Attributes
    ----------
    redline_min : float or None
        Red-line area must be at least this, in `unit`.
    farmland_min : float or None
        Permanent basic farmland area must be at least this, in `unit`.
    development_intensity_max_percent : float or None
        Construction land over land area must be at most this percentage.
    unit : str
        Unit of the area targets, one of :data:`geozones.units.AREA_UNITS`.
    construction_land : str
        Key of the layer counted as construction land for the development intensity.
    """

    redline_min: float | None = setting(
        "The red-line area must be at least this.",
        kind="number",
        default=None,
        above=0.0,
        hint=NO_TARGET_HINT,
        shown="no target",
    )
    farmland_min: float | None = setting(
        "The permanent basic farmland area must be at least this.",
        kind="number",
        default=None,
        above=0.0,
        hint=NO_TARGET_HINT,
        shown="no target",
    )
    development_intensity_max_percent: float | None = setting(
        "Development intensity (开发强度) must be at most this percentage. Development "
        "intensity is construction land divided by land area, where the land area is the "
        "area of the zones.",
        kind="number",
        default=None,
        above=0.0,
        maximum=100.0,
        hint="; it is a percentage of the land area: write 3.0 for 3 %" + NO_TARGET_HINT,
        shown="no target",
    )
    unit: str = setting(
        "Unit of `redline_min` and `farmland_min`.",
        kind="string",
        default="mu",
        shown="the top-level `unit`",
        choices=tuple(AREA_UNITS),
    )
    construction_land: str = setting(
        "The layer counted as construction land (建设用地) for the development intensity.",
        kind="layer key",
        default="urban",
    )


@dataclass(frozen=True)
class RasterSpec:
    """Rasters checked against the lines: the ``[rasters]`` table.

    Attributes
    ----------
    dem : pathlib.Path or None
        Digital elevation model (metres), absolute; the steep-farmland check runs when given.
    landcover : pathlib.Path or None
        Categorical land-cover raster, absolute; the land-cover composition of each line runs
        when given.
    slope_threshold_deg : float
        Slope in degrees above which farmland is steep (25°: to be returned to forest).
    steep_share_percent : float
        Parcels whose steep area is more than this percentage of their assessed area are
        listed one by one.
    landcover_classes : dict of int to str
        Land-cover pixel value to class name, in the file's order (``{1: "耕地"}``); classes
        not named are shown by their value.
    """

    dem: Path | None = setting(
        "A DEM (GeoTIFF or any raster GDAL reads), elevations in metres. Read window by "
        "window, never resampled: the parcels are reprojected to its CRS.",
        kind="string",
        default=None,
    )
    landcover: Path | None = setting(
        "A categorical land-cover raster (integer class codes; its nodata value is no class).",
        kind="string",
        default=None,
    )
    slope_threshold_deg: float = setting(
        "Slope in degrees above which land is steep. 25° is the limit above which cropland "
        "is to be returned to forest (退耕还林). Needs `dem`.",
        kind="number",
        default=25.0,
        above=0.0,
        below=90.0,
        hint="; a slope in degrees, 25 is the limit for cropland (退耕还林)",
    )
    steep_share_percent: float = setting(
        "Parcels whose steep area is more than this percentage of their assessed area are "
        "listed one by one (sheet 陡坡耕地, GeoPackage layer `steep_farmland`). `0` lists "
        "every parcel with any steep land. Needs `dem`.",
        kind="number",
        default=50.0,
        minimum=0.0,
        below=100.0,
        hint="; a percentage of each parcel's area: write 50 for half",
    )
    landcover_classes: dict[int, str] = setting(
        "Class names: pixel value (an integer key) = name, in the order the columns should "
        'have: `1 = "耕地"`. Classes found but not named are shown by their value (`地类 5`). '
        "Needs `landcover`.",
        kind="table",
        default={},
        default_factory=dict,
        shown="none",
        label="`[rasters.landcover_classes]`",
    )


@dataclass(frozen=True)
class BlockSpec:
    """Contiguous farmland blocks (百亩方 / 千亩方 / 万亩方): the ``[blocks]`` table.

    Attributes
    ----------
    gap_m : float
        Widest gap (m) between two farmland parcels of one block: field roads and ditches.
    barriers : str or None
        Key of the layer (rivers, highways) no block may cross, or None.
    """

    gap_m: float = setting(
        "Widest gap (m) between two parcels of one block: field roads (机耕路) and ditches "
        "(沟渠). A gap of exactly `gap_m` is bridged. `0` joins only parcels that touch.",
        kind="number",
        default=10.0,
        minimum=0.0,
        hint=" (m); the widest field road or ditch between parcels of one block, e.g. 10",
    )
    barriers: str | None = setting(
        "A layer of rivers, highways or railways (lines or polygons) that no block crosses: "
        "two parcels whose gap crosses it are not joined. It is read like every "
        "`[layers.KEY]`; its lines are not reported as data-quality problems. It must not be "
        "`farmland`.",
        kind="layer key",
        default=None,
    )


@dataclass(frozen=True, kw_only=True)
class Config:
    """A validated check configuration, as :func:`load_config` returns it.

    Attributes
    ----------
    source : pathlib.Path
        The configuration file, absolute.
    title : str
        Title of the reports; the file name without its suffix by default.
    language : {"zh", "en"}
        Language of report headers.
    unit : str
        Area unit of reports, one of :data:`geozones.units.AREA_UNITS`.
    sliver_m2 : float
        Pieces smaller than this (ellipsoidal m²) are slivers: reported, not taken out.
    xy_tolerance : float
        Coordinate tolerance in metres: boundaries closer than this are the same boundary
        (see :mod:`geozones.measure.tolerance`); 0.001 by default.
    zones : ZoneSpec
        The zones results are reported by.
    layers : dict of str to LayerSpec
        Every layer, by key, in the file's order; ``farmland``, ``redline`` and ``urban``
        are always present.
    priority : tuple of str
        Layer keys, highest priority first.
    overrides : tuple of Override
        Exceptions to the priority order, in the file's order.
    targets : Targets
        The binding plan targets.
    rasters : RasterSpec or None
        The DEM and land-cover rasters; None without a ``[rasters]`` table.
    blocks : BlockSpec or None
        How farmland blocks are found; None without a ``[blocks]`` table.
    """

    source: Path
    title: str = setting(
        "Title of the reports. Must not be blank.",
        kind="string",
        shown="the file name without `.toml`",
        field_default=False,
    )
    language: Literal["zh", "en"] = setting(
        'Language of report headers: `"zh"` (中文) or `"en"`.',
        kind="string",
        default="zh",
        choices=LANGUAGES,
    )
    unit: str = setting(
        "Area unit of reports, one of the units below.",
        kind="string",
        default="mu",
        choices=tuple(AREA_UNITS),
    )
    sliver_m2: float = setting(
        "Pieces smaller than this many m² (ellipsoidal) are slivers (碎片). Slivers are "
        "listed in every conflict report but are not taken out of any layer. `0` takes out "
        "every piece.",
        kind="number",
        default=200.0,
        minimum=0.0,
        hint=" (m²); 0 keeps every piece, 200 is common practice",
    )
    xy_tolerance: float = setting(
        "Coordinate tolerance in metres (ArcGIS's default XY tolerance): two boundaries "
        "closer than this are the same boundary. An overlap thinner than it everywhere is a "
        "*phantom*, digitising noise where neighbours share a boundary: counted in the "
        "report, not a conflict, not taken out. A genuine overlap wider than it is a "
        "conflict however small (then `sliver_m2` decides whether it is taken out). "
        "Resolution leaves no part thinner than it. `0` compares exact geometry. See "
        "[](conventions.md).",
        kind="number",
        default=DEFAULT_XY_TOLERANCE,
        minimum=0.0,
        maximum=MAX_XY_TOLERANCE,
        hint=" (metres); 0.001 is ArcGIS's default, 0 compares exact geometry",
    )
    zones: ZoneSpec = setting(
        "The zones results are reported by.",
        kind="table",
        required=True,
        field_default=False,
        label="`[zones]`",
    )
    layers: dict[str, LayerSpec] = setting(
        "The layers.",
        kind="tables",
        required=True,
        shown="`farmland`, `redline` and `urban` required",
        field_default=False,
        label="`[layers.KEY]`",
    )
    # The [resolution] table (:class:`Resolution`) fills `priority` and `overrides`.
    priority: tuple[str, ...] = setting(
        "How conflicts are resolved.",
        kind="table",
        name="resolution",
        default=DEFAULT_PRIORITY,
        shown="priority `farmland → redline → urban`, no overrides",
        label="`[resolution]`",
    )
    overrides: tuple[Override, ...] = ()
    targets: Targets = setting(
        "Binding plan targets.",
        kind="table",
        default=Targets(),
        default_factory=Targets,
        shown="no targets",
        label="`[targets]`",
    )
    rasters: RasterSpec | None = setting(
        "A DEM and a land-cover raster checked against the lines.",
        kind="table",
        default=None,
        shown="no rasters",
        label="`[rasters]`",
    )
    blocks: BlockSpec | None = setting(
        "Contiguous farmland blocks (百亩方 / 千亩方 / 万亩方) and fragmentation.",
        kind="table",
        default=None,
        shown="no blocks",
        label="`[blocks]`",
    )

    def read_layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Read every layer with :func:`geozones.read_layer`, as the configuration says.

        Returns
        -------
        dict of str to GeoDataFrame
            Layer key to layer, in the configuration's order.

        Raises
        ------
        GeozonesError
            Any error of :func:`geozones.read_layer`, its message prefixed with the
            configuration file and the layer's key.
        ConfigError
            `id_field` or `declared_area_field` is not a field of the layer.
        """
        layers = {}
        for key, spec in self.layers.items():
            frame = self._read(f"layers.{key}", spec.path, spec.layer, spec.encoding, spec.crs)
            self._check_field(frame, f"layers.{key}.id_field", spec.id_field)
            self._check_field(frame, f"layers.{key}.declared_area_field", spec.declared_area_field)
            layers[key] = frame
        return layers

    def read_zones(self) -> gpd.GeoDataFrame:
        """Read the zones with :func:`geozones.read_layer`, as the configuration says.

        Returns
        -------
        GeoDataFrame
            The zone polygons.

        Raises
        ------
        GeozonesError
            Any error of :func:`geozones.read_layer`, its message prefixed with the
            configuration file and ``zones``.
        ConfigError
            `code_field` or `name_field` is not a field of the layer.
        ZoneError
            A zone has no code or a malformed one, two zones share a code, or zones overlap
            (:func:`geozones.zones.check_zones`).

        Warns
        -----
        ZoneCodeWarning, ZoneGapWarning
            As :func:`geozones.zones.check_zones`.
        """
        spec = self.zones
        frame = self._read("zones", spec.path, spec.layer, spec.encoding, spec.crs)
        self._check_field(frame, "zones.code_field", spec.code_field)
        self._check_field(frame, "zones.name_field", spec.name_field)
        with self.errors_named("zones"):
            check_zones(
                frame,
                spec.code_field,
                name_field=spec.name_field,
                xy_tolerance=self.xy_tolerance,
                source=str(spec.path)
                if spec.layer is None
                else f"{spec.path} (layer {spec.layer})",
            )
        return frame

    def read_before(self, key: str) -> gpd.GeoDataFrame:
        """Read the version before of layer `key` (its ``before``) with :func:`read_layer`.

        Parameters
        ----------
        key : str
            A layer key whose table names a ``before`` version.

        Returns
        -------
        GeoDataFrame
            The version before.

        Raises
        ------
        KeyError
            The layer names no version before.
        GeozonesError
            Any error of :func:`geozones.read_layer`, its message prefixed with the
            configuration file and ``layers.KEY.before``.
        """
        spec = self.layers[key].before
        if spec is None:
            raise KeyError(f"layer {key!r} names no version before (layers.{key}.before)")
        where = f"layers.{key}.before"
        frame = self._read(where, spec.path, spec.layer, spec.encoding, spec.crs)
        self._check_field(frame, f"layers.{key}.id_field", self.layers[key].id_field)
        return frame

    def overrides_for_resolve(
        self, layers: Mapping[str, gpd.GeoDataFrame]
    ) -> dict[str, tuple[gpd.GeoDataFrame, tuple[str, ...]]]:
        """The `overrides` argument of :func:`geozones.resolve_conflicts`.

        Parameters
        ----------
        layers : mapping of str to GeoDataFrame
            The layers, as :meth:`read_layers` returns them; each override's mask is taken
            from them.

        Returns
        -------
        dict of str to (GeoDataFrame, tuple of str)
            Override name to (mask polygons, priority inside the mask).

        Raises
        ------
        ConfigError
            A mask layer is not in `layers`.

        Examples
        --------
        >>> config = load_config("sample_data/geozones.toml")
        >>> layers = config.read_layers()  # doctest: +SKIP
        >>> resolved, audit = geozones.resolve_conflicts(  # doctest: +SKIP
        ...     layers,
        ...     config.priority,
        ...     overrides=config.overrides_for_resolve(layers),
        ...     min_area_m2=config.sliver_m2,
        ... )
        """
        result: dict[str, tuple[gpd.GeoDataFrame, tuple[str, ...]]] = {}
        masks = self.override_masks()
        for index, override in enumerate(self.overrides):
            if override.mask not in layers:
                given = ", ".join(layers) or "none"
                raise ConfigError(
                    f"{self.source}: resolution.overrides[{index}].mask: the mask layer "
                    f"{override.mask!r} of override {override.name!r} is not among the layers "
                    f"given ({given}); pass the layers Config.read_layers() returns",
                    source=self.source,
                    key=f"resolution.overrides[{index}].mask",
                )
            result[override.name] = (layers[override.mask], masks[override.name][1])
        return result

    def override_masks(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """The overrides by layer key: name → (mask layer key, priority inside the mask).

        The `overrides` argument of :func:`geozones.stream_resolution`, whose masks are layers
        of a partitioned dataset. In the priority, the mask layer is named by the override's
        name, as :func:`geozones.resolve_conflicts` expects a mask that ranks itself.

        Returns
        -------
        dict of str to (str, tuple of str)
            Override name to (mask layer key, priority inside the mask).
        """
        return {
            override.name: (
                override.mask,
                tuple(override.name if p == override.mask else p for p in override.priority),
            )
            for override in self.overrides
        }

    @contextmanager
    def errors_named(self, key: str) -> Iterator[None]:
        """Prefix the message of any :class:`GeozonesError` raised inside with file and `key`.

        The error keeps its type: ``sample_data/geozones.toml: rasters.dem: cannot open …``.

        Parameters
        ----------
        key : str
            The dotted key of the configuration the work inside concerns (``rasters.dem``).

        Examples
        --------
        >>> config = load_config("sample_data/geozones.toml")
        >>> from geozones.errors import DataSourceError
        >>> with config.errors_named("rasters.dem"):  # doctest: +ELLIPSIS
        ...     raise DataSourceError("cannot open dem.tif")
        Traceback (most recent call last):
        geozones.errors.DataSourceError: .../geozones.toml: rasters.dem: cannot open dem.tif
        """
        try:
            yield
        except GeozonesError as error:
            raise _in_context(error, f"{self.source}: {key}: ") from error

    def _read(
        self, key: str, path: Path, layer: str | None, encoding: str | None, crs: str | None
    ) -> gpd.GeoDataFrame:
        with self.errors_named(key):
            return read_layer(path, layer, encoding=encoding, crs=crs)

    def _check_field(self, frame: gpd.GeoDataFrame, key: str, name: str | None) -> None:
        if name is None or name in frame.columns:
            return
        fields = [str(column) for column in frame.columns if column != frame.geometry.name]
        raise ConfigError(
            f"{self.source}: {key}: {name!r} is not a field of the layer"
            f"{did_you_mean(name, fields)}; "
            f"its fields are: {', '.join(fields) or 'none'}",
            source=self.source,
            key=key,
        )


_E = TypeVar("_E", bound=GeozonesError)


def _in_context(error: _E, prefix: str) -> _E:
    """`error` again, of the same type, its message prefixed (the original if that fails)."""
    try:
        return type(error)(prefix + str(error))
    except Exception:  # an error class with another signature: keep the original
        return error


# --------------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------------

#: The key tables of ``docs/config.md``, by marker name (see ``scripts/make_config_docs.py``).
KEY_TABLES: dict[str, type] = {
    "top": Config,
    "zones": ZoneSpec,
    "layers": LayerSpec,
    "before": BeforeSpec,
    "resolution": Resolution,
    "overrides": Override,
    "targets": Targets,
    "rasters": RasterSpec,
    "blocks": BlockSpec,
}
#: The keys of each table of the configuration, declared on the classes that hold them.
_TOP = keys_of(Config)
_ZONES = keys_of(ZoneSpec)
_LAYER = keys_of(LayerSpec)
_BEFORE = keys_of(BeforeSpec)
_RESOLUTION = keys_of(Resolution)
_OVERRIDE = keys_of(Override)
_TARGETS = keys_of(Targets)
_RASTERS = keys_of(RasterSpec)
_BLOCKS = keys_of(BlockSpec)
_TOML_TYPES: dict[type, str] = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "a table",
}
_LANGUAGE_ALIASES = {
    "cn": "zh",
    "chinese": "zh",
    "zh-cn": "zh",
    "zh_cn": "zh",
    "zh-hans": "zh",
    "中文": "zh",
    "english": "en",
    "en-us": "en",
    "en_us": "en",
    "英文": "en",
}


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a check configuration (TOML).

    Every key is checked: unknown keys (with a suggestion), types, units, the language,
    the priority order and its overrides, the targets, and that every file named exists.
    No GIS file is opened: :meth:`Config.read_layers` does that.

    Parameters
    ----------
    path : str or path-like
        The TOML file. Relative paths inside it are read from its folder.

    Returns
    -------
    Config
        The validated configuration, with absolute paths and defaults filled in: language
        ``"zh"``, unit ``"mu"``, ``sliver_m2`` 200, priority ``("farmland", "redline",
        "urban")``, ``declared_area_unit`` ``"m2"``, title the file name without its suffix,
        target unit the report unit, ``construction_land`` ``"urban"``.

    Raises
    ------
    ConfigError
        The file is missing, not UTF-8 or not valid TOML (the message gives the line and
        column), or a key is unknown, of the wrong type or value, or names a missing file.
        The message names the file and the dotted key, and says what to write.

    Examples
    --------
    >>> config = load_config("sample_data/geozones.toml")
    >>> config.unit, config.sliver_m2, config.language
    ('mu', 200.0, 'zh')
    >>> config.overrides[0].mask, config.overrides[0].priority
    ('core_zone', ('redline', 'core_zone', 'farmland', 'urban'))
    >>> config.targets.unit, config.targets.redline_min
    ('km2', 360.0)
    """
    display = os.fspath(path)
    source = Path(os.path.abspath(display))
    checker = _Checker(display, source)
    document = checker.parse()
    return checker.config(document)


class _Checker:
    """Validation of one configuration document, raising ConfigError naming file and key."""

    def __init__(self, display: str, source: Path) -> None:
        self.display = display
        self.source = source
        self.folder = source.parent

    # -- errors --------------------------------------------------------------------------------

    def fail(self, key: str | None, message: str, **position: int) -> NoReturn:
        where = f"{key}: " if key else ""
        raise ConfigError(
            f"{self.display}: {where}{message}", source=self.source, key=key, **position
        )

    # -- the file ------------------------------------------------------------------------------

    def parse(self) -> dict[str, Any]:
        try:
            data = self.source.read_bytes()
        except FileNotFoundError:
            self.fail(None, "no such configuration file; check the path")
        except IsADirectoryError:
            self.fail(None, "is a folder; name the configuration file (e.g. geozones.toml)")
        except OSError as error:
            self.fail(None, f"cannot be read ({error.strerror or error}); check its permissions")
        try:
            text = data.decode("utf-8-sig")  # Notepad may save a byte-order mark
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            self.fail(
                None,
                f"line {line}: not UTF-8 text (TOML files must be UTF-8; this one may be "
                "GBK); save it again with the encoding UTF-8",
                line=line,
            )
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            self._syntax_error(text, error)

    def _syntax_error(self, text: str, error: tomllib.TOMLDecodeError) -> NoReturn:
        message = str(error)
        match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        lines = text.splitlines()
        if match:
            line, column = int(match.group(1)), int(match.group(2))
            where = f"line {line}, column {column}"
        else:  # "(at end of document)"
            line, column = max(len(lines), 1), len(lines[-1]) + 1 if lines else 1
            where = f"line {line}, column {column} (the end of the file)"
        reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)$", "", message)
        source_line = lines[line - 1] if 0 < line <= len(lines) else ""
        table = _enclosing_table(lines[:line])
        within = f" (in [{table}])" if table else ""
        hint = _syntax_hint(reason, source_line)
        shown = f": {source_line.strip()}" if source_line.strip() else ""
        raise ConfigError(
            f"{self.display}: {where}{within}: not valid TOML: {reason}{shown}; {hint}",
            source=self.source,
            key=table,
            line=line,
            column=column,
        ) from None

    # -- sections ------------------------------------------------------------------------------

    def config(self, document: dict[str, Any]) -> Config:
        self.keys(document, None, _TOP)
        title = self.string(document, None, "title", default=self.source.stem)
        if not title.strip():
            self.fail("title", "is empty; give the reports a title or remove the key")
        language = self.choice(document, None, _TOP["language"], aliases=_LANGUAGE_ALIASES)
        unit = self.unit(document, None, _TOP["unit"])
        sliver = self.number_key(document, None, _TOP["sliver_m2"])
        xy_tolerance = self.number_key(document, None, _TOP["xy_tolerance"])
        zones = self.zones(self.table(document, None, "zones"))
        layers = self.layers(self.table(document, None, "layers"))
        resolution = self.table(document, None, "resolution", default={})
        settled = self.resolution(resolution, layers)
        targets = self.targets(self.table(document, None, "targets", default={}), layers, unit)
        rasters = (
            self.rasters(self.table(document, None, "rasters")) if "rasters" in document else None
        )
        blocks = (
            self.blocks(self.table(document, None, "blocks"), layers)
            if "blocks" in document
            else None
        )
        return Config(
            source=self.source,
            title=title,
            language=cast(Literal["zh", "en"], language),
            unit=unit,
            sliver_m2=sliver,
            xy_tolerance=xy_tolerance,
            zones=zones,
            layers=layers,
            priority=settled.priority,
            overrides=settled.overrides,
            targets=targets,
            rasters=rasters,
            blocks=blocks,
        )

    def zones(self, table: dict[str, Any]) -> ZoneSpec:
        self.keys(table, "zones", _ZONES)
        return ZoneSpec(
            path=self.path(table, "zones"),
            layer=self.optional_string(table, "zones", "layer"),
            code_field=self.string(table, "zones", "code_field"),
            name_field=self.optional_string(table, "zones", "name_field"),
            encoding=self.encoding(table, "zones"),
            crs=self.crs(table, "zones"),
            names=self.zone_names(table),
        )

    def layers(self, table: dict[str, Any]) -> dict[str, LayerSpec]:
        specs = {}
        for key, value in table.items():
            where = f"layers.{key}"
            if not isinstance(value, dict):
                self.fail(
                    where,
                    f"expected a table, got {_describe(value)}; write it as [{where}] "
                    'followed by path = "…" and the other keys on their own lines',
                )
            specs[key] = self.layer(value, where)
        missing = [key for key in REQUIRED_LAYERS if key not in specs]
        if missing:
            key = missing[0]
            suggestion = did_you_mean(key, [k for k in specs if k not in REQUIRED_LAYERS])
            self.fail(
                f"layers.{key}",
                f"required layer {key!r} is missing{suggestion}; every check needs "
                f"[layers.farmland] (永久基本农田), [layers.redline] (生态保护红线) and "
                f"[layers.urban] (城镇开发边界), each with a path",
            )
        return specs

    def layer(self, table: dict[str, Any], where: str) -> LayerSpec:
        self.keys(table, where, _LAYER)
        area_field = self.optional_string(table, where, "declared_area_field")
        if "declared_area_unit" in table and area_field is None:
            self.fail(
                f"{where}.declared_area_unit",
                "is set but declared_area_field is not; add declared_area_field = "
                '"TBMJ" (the field it applies to) or remove declared_area_unit',
            )
        return LayerSpec(
            path=self.path(table, where),
            layer=self.optional_string(table, where, "layer"),
            encoding=self.encoding(table, where),
            crs=self.crs(table, where),
            id_field=self.optional_string(table, where, "id_field"),
            declared_area_field=area_field,
            declared_area_unit=self.unit(table, where, _LAYER["declared_area_unit"]),
            before=self.before(table, where) if "before" in table else None,
        )

    def before(self, table: dict[str, Any], where: str) -> BeforeSpec:
        key = f"{where}.before"
        value = table["before"]
        if isinstance(value, str):
            return BeforeSpec(path=self.file(table, where, "before"))
        if not isinstance(value, dict):
            self.fail(
                key,
                f"expected a file name or a table, got {_describe(value)}; write "
                f'before = "YJJBNT_2023.shp", or a [{key}] table with path = "…"',
            )
        self.keys(value, key, _BEFORE)
        line = where.split(".", 1)[1]
        for name, spec in _BEFORE.items():
            lines = spec.lines
            if name in value and lines and line not in lines:
                self.fail(
                    f"{key}.{name}",
                    f"is a rule of {' and '.join(f'[layers.{k}]' for k in lines)}, not of "
                    f"[layers.{line}]; remove it",
                )
        quality = value.get("quality", _BEFORE["quality"].default)
        if not isinstance(quality, bool):
            self.fail(f"{key}.quality", f"expected true or false, got {_describe(quality)}")
        return BeforeSpec(
            path=self.path(value, key),
            layer=self.optional_string(value, key, "layer"),
            encoding=self.encoding(value, key),
            crs=self.crs(value, key),
            net_min=self.number_key(value, key, _BEFORE["net_min"]),
            quality=quality,
            cap=self.number_key(value, key, _BEFORE["cap"]),
            cap_percent=self.number_key(value, key, _BEFORE["cap_percent"]),
            urban_land_2020=self.number_key(value, key, _BEFORE["urban_land_2020"]),
            expansion_multiple=self.number_key(value, key, _BEFORE["expansion_multiple"]),
        )

    def resolution(self, table: dict[str, Any], layers: Mapping[str, LayerSpec]) -> Resolution:
        self.keys(table, "resolution", _RESOLUTION)
        if "priority" in table:
            priority = self.layer_list(table["priority"], "resolution.priority", layers)
            if len(priority) < 2:
                self.fail(
                    "resolution.priority",
                    "must name at least two layers, highest priority first, e.g. "
                    '["farmland", "redline", "urban"]',
                )
        else:
            priority = _RESOLUTION["priority"].default
        entries = table.get("overrides", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            self.fail(
                "resolution.overrides",
                f"expected an array of tables, got {_describe(entries)}; write each "
                "override as a [[resolution.overrides]] block (double brackets) with name, "
                "mask and priority",
            )
        overrides: list[Override] = []
        for index, entry in enumerate(entries):
            override = self.override(entry, f"resolution.overrides[{index}]", layers, priority)
            if any(o.name == override.name for o in overrides):
                self.fail(
                    f"resolution.overrides[{index}].name",
                    f"{override.name!r} names an earlier override too; give each one its own name",
                )
            overrides.append(override)
        return Resolution(priority=priority, overrides=tuple(overrides))

    def override(
        self,
        table: dict[str, Any],
        where: str,
        layers: Mapping[str, LayerSpec],
        priority: tuple[str, ...],
    ) -> Override:
        self.keys(table, where, _OVERRIDE)
        name = self.string(table, where, "name")
        if not name.strip():
            self.fail(f"{where}.name", "is empty; name the exception, e.g. 核心保护区内耕地调出")
        mask = self.layer_key(table, where, "mask", layers)
        if mask in priority:
            self.fail(
                f"{where}.mask",
                f"{mask!r} is one of the layers resolution.priority orders "
                f"({', '.join(priority)}); a mask must be another layer, e.g. the "
                "nature-reserve core zones (核心保护区): add it as [layers.core_zone] and use "
                'mask = "core_zone"',
            )
        order = self.layer_list(table["priority"], f"{where}.priority", layers)
        missing = [name for name in priority if name not in order]
        extra = [name for name in order if name not in priority and name != mask]
        if missing or extra:
            problems = []
            if missing:
                problems.append(f"it leaves out {', '.join(map(repr, missing))}")
            if extra:
                problems.append(f"{', '.join(map(repr, extra))} is not in resolution.priority")
            self.fail(
                f"{where}.priority",
                f"must order the same layers as resolution.priority "
                f"({', '.join(priority)}), optionally with the mask {mask!r} itself, in the "
                "order that holds inside the mask; "
                f"{' and '.join(problems)}",
            )
        return Override(name=name, mask=mask, priority=order)

    def targets(self, table: dict[str, Any], layers: Mapping[str, LayerSpec], unit: str) -> Targets:
        self.keys(table, "targets", _TARGETS)
        construction = (
            self.layer_key(table, "targets", "construction_land", layers)
            if "construction_land" in table
            else _TARGETS["construction_land"].default
        )
        return Targets(
            redline_min=self.number_key(table, "targets", _TARGETS["redline_min"]),
            farmland_min=self.number_key(table, "targets", _TARGETS["farmland_min"]),
            development_intensity_max_percent=self.number_key(
                table, "targets", _TARGETS["development_intensity_max_percent"]
            ),
            unit=self.unit(table, "targets", _TARGETS["unit"], default=unit),
            construction_land=construction,
        )

    def rasters(self, table: dict[str, Any]) -> RasterSpec:
        self.keys(table, "rasters", _RASTERS)
        dem = self.file(table, "rasters", "dem") if "dem" in table else None
        landcover = self.file(table, "rasters", "landcover") if "landcover" in table else None
        if dem is None and landcover is None:
            self.fail(
                "rasters",
                'names no raster; add dem = "dem.tif" (elevation, for steep farmland) or '
                'landcover = "landcover.tif" (land-cover classes), or remove [rasters]',
            )
        for key in ("slope_threshold_deg", "steep_share_percent"):
            if key in table and dem is None:
                self.fail(
                    f"rasters.{key}",
                    'applies to the steep-farmland check, which needs a DEM; add dem = "dem.tif" '
                    "to [rasters] or remove the key",
                )
        if "landcover_classes" in table and landcover is None:
            self.fail(
                "rasters.landcover_classes",
                'names the classes of a land-cover raster; add landcover = "landcover.tif" to '
                "[rasters] or remove the table",
            )
        slope = _RASTERS["slope_threshold_deg"]
        threshold = self.number_key(table, "rasters", slope)
        if slope.below is not None and threshold >= slope.below:
            self.fail(
                "rasters.slope_threshold_deg",
                f"must be less than {slope.below:g} (degrees), got "
                f"{table['slope_threshold_deg']}; 25 is the limit for cropland (退耕还林)",
            )
        steep = _RASTERS["steep_share_percent"]
        share = self.number_key(table, "rasters", steep)
        if steep.below is not None and share >= steep.below:
            self.fail(
                "rasters.steep_share_percent",
                f"must be less than {steep.below:g}, got {table['steep_share_percent']}: "
                "parcels whose "
                "steep share is more than this are listed, and no share is more than 100; "
                "write 50 for half",
            )
        return RasterSpec(
            dem=dem,
            landcover=landcover,
            slope_threshold_deg=threshold,
            steep_share_percent=share,
            landcover_classes=self.landcover_classes(table),
        )

    def landcover_classes(self, table: dict[str, Any]) -> dict[int, str]:
        where = "rasters.landcover_classes"
        if "landcover_classes" not in table:
            return {}
        classes = self.table(table, "rasters", "landcover_classes")
        result: dict[int, str] = {}
        for key in classes:
            if not re.fullmatch(r"[+-]?\d+", key.strip()):
                self.fail(
                    f"{where}.{key}",
                    "is not a class code; the keys are the pixel values of the land-cover "
                    'raster (integers), e.g. 1 = "耕地"',
                )
            code = int(key)
            if code in result:
                self.fail(f"{where}.{key}", f"names class {code} again; name each class once")
            value = self.string(classes, where, key)
            if not value.strip():
                self.fail(f"{where}.{key}", 'is empty; name the class, e.g. 1 = "耕地"')
            if value in result.values():
                self.fail(
                    f"{where}.{key}",
                    f"{value!r} names another class too; give each class its own name",
                )
            result[code] = value
        return result

    def zone_names(self, table: dict[str, Any]) -> dict[str, str]:
        where = "zones.names"
        if "names" not in table:
            return {}
        names = self.table(table, "zones", "names")
        result: dict[str, str] = {}
        for key in names:
            code = key.strip()
            if not re.fullmatch(r"\d{2}|\d{4}|\d{6}", code):
                self.fail(
                    f"{where}.{key}",
                    "is not a zone code; the keys are 2-digit province, 4-digit city or 6-digit "
                    'county codes, e.g. 32 = "江苏省" or 3201 = "南京市"',
                )
            full = code.ljust(6, "0")
            if full in result:
                self.fail(f"{where}.{key}", f"names zone {full} again; name each zone once")
            value = self.string(names, where, key)
            if not value.strip():
                self.fail(f"{where}.{key}", 'is empty; give the name, e.g. 32 = "江苏省"')
            result[full] = value.strip()
        return result

    def blocks(self, table: dict[str, Any], layers: Mapping[str, LayerSpec]) -> BlockSpec:
        self.keys(table, "blocks", _BLOCKS)
        gap = self.number_key(table, "blocks", _BLOCKS["gap_m"])
        barriers = (
            self.layer_key(table, "blocks", "barriers", layers) if "barriers" in table else None
        )
        if barriers == "farmland":
            self.fail(
                "blocks.barriers",
                "is the farmland itself; name the layer of rivers, highways or railways that "
                'cut blocks apart, e.g. barriers = "rivers" with a [layers.rivers] table',
            )
        return BlockSpec(gap_m=gap, barriers=barriers)

    # -- keys and values -----------------------------------------------------------------------

    def keys(
        self,
        table: dict[str, Any],
        where: str | None,
        schema: Mapping[str, Key],
    ) -> None:
        known = list(schema)
        required = [name for name, spec in schema.items() if spec.required]
        for key in table:
            if key not in known:
                self.fail(
                    _join(where, key),
                    f"unknown key{did_you_mean(key, known)}; the keys "
                    f"{'at the top level' if where is None else f'of [{where}]'} are: "
                    f"{', '.join(known)}",
                )
        for key in required:
            if key not in table:
                example = schema[key].example or f"[{key}]"
                if where is None:
                    place = "at the top of the file"
                elif where.startswith("resolution.overrides["):
                    place = "to that [[resolution.overrides]] block"
                else:
                    place = f"to [{where}]"
                self.fail(_join(where, key), f"missing; add {example} {place}")

    def table(
        self,
        table: dict[str, Any],
        where: str | None,
        key: str,
        *,
        default: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if key not in table and default is not None:
            return default
        value = table[key]
        if not isinstance(value, dict):
            name = _join(where, key)
            self.fail(name, f"expected a table, got {_describe(value)}; write it as [{name}]")
        return value

    def value(self, table: dict[str, Any], where: str | None, key: str, kind: type) -> Any:
        value = table[key]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            expected = _TOML_TYPES.get(kind, kind.__name__)
            fix = f'; write {key} = "{value}"' if kind is str and _is_scalar(value) else ""
            self.fail(_join(where, key), f"expected {expected}, got {_describe(value)}{fix}")
        return value

    def string(
        self, table: dict[str, Any], where: str | None, key: str, *, default: str | None = None
    ) -> str:
        if key not in table and default is not None:
            return default
        return cast(str, self.value(table, where, key, str))

    def optional_string(self, table: dict[str, Any], where: str, key: str) -> str | None:
        if key not in table:
            return None
        value = self.string(table, where, key)
        if not value.strip():
            self.fail(_join(where, key), "is empty; give a value or remove the key")
        return value

    def choice(
        self,
        table: dict[str, Any],
        where: str | None,
        spec: Key,
        *,
        default: str | None = None,
        aliases: Mapping[str, str] | None = None,
    ) -> str:
        key, choices = spec.name, spec.choices
        value = self.string(table, where, key, default=default or spec.default)
        if value in choices:
            return value
        guess = (aliases or {}).get(value.strip().lower()) or closest(value, choices)
        suggestion = f"; did you mean {guess!r}?" if guess else ""
        self.fail(
            _join(where, key),
            f"{value!r} is not allowed; use one of {', '.join(choices)}{suggestion}",
        )

    def unit(
        self, table: dict[str, Any], where: str | None, spec: Key, *, default: str | None = None
    ) -> str:
        return self.choice(table, where, spec, default=default, aliases=UNIT_ALIASES)

    def number_key(self, table: dict[str, Any], where: str | None, spec: Key) -> Any:
        """The number `spec` declares: its default when absent (None when it has none)."""
        if spec.name not in table:
            return spec.default if spec.has_default else None
        return self.number(table, where, spec.name, **spec.bounds())

    def number(
        self,
        table: dict[str, Any],
        where: str | None,
        key: str,
        *,
        default: float | None = None,
        minimum: float | None = None,
        above: float | None = None,
        maximum: float | None = None,
        hint: str = "",
    ) -> float:
        if key not in table and default is not None:
            return default
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            fix = "; write the number without quotes" if isinstance(value, str) else ""
            self.fail(_join(where, key), f"expected a number, got {_describe(value)}{fix}")
        number = float(value)
        name = _join(where, key)
        if not math.isfinite(number):
            self.fail(name, f"must be a finite number, got {value}")
        if minimum is not None and number < minimum:
            self.fail(name, f"must be {minimum:g} or more, got {value}{hint}")
        if above is not None and number <= above:
            self.fail(name, f"must be more than {above:g}, got {value}{hint}")
        if maximum is not None and number > maximum:
            self.fail(name, f"must be at most {maximum:g}, got {value}{hint}")
        return number

    def path(self, table: dict[str, Any], where: str) -> Path:
        return self.file(table, where, "path")

    def file(self, table: dict[str, Any], where: str, name: str) -> Path:
        value = self.string(table, where, name)
        key = f"{where}.{name}"
        if not value.strip():
            self.fail(key, "is empty; give the file's path")
        given = Path(value).expanduser()
        resolved = Path(os.path.abspath(self.folder / given))
        if not resolved.exists():
            relative = (
                "" if given.is_absolute() else f" (relative paths are read from {self.folder})"
            )
            self.fail(key, f"file not found: {resolved}{relative}; check the path")
        return resolved

    def encoding(self, table: dict[str, Any], where: str) -> str | None:
        value = self.optional_string(table, where, "encoding")
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                self.fail(
                    f"{where}.encoding",
                    f"unknown encoding {value!r}; use GBK, GB18030 or UTF-8, or remove the key "
                    "to have it detected",
                )
        return value

    def crs(self, table: dict[str, Any], where: str) -> str | None:
        key = f"{where}.crs"
        if isinstance(table.get("crs"), int) and not isinstance(table.get("crs"), bool):
            self.fail(key, f'expected a string, got an integer; write crs = "EPSG:{table["crs"]}"')
        value = self.optional_string(table, where, "crs")
        if value is None or value.strip().lower() == "infer":
            return value
        try:
            pyproj.CRS.from_user_input(value)
        except (pyproj.exceptions.CRSError, TypeError, ValueError) as error:
            self.fail(
                key,
                f"{value!r} is not a CRS pyproj understands ({error}); write an EPSG code such "
                'as "EPSG:4527", a WKT string, or "infer" to accept the CRS the coordinates '
                "suggest",
            )
        return value

    def layer_key(
        self, table: dict[str, Any], where: str, key: str, layers: Mapping[str, LayerSpec]
    ) -> str:
        value = self.string(table, where, key)
        if value not in layers:
            self.fail(
                f"{where}.{key}",
                f"{value!r} is not a layer key{did_you_mean(value, list(layers))}; the layers are: "
                f"{', '.join(layers)}",
            )
        return value

    def layer_list(self, value: Any, key: str, layers: Mapping[str, LayerSpec]) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(
                key,
                f"expected an array of layer keys, got {_describe(value)}; write e.g. "
                '["farmland", "redline", "urban"]',
            )
        seen: set[str] = set()
        for item in value:
            if item not in layers:
                self.fail(
                    key,
                    f"{item!r} is not a layer key{did_you_mean(item, list(layers))}; the layers "
                    f"are: {', '.join(layers)}",
                )
            if item in seen:
                self.fail(key, f"{item!r} is named twice; name each layer once")
            seen.add(item)
        return tuple(value)


# -- helpers ---------------------------------------------------------------------------------


def _join(where: str | None, key: str) -> str:
    return key if where is None else f"{where}.{key}"


def _is_scalar(value: Any) -> bool:
    return isinstance(value, int | float | str) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    for kind, name in _TOML_TYPES.items():
        if isinstance(value, kind):
            shown = repr(value) if _is_scalar(value) or isinstance(value, bool) else ""
            if isinstance(value, bool):
                shown = "true" if value else "false"
            return f"{name} {shown}".rstrip()
    return f"a {type(value).__name__} ({value})"  # dates and times


def _enclosing_table(lines: Sequence[str]) -> str | None:
    """The name of the last ``[table]`` or ``[[array]]`` header among `lines`."""
    for text in reversed(lines):
        match = re.match(r"\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$", text)
        if match:
            return match.group(1)
    return None


def _syntax_hint(reason: str, line: str) -> str:
    """What usually causes this TOML error, judged from the message and the line."""
    if any(mark in line for mark in "“”‘’＝［］"):
        return (
            "the line has Chinese (full-width) quotes, brackets or equals sign: type them "
            'in ASCII (" [ ] =)'
        )
    if "\\" in line and ("escape" in reason.lower() or "\\" in reason):
        return (
            "a backslash in a double-quoted string starts an escape: write Windows paths with "
            'forward slashes ("D:/data/YJJBNT.shp") or in single quotes '
            "('D:\\data\\YJJBNT.shp')"
        )
    if reason.startswith("Cannot declare") or reason.startswith("Cannot overwrite"):
        return "a key or table is given twice: keep one"
    if reason.startswith("Invalid value"):
        return 'text values need quotes (unit = "mu"), arrays brackets (priority = ["farmland", …])'
    if reason.startswith("Unterminated string"):
        return "a string is missing its closing quote"
    return "check the syntax at that position"
