"""Product structure: cycles are refused, low-level codes are kept."""

import pytest
from django.core.exceptions import ValidationError

from planning.bomgraph import bom_find_cycle, bom_low_level_codes
from planning.models import BomLine
from planning.services import bom_line_save, bom_low_level_codes_update
from resources.models import Item
from tests.factories import BomFactory, BomLineFactory, ItemFactory


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


@pytest.mark.django_db
def test_line_closing_a_cycle_is_refused_and_not_saved():
    a, b, c = ItemFactory(code="A"), ItemFactory(code="B"), ItemFactory(code="C")
    bom_a, bom_b = BomFactory(item=a), BomFactory(item=b)
    BomLineFactory(bom=bom_a, component=b)
    bom_line_save(line=BomLine(bom=bom_b, line_no=10, component=c, quantity=2))
    bom_c = BomFactory(item=c)
    with pytest.raises(ValidationError, match="A → B → C → A"):
        bom_line_save(line=BomLine(bom=bom_c, line_no=10, component=a, quantity=1))
    assert not BomLine.objects.filter(bom=bom_c).exists()
    assert dict(Item.objects.values_list("code", "low_level_code")) == {"A": 0, "B": 1, "C": 2}


@pytest.mark.django_db
def test_component_cannot_be_its_own_parent():
    a = ItemFactory(code="A")
    with pytest.raises(ValidationError, match="component"):
        bom_line_save(line=BomLine(bom=BomFactory(item=a), line_no=10, component=a, quantity=1))


@pytest.mark.django_db
def test_low_level_codes_update_counts_changes():
    top, mid, leaf = ItemFactory(), ItemFactory(), ItemFactory()
    BomLineFactory(bom=BomFactory(item=top), component=mid)
    BomLineFactory(bom=BomFactory(item=mid), component=leaf)
    assert bom_low_level_codes_update() == 2
    assert bom_low_level_codes_update() == 0
