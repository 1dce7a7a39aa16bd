"""Pure functions on the product structure graph (parent → component edges)."""

from collections import defaultdict
from collections.abc import Hashable, Iterable

Edge = tuple[Hashable, Hashable]


def bom_find_cycle(edges: Iterable[Edge]) -> list | None:
    """Return one cycle as [a, b, …, a] if the parent→component graph has one, else None.

    Iterative depth-first search (BOMs can be deep enough to hit Python's recursion limit).
    """
    children: dict = defaultdict(list)
    for parent, child in edges:
        children[parent].append(child)
    white, grey, black = 0, 1, 2
    colour: dict = defaultdict(int)
    for root in list(children):
        if colour[root] != white:
            continue
        stack = [(root, iter(children[root]))]
        path = [root]
        colour[root] = grey
        while stack:
            node, it = stack[-1]
            child = next(it, None)
            if child is None:
                colour[node] = black
                stack.pop()
                path.pop()
                continue
            if colour[child] == grey:
                return path[path.index(child) :] + [child]
            if colour[child] == white:
                colour[child] = grey
                path.append(child)
                stack.append((child, iter(children.get(child, ()))))
    return None


def bom_low_level_codes(edges: Iterable[Edge], nodes: Iterable[Hashable] = ()) -> dict:
    """Deepest level of every node (0 for end items); the graph must be acyclic.

    Longest path from any root, computed in topological order (Kahn's algorithm).
    """
    edges = list(edges)
    children: dict = defaultdict(list)
    indegree: dict = defaultdict(int)
    all_nodes = set(nodes)
    for parent, child in edges:
        children[parent].append(child)
        indegree[child] += 1
        all_nodes.update((parent, child))
    level = {n: 0 for n in all_nodes}
    queue = [n for n in all_nodes if indegree[n] == 0]
    seen = 0
    while queue:
        node = queue.pop()
        seen += 1
        for child in children[node]:
            level[child] = max(level[child], level[node] + 1)
            indegree[child] -= 1
            if indegree[child] == 0:
                queue.append(child)
    if seen != len(all_nodes):
        raise ValueError("The BOM graph has a cycle.")
    return level
