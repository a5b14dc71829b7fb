"""Static maps of a report, drawn offline with matplotlib and returned as PNG bytes.

Nothing is downloaded: no tiles, no fonts. Figures are :class:`matplotlib.figure.Figure`
objects drawn on an Agg canvas, never through :mod:`matplotlib.pyplot`, so no figure outlives
the call and nothing is registered in pyplot's global state; the drawing runs inside
``matplotlib.style.context("default")`` so that a user's style does not change the maps. The
output is the same bytes for the same report: fixed figure size and resolution, and no
timestamp or software version in the PNG metadata.

Chinese text needs a CJK font. :func:`cjk_font` looks for one among the installed fonts (Noto
Sans CJK, Source Han, WenQuanYi, SimHei, …). Without one the maps are labelled in English,
zones by their codes, and :func:`font_note` gives the sentence a report shows under the maps:
a map never shows missing-glyph boxes.
"""

from __future__ import annotations

import functools
import io
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj
import shapely

from geozones.choices import checked_choice
from geozones.report import i18n
from geozones.units import UNIT_LABELS, square_metres_per

try:
    import matplotlib
    import matplotlib.style
    import PIL.Image
    from matplotlib import font_manager, patheffects
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PathCollection
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.ft2font import FT2Font
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle
    from matplotlib.path import Path
except ImportError as error:  # pragma: no cover - matplotlib is in the test extras
    raise ImportError(
        "the report maps need matplotlib; install it with: pip install 'geozones[plot]'"
    ) from error

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from geozones.report.model import Report

__all__ = [
    "DPI",
    "FIGSIZE",
    "MapCanvas",
    "blocks_figure",
    "blocks_map",
    "cjk_font",
    "conflicts_figure",
    "conflicts_map",
    "font_note",
    "font_note_for",
    "labels_language",
    "overview_figure",
    "overview_map",
]

#: Size of every map in inches, and its resolution: the PNG is 1080 × 960 pixels.
FIGSIZE: tuple[float, float] = (9.0, 8.0)
DPI: int = 120

# Font family names (as matplotlib lists them) and file names of fonts that draw Chinese.
_CJK_FAMILIES = (
    "Noto Sans CJK",
    "Noto Sans SC",
    "Source Han Sans",
    "WenQuanYi",
    "Microsoft YaHei",
    "SimHei",
    "Sarasa",
    "Noto Serif CJK",
    "Source Han Serif",
    "SimSun",
    "AR PL",
    "Droid Sans Fallback",
)
_CJK_FILES = (
    "notosanscjk",
    "notosanssc",
    "sourcehansans",
    "wqy",
    "msyh",
    "simhei",
    "sarasa",
    "notoserifcjk",
    "sourcehanserif",
    "simsun",
    "uming",
    "ukai",
    "droidsansfallback",
)
# Characters a font must have to be used for the maps' Chinese labels.
_PROBE = "三区三线生态保护红线永久基本农田城镇开发边界冲突图斑亩北县区"

# How each line is drawn; keys are matched case-insensitively against the layer key.
_STYLES: dict[str, dict[str, Any]] = {
    "redline": {"facecolor": "#2e9d4e", "edgecolor": "#17632d", "alpha": 0.55, "lw": 0.4},
    "farmland": {"facecolor": "#e8b90f", "edgecolor": "#b08a00", "alpha": 0.9, "lw": 0.15},
    "urban": {"facecolor": "none", "edgecolor": "#d62020", "alpha": 1.0, "lw": 1.3},
}
_ALIASES = {
    "stbhhx": "redline",
    "red_line": "redline",
    "ecological": "redline",
    "yjjbnt": "farmland",
    "permanent_farmland": "farmland",
    "basic_farmland": "farmland",
    "czkfbj": "urban",
    "urban_boundary": "urban",
}
_OTHER_COLOURS = ("#1f77b4", "#9467bd", "#8c564b", "#17becf", "#7f7f7f")
_DRAW_ORDER = {"redline": 0, "farmland": 1, "urban": 2}

_NAMES = {key: {"zh": zh, "en": en} for key, (zh, en) in i18n.pairs("maps.line").items()}
_TEXT = {key: {"zh": zh, "en": en} for key, (zh, en) in i18n.pairs("maps.text").items()}
_CLASS_COLOURS = {2: "#ff00ff", 3: "#6a0080", 4: "#000000"}
# Farmland block classes (geozones.analysis.blocks.BLOCK_CLASSES), light to dark as they grow.
_BLOCK_COLOURS = {
    "<100亩": "#c9c9c9",
    "百亩方": "#f6c453",
    "千亩方": "#e07a2e",
    "万亩方": "#8c2d04",
}
_SAME_LAYER_COLOUR = "#ff7f0e"
_MAX_ZONE_LABELS = 40
# Figure fraction below which the legend sits.
_LEGEND_TOP = 0.115


