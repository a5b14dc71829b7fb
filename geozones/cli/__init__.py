"""The ``geozones`` command line."""

from geozones.cli.main import cli, main

__all__ = ["cli", "main"]
