"""Product structure, pure: cycles found without recursion, low-level codes."""

import pytest

from planning.engines.bomgraph import bom_find_cycle, bom_low_level_codes


def test_find_cycle_pure():
    assert bom_find_cycle([("A", "B"), ("B", "C"), ("A", "C")]) is None
    assert bom_find_cycle([("A", "B"), ("B", "C"), ("C", "A")]) == ["A", "B", "C", "A"]
    assert bom_find_cycle([("A", "A")]) == ["A", "A"]


def test_find_cycle_deep_chain_does_not_recurse():
    edges = [(i, i + 1) for i in range(5000)]
    assert bom_find_cycle(edges) is None
    assert bom_find_cycle([*edges, (5000, 0)])[0] == 0


def test_low_level_codes_take_the_deepest_use():
    # A → B → C and A → C directly: C is at level 2, not 1.
    levels = bom_low_level_codes([("A", "B"), ("B", "C"), ("A", "C")], ["D"])
    assert levels == {"A": 0, "B": 1, "C": 2, "D": 0}
    with pytest.raises(ValueError):
        bom_low_level_codes([("A", "B"), ("B", "A")])