# --------------------------------------------------------------------------- fonts


def cjk_font() -> str | None:
    """Return the file of an installed font that draws Chinese, or None.

    Looks first among the fonts matplotlib knows (``font_manager.fontManager.ttflist``) for
    families such as Noto Sans CJK, Source Han Sans, WenQuanYi, Microsoft YaHei or SimHei, then
    among the system's font files (a font installed after matplotlib built its cache). A
    candidate is used only if it has glyphs for the maps' Chinese labels. The search runs once
    per process.

    Returns
    -------
    str or None
        Path of the font file, or None when no installed font draws Chinese.
    """
    return _find_cjk_font()


@functools.cache
def _find_cjk_font() -> str | None:
    def rank(entry: font_manager.FontEntry) -> tuple[int, int, float, str]:
        family = next(
            i for i, name in enumerate(_CJK_FAMILIES) if name.lower() in entry.name.lower()
        )
        weight = entry.weight if isinstance(entry.weight, int | float) else 400
        return (family, entry.style != "normal", abs(float(weight) - 400), entry.fname)

    known = [
        entry
        for entry in font_manager.fontManager.ttflist
        if any(name.lower() in entry.name.lower() for name in _CJK_FAMILIES)
    ]
    for entry in sorted(known, key=rank):
        if _has_glyphs(entry.fname, _PROBE):
            return str(entry.fname)
    files = []
    for fname in font_manager.findSystemFonts():
        stem = FilePath(fname).name.lower().replace("-", "").replace("_", "").replace(" ", "")
        for position, pattern in enumerate(_CJK_FILES):
            if pattern in stem:
                files.append((position, "bold" in stem or "light" in stem, fname))
                break
    for _, _, fname in sorted(files):
        if _has_glyphs(fname, _PROBE):
            return str(fname)
    return None


