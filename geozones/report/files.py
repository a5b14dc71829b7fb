"""File names built from data (county names, titles), made safe.

:func:`safe_filename` lives in :mod:`geozones.outputs`, with everything else about writing
outputs; it is importable from here too.
"""

from __future__ import annotations

from geozones.outputs import safe_filename

__all__ = ["safe_filename"]
