"""Bulk spatial queries over shapely 2 STRtrees (no Django).

Every function takes and returns arrays, so a check over 100,000 points is a handful of vectorised calls,
never a Python loop over points. Predicates in ``STRtree.query`` are evaluated by GEOS against prepared
tree geometries; the tree prunes by bounding box first.
"""

import numpy as np
import shapely
from shapely import STRtree


class GeometryIndex:
    """An STRtree over a list of geometries (polygons, lines, or points), queried in bulk."""

    def __init__(self, geometries):
        self.geometries = np.asarray(geometries, dtype=object)
        shapely.prepare(self.geometries)
        self.tree = STRtree(self.geometries)

    def __len__(self):
        return len(self.geometries)

    def containing(self, points):
        """(point index, geometry index) arrays for every point lying inside (not on) a geometry."""
        if len(self.geometries) == 0 or len(points) == 0:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
        pairs = self.tree.query(points, predicate="within")
        return pairs[0], pairs[1]

    def within_distance(self, geoms, distance):
        """(input index, tree index, distance) arrays for every pair closer than or at distance."""
        if len(self.geometries) == 0 or len(geoms) == 0:
            empty = np.empty(0, dtype=np.intp)
            return empty, empty, np.empty(0)
        pairs = self.tree.query(geoms, predicate="dwithin", distance=distance)
        distances = shapely.distance(np.asarray(geoms)[pairs[0]], self.geometries[pairs[1]])
        return pairs[0], pairs[1], distances

    def nearest(self, geoms):
        """(tree index, distance) arrays: for each input geometry, its nearest tree geometry.

        Ties go to the lowest tree index. With an empty tree every index is -1 and every distance inf.
        """
        n = len(geoms)
        index = np.full(n, -1, dtype=np.intp)
        distance = np.full(n, np.inf)
        if len(self.geometries) == 0 or n == 0:
            return index, distance
        (inputs, tree_ids), dists = self.tree.query_nearest(geoms, return_distance=True, all_matches=True)
        # Several matches for one input only on exact ties: keep the first (lowest tree index).
        order = np.lexsort((tree_ids, inputs))
        inputs, tree_ids, dists = inputs[order], tree_ids[order], dists[order]
        first = np.ones(len(inputs), dtype=bool)
        first[1:] = inputs[1:] != inputs[:-1]
        index[inputs[first]] = tree_ids[first]
        distance[inputs[first]] = dists[first]
        return index, distance