@functools.cache
def _charmap(fname: str) -> frozenset[int]:
    try:
        return frozenset(FT2Font(fname).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return frozenset()


def _has_glyphs(fname: str, text: str) -> bool:
    codes = _charmap(str(fname))
    return all(ord(char) in codes for char in text if not char.isspace())


def _default_font() -> str:
    # The DejaVu Sans that ships with matplotlib: the same font whatever the user's rcParams.
    return str(FilePath(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf"))


@dataclass(frozen=True)
class _Font:
    """The font of a map and the language its labels are written in."""

    path: str
    language: str
    cjk: bool

    def props(self, size: float) -> FontProperties:
        return FontProperties(fname=self.path, size=size)

    def draws(self, text: str) -> bool:
        return _has_glyphs(self.path, text)

    def text(self, key: str, **values: object) -> str:
        return _TEXT[key][self.language].format(**values)


def _font(report: Report) -> _Font:
    return _font_for(report.language)


def _font_for(language: str) -> _Font:
    path = cjk_font()
    if path is None:
        return _Font(_default_font(), "en", cjk=False)
    return _Font(path, "zh" if language == "zh" else "en", cjk=True)


def labels_language(report: Report) -> str:
    """The language the maps of `report` are labelled in.

    Parameters
    ----------
    report : Report
        The report the maps are drawn for.

    Returns
    -------
    str
        The report's language (``zh`` or ``en``) when a CJK font is installed, else ``en``.
    """
    return _font(report).language


def font_note(report: Report) -> str | None:
    """The note a report shows under its maps when they could not be labelled in Chinese.

    Parameters
    ----------
    report : Report
        The report the maps are drawn for; the note is in its language.

    Returns
    -------
    str or None
        None when the maps are labelled as the report's language asks (a CJK font is
        installed, or the report is in English and every zone name can be drawn).
    """
    return font_note_for(report.language, [str(name) for name in report.zones["name"]])


def font_note_for(language: str, names: Sequence[str] = ()) -> str | None:
    """The note under maps labelled in `language` that show `names`, as :func:`font_note`.

    Parameters
    ----------
    language : str
        ``zh`` or ``en``: the language of the page, and of the note.
    names : sequence of str
        Zone names the maps would show.

    Returns
    -------
    str or None
        None when the maps can be labelled as `language` asks.
    """
    checked_choice(language, i18n.LANGUAGES, what="report language")
    if cjk_font() is not None:
        return None
    default = _default_font()
    if language != "zh" and all(_has_glyphs(default, name) for name in names):
        return None
    return i18n.text("maps.text.no_cjk_font", language)


# --------------------------------------------------------------------------- geometry


def _style_key(key: str) -> str:
    lowered = key.lower()
    return _ALIASES.get(lowered, lowered)


def _line_name(key: str, language: str) -> str:
    names = _NAMES.get(_style_key(key))
    return names[language] if names else key


def _geometries(frame: Any) -> np.ndarray:
    geoms = np.asarray(frame.geometry.array, dtype=object)
    if len(geoms) == 0:
        return geoms
    return geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]


def _paths(geoms: np.ndarray, chunk: int = 4096) -> list[Path]:
    """Compound matplotlib paths of the polygons, `chunk` polygons per path, holes as holes."""
    if len(geoms) == 0:
        return []
    parts = shapely.get_parts(geoms)
    parts = parts[shapely.get_type_id(parts) == shapely.GeometryType.POLYGON]
    parts = parts[~shapely.is_empty(parts)]
    if len(parts) == 0:
        return []
    # Exterior rings counter-clockwise, holes clockwise: the non-zero fill rule leaves holes.
    parts = shapely.orient_polygons(parts)
    rings, owner = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    codes = np.full(len(coords), Path.LINETO, dtype=Path.code_type)
    starts = np.flatnonzero(np.r_[True, ring_of[1:] != ring_of[:-1]])
    ends = np.r_[starts[1:], len(coords)] - 1
    codes[starts] = Path.MOVETO
    codes[ends] = Path.CLOSEPOLY
    polygon_of_vertex = owner[ring_of]
    cuts = np.searchsorted(polygon_of_vertex, np.arange(0, len(parts), chunk))
    cuts = np.r_[cuts, len(coords)]
    return [Path(coords[a:b], codes[a:b]) for a, b in itertools.pairwise(cuts) if b > a]


def _draw(ax: Axes, geoms: np.ndarray, *, zorder: float, **style: Any) -> None:
    paths = _paths(geoms)
    if not paths:
        return
    collection = PathCollection(
        paths,
        facecolors=style.get("facecolor", "none"),
        edgecolors=style.get("edgecolor", "black"),
        linewidths=style.get("lw", 0.5),
        alpha=style.get("alpha"),
        zorder=zorder,
    )
    ax.add_collection(collection, autolim=False)


def _in_box(geoms: np.ndarray, box: Sequence[float]) -> np.ndarray:
    if len(geoms) == 0:
        return geoms
    return geoms[shapely.intersects(geoms, shapely.box(*box))]


def _padded(bounds: Sequence[float], fraction: float, minimum: float) -> tuple[float, ...]:
    x0, y0, x1, y1 = (float(v) for v in bounds)
    pad = max((x1 - x0) * fraction, (y1 - y0) * fraction, minimum)
    return (x0 - pad, y0 - pad, x1 + pad, y1 + pad)


def _ground_scale(crs: Any, box: Sequence[float]) -> tuple[float, float] | None:
    """Metres per x unit of `crs` in `box`, and the aspect ratio that shows the map true."""
    if crs is None:
        return None
    crs = pyproj.CRS.from_user_input(crs)
    if crs.is_geographic:
        x0, y0, x1, y1 = box
        lat = max(min((y0 + y1) / 2, 89.0), -89.0)
        lon = (x0 + x1) / 2
        _, _, metres = crs.get_geod().inv(lon - 0.5, lat, lon + 0.5, lat)
        return float(metres), 1.0 / math.cos(math.radians(lat))
    if crs.is_projected and crs.axis_info:
        factor = crs.axis_info[0].unit_conversion_factor
        if factor and factor > 0:
            return float(factor), 1.0
    return None


def _nice(value: float) -> float:
    """The largest 1, 2 or 5 times a power of ten that is not above `value`."""
    exponent = math.floor(math.log10(value))
    for step in (5.0, 2.0, 1.0):
        if step * 10**exponent <= value:
            return step * 10**exponent
    return 10.0**exponent  # pragma: no cover - log10 makes the loop return


def _scale_bar(ax: Axes, font: _Font, box: Sequence[float], metres_per_unit: float) -> None:
    x0, y0, x1, y1 = box
    width_m = (x1 - x0) * metres_per_unit
    length_m = _nice(width_m * 0.2)
    label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    length = length_m / metres_per_unit
    height = (y1 - y0) * 0.012
    left = x1 - (x1 - x0) * 0.07 - length
    bottom = y0 + (y1 - y0) * 0.04
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (left + i * length / 4, bottom),
                length / 4,
                height,
                facecolor="black" if i % 2 == 0 else "white",
                edgecolor="black",
                lw=0.8,
                zorder=10,
            )
        )
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]
    for x, text in ((left, "0"), (left + length, label)):
        ax.text(
            x,
            bottom + height * 1.6,
            text,
            ha="center",
            va="bottom",
            fontproperties=font.props(8),
            path_effects=halo,
            zorder=10,
        )


