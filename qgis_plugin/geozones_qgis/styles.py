"""How the plugin's output layers look: the lines in their usual colours, conflicts in magenta.

Red line green, permanent farmland yellow, urban development boundary a red outline without
fill, conflicts and the pieces taken out magenta, farmland blocks by class, coverage by share,
a site check by verdict, land taken out of a version red and put in blue (as the
comparison's HTML page draws them). The colours are opaque, so a rendered map shows exactly
them (the screenshot test checks the pixels).
"""

from __future__ import annotations

from typing import ClassVar

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsFillSymbol,
    QgsGraduatedSymbolRenderer,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
    QgsRendererCategory,
    QgsRendererRange,
    QgsSingleSymbolRenderer,
    QgsVectorLayer,
)

#: The colour of each line and of conflicts, as ``#rrggbb``.
COLOURS: dict[str, str] = {
    "redline": "#00a03c",
    "farmland": "#ffdd00",
    "urban": "#e60000",
    "conflicts": "#ff00ff",
    "outline": "#505050",
    "taken_out": "#d62728",
    "put_in": "#1f6fd1",
}
#: Block classes (as geozones names them) and their fill, smallest first.
BLOCK_COLOURS: tuple[tuple[str, str], ...] = (
    ("<100亩", "#fff3a0"),
    ("百亩方", "#ffdd00"),
    ("千亩方", "#f0a000"),
    ("万亩方", "#c05a00"),
)
#: Coverage percentage classes and their fill (light to dark green).
COVERAGE_CLASSES: tuple[tuple[float, float, str], ...] = (
    (0.0, 5.0, "#edf8e9"),
    (5.0, 10.0, "#bae4b3"),
    (10.0, 15.0, "#74c476"),
    (15.0, 25.0, "#31a354"),
    (25.0, 100.0, "#006d2c"),
)


def _fill(colour: str, outline: str | None = None, width: float = 0.26) -> QgsFillSymbol:
    return QgsFillSymbol.createSimple(
        {
            "color": colour,
            "style": "solid",
            "outline_color": outline or COLOURS["outline"],
            "outline_width": str(width),
            "outline_width_unit": "MM",
        }
    )


def _outline(colour: str, width: float = 0.6) -> QgsFillSymbol:
    return QgsFillSymbol.createSimple(
        {
            "color": "0,0,0,0",
            "style": "no",
            "outline_color": colour,
            "outline_width": str(width),
            "outline_width_unit": "MM",
        }
    )


def symbol_for(key: str) -> QgsFillSymbol | None:
    """The single symbol of a style key, or None for the keys drawn by class."""
    if key == "redline":
        return _fill(COLOURS["redline"], outline="#006428", width=0.2)
    if key == "farmland":
        return _fill(COLOURS["farmland"], outline="#b89b00", width=0.1)
    if key == "urban":
        return _outline(COLOURS["urban"])
    if key == "conflicts":
        return _fill(COLOURS["conflicts"], outline="#800080")
    if key in ("taken_out", "put_in"):
        return _fill(COLOURS[key], outline="#303030", width=0.2)
    if key == "zones":
        return _outline(COLOURS["outline"], width=0.4)
    return None


def apply_style(layer: QgsVectorLayer, key: str) -> None:
    """Give `layer` the look of `key`.

    Keys: ``redline``, ``farmland``, ``urban``, ``conflicts``, ``zones``, ``blocks``,
    ``coverage``, ``site_check``, ``overlap_count``, ``taken_out``, ``put_in``, ``qc``.
    """
    symbol = symbol_for(key)
    if symbol is not None:
        layer.setRenderer(QgsSingleSymbolRenderer(symbol))
    elif key == "blocks":
        categories = [
            QgsRendererCategory(name, _fill(colour), name) for name, colour in BLOCK_COLOURS
        ]
        layer.setRenderer(QgsCategorizedSymbolRenderer("class", categories))
    elif key == "site_check":
        categories = [
            QgsRendererCategory("pass", _fill("#7fc97f", outline="#1b7837"), "pass"),
            QgsRendererCategory("fail", _fill(COLOURS["conflicts"], outline="#800080"), "fail"),
        ]
        layer.setRenderer(QgsCategorizedSymbolRenderer("verdict", categories))
    elif key == "qc":
        categories = [
            QgsRendererCategory("error", _fill("#d62728", outline="#7f1416"), "error"),
            QgsRendererCategory("warning", _fill("#ff9f1c", outline="#a35f00"), "warning"),
        ]
        layer.setRenderer(QgsCategorizedSymbolRenderer("severity", categories))
    elif key == "overlap_count":
        ranges = [
            QgsRendererRange(1.5, 2.5, _fill("#ff80ff", outline="#800080"), "2"),
            QgsRendererRange(2.5, 99.0, _fill(COLOURS["conflicts"], outline="#800080"), "3+"),
        ]
        layer.setRenderer(QgsGraduatedSymbolRenderer("count", ranges))
    elif key == "coverage":
        ranges = [
            QgsRendererRange(low, high, _fill(colour), f"{low:g}–{high:g} %")
            for low, high, colour in COVERAGE_CLASSES
        ]
        layer.setRenderer(QgsGraduatedSymbolRenderer("percent", ranges))
    else:
        return
    layer.triggerRepaint()


class StylePostProcessor(QgsProcessingLayerPostProcessorInterface):
    """Styles an output layer when Processing loads it into the project."""

    _kept: ClassVar[list[StylePostProcessor]] = []

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def postProcessLayer(
        self, layer: QgsVectorLayer, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> None:
        """Apply the style (Processing calls this in the main thread)."""
        if isinstance(layer, QgsVectorLayer):
            apply_style(layer, self.key)

    @classmethod
    def create(cls, key: str) -> StylePostProcessor:
        """A post-processor for `key`, kept alive (Processing does not own Python objects)."""
        processor = cls(key)
        cls._kept.append(processor)
        return processor
