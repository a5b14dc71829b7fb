"""geozones in QGIS: a Processing provider that runs the geozones command line.

QGIS calls :func:`classFactory`. The modules that need no QGIS (the runner, the configuration
writer, the capabilities) import without it, so they are tested in geozones' own environment.
"""


def classFactory(iface):
    """Create the plugin (QGIS calls this with its interface, qgis_process with None)."""
    from .plugin import GeozonesPlugin

    return GeozonesPlugin(iface)
