"""Reading layers: files and their text encodings, CRS, geometry validity, the layer report.

The lowest layer above the base modules (``errors``, ``choices``, ``units``, ``outputs``,
``parallel``); see docs/architecture.md.
"""

from geozones.io.read import read_layer

__all__ = ["read_layer"]
