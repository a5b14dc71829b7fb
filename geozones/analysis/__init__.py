"""The analyses on measured layers: coverage, conflicts, blocks, sites, versions and more.

Coverage, conflicts and their resolution, farmland blocks, site checks, targets, control
totals, the comparison of versions, and the checks of declared areas.
"""