def _north_arrow(ax: Axes, font: _Font) -> None:
    ax.annotate(
        font.text("north"),
        xy=(0.955, 0.97),
        xytext=(0.955, 0.87),
        xycoords="axes fraction",
        textcoords="axes fraction",
        ha="center",
        va="top",
        fontproperties=font.props(11),
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
        zorder=10,
    )


def _zone_labels(ax: Axes, report: Report, font: _Font, box: Sequence[float]) -> None:
    zones = report.zones
    if len(zones) == 0 or zones["zone"].nunique() > _MAX_ZONE_LABELS:
        return
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for code, group in zones.groupby("zone", sort=True):
        geoms = _geometries(group)
        if len(geoms) == 0:
            continue
        point = shapely.point_on_surface(shapely.union_all(geoms))
        x, y = point.x, point.y
        if not (box[0] <= x <= box[2] and box[1] <= y <= box[3]):
            continue
        name = str(group["name"].iloc[0])
        text = name if name and font.draws(name) else str(code)
        ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            color="#333333",
            fontproperties=font.props(9),
            path_effects=halo,
            zorder=9,
        )


def _new_figure(size: tuple[float, float] = FIGSIZE) -> tuple[Figure, Axes]:
    figure = Figure(figsize=size, dpi=DPI)
    FigureCanvasAgg(figure)
    # A fixed layout: title above, legend below; the map keeps its aspect inside the box.
    ax = figure.add_axes((0.02, _LEGEND_TOP + 0.01, 0.96, 0.9 - _LEGEND_TOP - 0.01))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("white")
    return figure, ax


def _frame(ax: Axes, crs: Any, box: Sequence[float], font: _Font) -> None:
    """Limits, aspect, scale bar and north arrow."""
    scale = _ground_scale(crs, box)
    ax.set_xlim(box[0], box[2])
    ax.set_ylim(box[1], box[3])
    ax.set_aspect(scale[1] if scale else 1.0, adjustable="box")
    if scale is not None:
        _scale_bar(ax, font, box, scale[0])
    _north_arrow(ax, font)


def _decorate(figure: Figure, font: _Font, title: str, handles: Sequence[Any], ncols: int) -> None:
    """Title at the top of the figure, legend (if any) below the map."""
    figure.text(0.5, 0.975, title, ha="center", va="top", fontproperties=font.props(13))
    if handles:
        figure.legend(
            handles=list(handles),
            loc="upper center",
            bbox_to_anchor=(0.5, _LEGEND_TOP),
            ncols=ncols,
            prop=font.props(9),
            frameon=False,
        )


def _png(figure: Figure) -> bytes:
    """The figure as an indexed-colour PNG, without the software version or a timestamp.

    A map has a few flat colours and their anti-aliased edges, which a palette of 256 colours
    holds without a visible change: the file is about a quarter of a full-colour PNG's, and
    encoding it takes half the time (the pages embed 3 maps each, for every county).
    """
    canvas = figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    image = PIL.Image.fromarray(rgba[..., :3]).quantize(  # RGB, from the shape
        256, method=PIL.Image.Quantize.FASTOCTREE, dither=PIL.Image.Dither.NONE
    )
    buffer = io.BytesIO()
    image.save(buffer, format="png", dpi=(DPI, DPI))
    return buffer.getvalue()


def _title(report: Report, font: _Font, key: str) -> str:
    if report.scope == "all":
        scope = report.title if font.draws(report.title) else font.text("all")
    else:
        name = report.scope_name
        scope = f"{name} ({report.scope})" if name and font.draws(name) else report.scope
    return f"{scope}\n{font.text(key)}"


def _ordered_lines(report: Report) -> list[str]:
    keys = list(report.lines)
    return sorted(keys, key=lambda k: (_DRAW_ORDER.get(_style_key(k), 3), keys.index(k)))


def _line_style(key: str, position: int) -> dict[str, Any]:
    style = _STYLES.get(_style_key(key))
    if style is not None:
        return style
    colour = _OTHER_COLOURS[position % len(_OTHER_COLOURS)]
    return {"facecolor": "none", "edgecolor": colour, "alpha": 1.0, "lw": 1.0}


