"""Write the tutorial notebooks from the cell sources below, outputs stripped.

Run: .venv/bin/python scripts/build_notebooks.py  (make test executes the notebooks)
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

QUICK_START = [
    new_markdown_cell(
        "# 01 Quick start: read the sample province, see what was repaired, measure shares\n\n"
        "The sample province (`sample_data/`, made by `scripts/make_sample_data.py`) arrives the "
        "way real deliveries do: the farmland is a GBK shapefile without a `.cpg`, the other "
        "lines are in a GeoPackage, the CRS is CGCS2000 3-degree Gauss–Krüger zone 39 with the "
        "zone number prefixed to the eastings, and some geometries are broken."
    ),
    new_code_cell(
        "import warnings\n"
        "from pathlib import Path\n\n"
        "import geozones\n\n"
        "DATA = Path('../sample_data')\n"
        "if not DATA.exists():  # run from the repository root\n"
        "    DATA = Path('sample_data')\n"
        "warnings.simplefilter('always', geozones.GeozonesWarning)"
    ),
    new_markdown_cell(
        "## Read the layers\n\n"
        "`read_layer` decides the shapefile's encoding from its bytes and warns that it guessed; "
        "it repairs invalid polygons and keeps null geometries, flagged."
    ),
    new_code_cell(
        "counties = geozones.read_layer(DATA / 'sanqusanxian.gpkg', 'XZQ')\n"
        "redline = geozones.read_layer(DATA / 'sanqusanxian.gpkg', 'STBHHX')\n"
        "urban = geozones.read_layer(DATA / 'sanqusanxian.gpkg', 'CZKFBJ')\n"
        "farmland = geozones.read_layer(DATA / 'YJJBNT.shp')\n"
        "print(geozones.layer_report(farmland).summary())"
    ),
    new_code_cell(
        "report = geozones.layer_report(farmland)\n"
        "assert report.encoding == 'GBK' and report.encoding_guessed\n"
        "report.issues"
    ),
    new_markdown_cell(
        "## Area the way official statistics measure it\n\n"
        "Ellipsoidal area on CGCS2000, in 亩 here. The planar figure of the Gauss–Krüger plane is "
        "larger this far from the central meridian; the difference is what `method='planar'` "
        "would get wrong."
    ),
    new_code_cell(
        "ellipsoidal = geozones.area(farmland, unit='mu')\n"
        "planar = geozones.area(farmland, unit='mu', method='planar')\n"
        "print(f'farmland: {ellipsoidal.sum():,.2f} 亩 ellipsoidal, '\n"
        "      f'{planar.sum():,.2f} 亩 planar '\n"
        "      f'({planar.sum() / ellipsoidal.sum() - 1:+.2e})')\n"
        "assert planar.sum() > ellipsoidal.sum()"
    ),
    new_markdown_cell(
        "## Shares per county, city and province\n\n"
        "Each line is dissolved first, so features that overlap inside a line count once. "
        "County rows add up to their city and province rows."
    ),
    new_code_cell(
        "shares = geozones.coverage(redline, counties, by='XZQDM', unit='km2',\n"
        "                           levels=('county', 'city', 'province'))\n"
        "shares.round(2)"
    ),
    new_code_cell(
        "province = shares.loc['990000']\n"
        "county_rows = shares[shares['level'] == 'county']\n"
        "assert abs(province['covered_area'] - county_rows['covered_area'].sum()) < 1e-9\n"
        "print(f\"red line covers {province['percent']:.2f} % of the province\")"
    ),
    new_markdown_cell("## Declared area (TBMJ) against computed area"),
    new_code_cell("geozones.check_declared_area(farmland, 'TBMJ', rel_tol=0.01).round(2)"),
    new_markdown_cell("## A static map"),
    new_code_cell(
        "import matplotlib\n"
        "matplotlib.use('Agg')\n"
        "ax = counties.boundary.plot(color='grey', linewidth=0.5, figsize=(7, 6))\n"
        "redline.plot(ax=ax, color='tab:green', alpha=0.5)\n"
        "urban.plot(ax=ax, color='tab:red', alpha=0.5)\n"
        "farmland.plot(ax=ax, color='gold')\n"
        "ax.set_axis_off()"
    ),
]


def main() -> None:
    folder = Path(__file__).resolve().parent.parent / "notebooks"
    folder.mkdir(exist_ok=True)
    notebook = new_notebook(cells=QUICK_START)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, folder / "01_quick_start.ipynb")


if __name__ == "__main__":
    main()
