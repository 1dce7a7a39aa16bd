"""Product structure: cycles are refused, low-level codes are kept."""

import pytest
from django.core.exceptions import ValidationError

from planning.models import BomLine
from planning.services import bom_line_save, bom_low_level_codes_update
from resources.models import Item
from tests.factories import BomFactory, BomLineFactory, ItemFactory


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