def _legend_patch(style: dict[str, Any], label: str) -> Patch:
    return Patch(
        facecolor=style["facecolor"],
        edgecolor=style["edgecolor"],
        alpha=style["alpha"],
        lw=max(style["lw"], 0.8),
        label=label,
    )


def _markers(
    ax: Axes, geoms: np.ndarray, box: Sequence[float], zorder: float, **style: Any
) -> None:
    """Mark the pieces too small to see at the map's scale (under 1 % of its width)."""
    if len(geoms) == 0:
        return
    extent = shapely.bounds(geoms)
    size = np.maximum(extent[:, 2] - extent[:, 0], extent[:, 3] - extent[:, 1])
    geoms = geoms[size < 0.01 * (box[2] - box[0])]
    if len(geoms) == 0:
        return
    points = shapely.point_on_surface(geoms)
    xy = shapely.get_coordinates(points)
    ax.plot(xy[:, 0], xy[:, 1], linestyle="none", zorder=zorder, **style)


def _area_text(area_m2: float, report: Report, language: str) -> str:
    unit = report.unit
    value = area_m2 / square_metres_per(unit)
    label = UNIT_LABELS[unit][language]
    return f"{value:,.2f} {label}"


def _sliver_flags(report: Report) -> np.ndarray:
    conflicts = report.conflicts
    if len(conflicts) == 0 or "sliver" not in conflicts:
        return np.zeros(len(conflicts), dtype=bool)
    return np.asarray(conflicts["sliver"].fillna(False), dtype=bool)


# --------------------------------------------------------------------------- maps


def overview_map(report: Report) -> bytes:
    r"""Draw the zones and the lines, with the conflict pieces on top, as a PNG.

    The red line is filled green, farmland gold, the urban development boundary is outlined
    in red, other checked layers are outlined in their own colours; conflict pieces are filled
    magenta with a black outline, and ringed when too small to see (slivers get a grey cross).
    A legend, a scale bar (from the CRS's units; degrees are converted at the map's mid
    latitude) and a north arrow (grid north) complete the map.

    Parameters
    ----------
    report : Report
        A report from :func:`geozones.report.build_report`, or one county's part of it.

    Returns
    -------
    bytes
        The PNG image, 1080 × 960 pixels.

    See Also
    --------
    overview_figure : The same map as a matplotlib figure.

    Examples
    --------
    >>> import geozones
    >>> from geozones.report import build_report
    >>> report = build_report(geozones.load_config("sample_data/geozones.toml"))
    >>> overview_map(report.for_zone("990122"))[:8]
    b'\x89PNG\r\n\x1a\n'
    """
    with matplotlib.style.context("default"):
        return _png(_overview(report))


def overview_figure(report: Report) -> Figure:
    """The map of :func:`overview_map` as a :class:`matplotlib.figure.Figure` (Agg canvas).

    Parameters
    ----------
    report : Report
        A report or one county's part of it.

    Returns
    -------
    matplotlib.figure.Figure
        A figure not registered with pyplot: it is freed when no longer referenced.
    """
    with matplotlib.style.context("default"):
        return _overview(report)


def _overview(report: Report) -> Figure:
    font = _font(report)
    figure, ax = _new_figure()
    zone_geoms = _geometries(report.zones)
    bounds: Sequence[float]
    if len(zone_geoms):
        bounds = shapely.total_bounds(zone_geoms)
    else:
        every = [_geometries(frame) for frame in report.lines.values()]
        joined = np.concatenate(every) if every else np.empty(0, dtype=object)
        bounds = shapely.total_bounds(joined) if len(joined) else (0.0, 0.0, 1.0, 1.0)
    box = _padded(bounds, 0.03, 1.0)
    handles: list[Patch | Line2D] = []

    for position, key in enumerate(_ordered_lines(report)):
        style = _line_style(key, position)
        _draw(ax, _geometries(report.lines[key]), zorder=2 + position * 0.1, **style)
        handles.append(_legend_patch(style, _line_name(key, font.language)))

    _draw(
        ax,
        zone_geoms,
        zorder=4,
        facecolor="none",
        edgecolor="#555555",
        lw=0.9,
    )
    handles.append(Line2D([], [], color="#555555", lw=0.9, label=font.text("zones")))

    if len(report.conflicts):
        geoms = np.asarray(report.conflicts.geometry.array, dtype=object)
        slivers = _sliver_flags(report)
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        big = geoms[present & ~slivers]
        small = geoms[present & slivers]
        _draw(ax, big, zorder=6, facecolor="#ff00ff", edgecolor="black", lw=0.6, alpha=1.0)
        _markers(ax, big, box, 7, marker="o", ms=9, mfc="none", mec="black", mew=2.4)
        _markers(ax, big, box, 7.1, marker="o", ms=9, mfc="none", mec="#ff00ff", mew=1.2)
        _markers(ax, small, box, 7, marker="x", ms=5, mec="#555555", mew=1.0)
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                ms=9,
                mfc="#ff00ff",
                mec="black",
                label=font.text("conflict", n=len(big)),
            )
        )
        if len(small):
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker="x",
                    ms=6,
                    mec="#555555",
                    label=font.text("sliver", n=len(small), t=report.sliver_m2),
                )
            )

    _zone_labels(ax, report, font, box)
    _frame(ax, report.zones.crs, box, font)
    _decorate(figure, font, _title(report, font, "overview"), handles, ncols=3)
    return figure


