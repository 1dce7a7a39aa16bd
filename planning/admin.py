from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from resources.models import Item

from .bomgraph import bom_find_cycle
from .models import Bom, BomLine, Routing, RoutingStep


class BomLineFormSet(BaseInlineFormSet):
    """Refuses lines that would close a cycle in the product structure, before saving."""

    def clean(self):
        super().clean()
        parent = self.instance.item_id
        if parent is None:
            return
        edges = list(
            BomLine.objects.exclude(bom=self.instance.pk)
            .values_list("bom__item_id", "component_id")
            .distinct()
        )
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("DELETE") or not data.get("component"):
                continue
            edges.append((parent, data["component"].pk))
        cycle = bom_find_cycle(edges)
        if cycle:
            codes = dict(Item.objects.filter(pk__in=set(cycle)).values_list("pk", "code"))
            raise ValidationError("BOM cycle: " + " → ".join(codes[pk] for pk in cycle) + ".")


class BomLineInline(admin.TabularInline):
    model = BomLine
    fk_name = "bom"
    formset = BomLineFormSet
    extra = 0
    autocomplete_fields = ("component",)


@admin.register(Bom)
class BomAdmin(admin.ModelAdmin):
    list_display = ("item", "version", "base_quantity", "effective_from", "effective_to")
    list_filter = ("version",)
    search_fields = ("item__code", "item__name", "lines__component__code")
    autocomplete_fields = ("item",)
    inlines = [BomLineInline]

    def save_related(self, request, form, formsets, change):
        from .services import bom_low_level_codes_update

        super().save_related(request, form, formsets, change)
        bom_low_level_codes_update()


class RoutingStepInline(admin.TabularInline):
    model = RoutingStep
    extra = 0
    autocomplete_fields = ("eligible_equipment",)


@admin.register(Routing)
class RoutingAdmin(admin.ModelAdmin):
    list_display = ("item", "version", "effective_from", "effective_to")
    search_fields = ("item__code", "item__name")
    autocomplete_fields = ("item",)
    inlines = [RoutingStepInline]
