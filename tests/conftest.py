"""Hypothesis profiles: ``ci`` replays the same examples on every run, ``fuzz`` explores.

``make test`` (and so CI) runs ``--hypothesis-profile=ci``: a red run then means a change broke
something, never that this run drew an unlucky example. ``make fuzz`` runs the property tests
with fresh random examples each time; what it finds becomes a fixed example or a test.
"""

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("fuzz", derandomize=False, print_blob=True)