def conflicts_map(report: Report) -> bytes:
    """Draw the conflict pieces, zoomed to their extent and coloured by overlap class.

    Land covered by two, three and four or more lines (:attr:`Report.overlaps`) is coloured
    magenta, purple and black, and overlaps between features of one layer orange; each piece is
    also marked by a ring so that small ones stay visible. The legend gives each class's number
    of pieces and area, in the report's unit. The lines are drawn faintly underneath, with a
    scale bar and a north arrow. A report without conflicts gives a map saying so.

    Parameters
    ----------
    report : Report
        A report from :func:`geozones.report.build_report`, or one county's part of it.

    Returns
    -------
    bytes
        The PNG image, 1080 × 960 pixels.

    See Also
    --------
    conflicts_figure : The same map as a matplotlib figure.
    """
    with matplotlib.style.context("default"):
        return _png(_conflicts(report))


def conflicts_figure(report: Report) -> Figure:
    """The map of :func:`conflicts_map` as a :class:`matplotlib.figure.Figure` (Agg canvas).

    Parameters
    ----------
    report : Report
        A report or one county's part of it.

    Returns
    -------
    matplotlib.figure.Figure
        A figure not registered with pyplot: it is freed when no longer referenced.
    """
    with matplotlib.style.context("default"):
        return _conflicts(report)


def _conflicts(report: Report) -> Figure:
    font = _font(report)
    figure, ax = _new_figure()
    conflicts = report.conflicts
    pieces = _geometries(conflicts) if len(conflicts) else np.empty(0, dtype=object)
    if len(pieces) == 0:
        ax.text(
            0.5,
            0.5,
            font.text("none"),
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontproperties=font.props(16),
        )
        _decorate(figure, font, _title(report, font, "conflicts"), [], ncols=1)
        return figure

    box = _padded(shapely.total_bounds(pieces), 0.12, 100.0)
    for position, key in enumerate(_ordered_lines(report)):
        style = dict(_line_style(key, position))
        if style["facecolor"] != "none":
            style["alpha"] = style["alpha"] * 0.45
        _draw(ax, _in_box(_geometries(report.lines[key]), box), zorder=2, **style)
    _draw(
        ax,
        _in_box(_geometries(report.zones), box),
        zorder=3,
        facecolor="none",
        edgecolor="#555555",
        lw=0.9,
    )

    handles: list[Patch | Line2D] = []
    for position, key in enumerate(_ordered_lines(report)):
        style = dict(_line_style(key, position))
        if style["facecolor"] != "none":
            style["alpha"] = style["alpha"] * 0.45
        handles.append(_legend_patch(style, _line_name(key, font.language)))

    classes = _count_classes(report)
    for label_key, count, colour, geoms, area_m2 in classes:
        _draw(ax, geoms, zorder=6, facecolor=colour, edgecolor="black", lw=0.6, alpha=0.9)
        _markers(ax, geoms, box, 7, marker="o", ms=10, mfc="none", mec=colour, mew=1.6)
        handles.append(
            Patch(
                facecolor=colour,
                edgecolor="black",
                label=font.text(
                    label_key, k=count, n=len(geoms), a=_area_text(area_m2, report, font.language)
                ),
            )
        )

    _frame(ax, report.zones.crs, box, font)
    _decorate(figure, font, _title(report, font, "conflicts"), handles, ncols=2)
    return figure


