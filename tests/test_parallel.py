"""Work split over threads gives what one call gives."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geozones.parallel import MIN_QUERY_BLOCK, query_pairs


def random_boxes(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, 1_000, (count, 2))
    size = rng.uniform(1, 30, (count, 2))
    return shapely.box(corner[:, 0], corner[:, 1], *(corner + size).T)


@pytest.mark.parametrize("predicate", [None, "intersects", "contains"])
def test_query_in_threads_gives_the_pairs_of_one_query(predicate):
    tree_geoms = random_boxes(3_000, seed=1)
    queried = random_boxes(5 * MIN_QUERY_BLOCK + 17, seed=2)
    queried[10] = None
    queried[MIN_QUERY_BLOCK + 3] = shapely.Polygon()
    expected = shapely.STRtree(tree_geoms).query(queried, predicate=predicate)
    # A fresh tree each time: GEOS builds it at its first query.
    found = query_pairs(shapely.STRtree(tree_geoms), queried, predicate=predicate, threads=2)
    assert found.shape[1] > 100
    np.testing.assert_array_equal(found, expected)


def test_prepared_polygons_are_queried_with_a_predicate_in_one_thread():
    tree_geoms = random_boxes(500, seed=3)
    queried = random_boxes(3 * MIN_QUERY_BLOCK, seed=4)
    queried[5::7] = queried[5]  # one prepared polygon at many places
    shapely.prepare(queried[5])
    tree = shapely.STRtree(tree_geoms)
    expected = tree.query(queried, predicate="intersects")
    calls = []
    whole = tree.query

    def spy(geoms, **kwargs):
        calls.append(len(np.atleast_1d(geoms)))
        return whole(geoms, **kwargs)

    tree.query = spy
    found = query_pairs(tree, queried, predicate="intersects", threads=2)
    np.testing.assert_array_equal(found, expected)
    assert calls == [len(queried)]
    calls.clear()
    query_pairs(tree, queried, threads=2)  # no predicate: the prepared polygon is not used
    assert len(calls) > 2