def _count_classes(report: Report) -> list[tuple[str, int, str, np.ndarray, float]]:
    """(label key, count, colour, geometries, area in m²) per overlap class present."""
    classes: list[tuple[str, int, str, np.ndarray, float]] = []
    overlaps = report.overlaps
    if len(overlaps) and "count" in overlaps:
        counts = np.asarray(overlaps["count"], dtype=int)
        geoms = np.asarray(overlaps.geometry.array, dtype=object)
        areas = np.asarray(overlaps["area_m2"], dtype=float)
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        top = max(_CLASS_COLOURS)
        for count in sorted(set(np.minimum(counts[present], top).tolist())):
            chosen = present & (np.minimum(counts, top) == count)
            key = "count_many" if count == top else "count"
            classes.append(
                (key, count, _CLASS_COLOURS[count], geoms[chosen], float(areas[chosen].sum()))
            )
    conflicts = report.conflicts
    if len(conflicts):
        same = np.asarray(conflicts["layer_a"] == conflicts["layer_b"], dtype=bool)
        geoms = np.asarray(conflicts.geometry.array, dtype=object)
        same = same & ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        if same.any():
            area = float(np.asarray(conflicts["area_m2"], dtype=float)[same].sum())
            classes.append(("same", 0, _SAME_LAYER_COLOUR, geoms[same], area))
    return classes


def blocks_map(report: Report) -> bytes:
    """Draw the contiguous farmland blocks, filled by class (百亩方, 千亩方, 万亩方), as a PNG.

    Blocks under 100 亩 are grey, 百亩方 yellow, 千亩方 orange and 万亩方 dark brown, each
    drawn by its outline (:attr:`Report.blocks`) and ringed when too small to see; the legend
    gives each class's number of blocks and their area in the report's unit. Zone boundaries,
    a scale bar and a north arrow complete the map. Without a CJK font the labels are in
    English (:func:`font_note`).

    Parameters
    ----------
    report : Report
        A report whose configuration has a ``[blocks]`` table, or one county's part of it.

    Returns
    -------
    bytes
        The PNG image, 1080 × 960 pixels.

    See Also
    --------
    blocks_figure : The same map as a matplotlib figure.
    """
    with matplotlib.style.context("default"):
        return _png(_blocks(report))


def blocks_figure(report: Report) -> Figure:
    """The map of :func:`blocks_map` as a :class:`matplotlib.figure.Figure` (Agg canvas).

    Parameters
    ----------
    report : Report
        A report or one county's part of it.

    Returns
    -------
    matplotlib.figure.Figure
        A figure not registered with pyplot: it is freed when no longer referenced.
    """
    with matplotlib.style.context("default"):
        return _blocks(report)


def _blocks(report: Report) -> Figure:
    font = _font(report)
    figure, ax = _new_figure()
    zone_geoms = _geometries(report.zones)
    outlines = _geometries(report.blocks) if len(report.blocks) else np.empty(0, dtype=object)
    if len(zone_geoms):
        bounds: Sequence[float] = shapely.total_bounds(zone_geoms)
    elif len(outlines):
        bounds = shapely.total_bounds(outlines)
    else:
        bounds = (0.0, 0.0, 1.0, 1.0)
    box = _padded(bounds, 0.03, 1.0)
    _draw(ax, zone_geoms, zorder=4, facecolor="none", edgecolor="#555555", lw=0.9)
    handles: list[Patch | Line2D] = []
    if len(report.blocks):
        present = ~(
            shapely.is_missing(np.asarray(report.blocks.geometry.array, dtype=object))
            | shapely.is_empty(np.asarray(report.blocks.geometry.array, dtype=object))
        )
        frame = report.blocks[present]
        geoms = np.asarray(frame.geometry.array, dtype=object)
        classes = frame["class"].astype(str).to_numpy()
        areas = frame["area_m2"].to_numpy(dtype=float)
        for position, (label, colour) in enumerate(_BLOCK_COLOURS.items()):
            chosen = classes == label
            if not chosen.any():
                continue
            style = {"facecolor": colour, "edgecolor": "#3a3a3a", "lw": 0.4, "alpha": 1.0}
            _draw(ax, geoms[chosen], zorder=5 + position * 0.1, **style)
            _markers(ax, geoms[chosen], box, 7, marker="o", ms=8, mfc="none", mec=colour, mew=1.6)
            area = _area_text(float(areas[chosen].sum()), report, font.language)
            handles.append(
                Patch(
                    facecolor=colour,
                    edgecolor="#3a3a3a",
                    label=font.text(label, n=int(chosen.sum()), a=area),
                )
            )
    else:
        ax.text(
            0.5,
            0.5,
            font.text("no_blocks"),
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontproperties=font.props(16),
        )
    handles.append(Line2D([], [], color="#555555", lw=0.9, label=font.text("zones")))
    _zone_labels(ax, report, font, box)
    _frame(ax, report.zones.crs, box, font)
    _decorate(figure, font, _title(report, font, "blocks"), handles, ncols=2)
    return figure


# --------------------------------------------------------------------------- maps of other results


@dataclass
class MapCanvas:
    r"""A blank map in the style of the report maps, for the maps of other results.

    The same fixed layout as :func:`overview_map` (title above, legend below), font (a CJK font
    when one is installed, else English labels), scale bar and north arrow; offline, on an Agg
    canvas, the same bytes for the same drawing.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
        The figure (not registered with pyplot).
    ax : matplotlib.axes.Axes
        The map's axes, in the data's coordinates.
    language : str
        The language the map can be labelled in: ``zh`` only when a CJK font is installed.

    Examples
    --------
    >>> import numpy as np
    >>> from shapely import box
    >>> canvas = MapCanvas.new("en", size=(4.0, 4.0))
    >>> canvas.draw(np.array([box(0, 0, 100, 50)]), facecolor="#e8b90f")
    >>> png = canvas.finish(box=(-10, -10, 110, 60), crs=4527, title="Farmland")
    >>> png[:8]
    b'\x89PNG\r\n\x1a\n'
    """

    figure: Figure
    ax: Axes
    language: str
    _font: _Font

    @classmethod
    def new(cls, language: str = "zh", *, size: tuple[float, float] = FIGSIZE) -> MapCanvas:
        """A blank map labelled in `language` (English without a CJK font), `size` inches."""
        font = _font_for(language)
        with matplotlib.style.context("default"):
            figure, ax = _new_figure(size)
        return cls(figure, ax, font.language, font)

    def draws(self, text: str) -> bool:
        """Whether the map's font has a glyph for every character of `text`."""
        return self._font.draws(text)

    def draw(
        self,
        geoms: np.ndarray,
        *,
        zorder: float = 2.0,
        facecolor: str = "none",
        edgecolor: str = "black",
        lw: float = 0.5,
        alpha: float | None = None,
    ) -> None:
        """Draw polygons (holes as holes); null and empty ones are skipped."""
        geoms = np.asarray(geoms, dtype=object)
        if len(geoms):
            geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
        with matplotlib.style.context("default"):
            _draw(
                self.ax,
                geoms,
                zorder=zorder,
                facecolor=facecolor,
                edgecolor=edgecolor,
                lw=lw,
                alpha=alpha,
            )

    def mark_small(
        self, geoms: np.ndarray, box: Sequence[float], *, zorder: float = 7.0, **style: Any
    ) -> None:
        """Mark with a symbol (matplotlib ``plot`` style) polygons under 1 % of the map's width."""
        geoms = np.asarray(geoms, dtype=object)
        if len(geoms):
            geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
        with matplotlib.style.context("default"):
            _markers(self.ax, geoms, box, zorder, **style)

    def mark(self, geoms: np.ndarray, *, zorder: float = 7.0, **style: Any) -> None:
        """Mark each polygon with a symbol at a point on its surface (matplotlib ``plot`` style)."""
        geoms = np.asarray(geoms, dtype=object)
        if len(geoms):
            geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
        if len(geoms) == 0:
            return
        xy = shapely.get_coordinates(shapely.point_on_surface(geoms))
        with matplotlib.style.context("default"):
            self.ax.plot(xy[:, 0], xy[:, 1], linestyle="none", zorder=zorder, **style)

    def finish(
        self,
        *,
        box: Sequence[float],
        crs: Any,
        title: str,
        handles: Sequence[Any] = (),
        ncols: int = 3,
    ) -> bytes:
        """Set the extent `box` (in `crs`), add scale bar, north arrow, title and legend.

        Parameters
        ----------
        box : sequence of float
            ``(xmin, ymin, xmax, ymax)`` shown.
        crs : CRS-like
            The data's CRS, for the scale bar.
        title : str
            Written above the map.
        handles : sequence of matplotlib artists
            Legend entries (``matplotlib.patches.Patch``, ``matplotlib.lines.Line2D``).
        ncols : int, default 3
            Legend columns.

        Returns
        -------
        bytes
            The PNG image.
        """
        with matplotlib.style.context("default"):
            _frame(self.ax, crs, box, self._font)
            _decorate(self.figure, self._font, title, handles, ncols)
            return _png(self.figure)

    def legend_font(self) -> FontProperties:
        """The font of legend entries, for handles that need one."""
        return self._font.props(9)
