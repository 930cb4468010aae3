from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    DischargeUnit,
    Outfall,
    OutfallUnitLink,
    Section,
    WaterBody,
    WaterFunctionZone,
    WaterWorks,
)


@admin.register(WaterBody)
class WaterBodyAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "code",
        "kind",
        "basin",
        "parent",
        "target_class",
        "consultation_required",
        "geometry_approximate",
    ]
    list_filter = ["kind", "basin", "consultation_required"]
    search_fields = ["name", "code"]


@admin.register(Section)
class SectionAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "water_body",
        "level",
        "county",
        "chainage_km",
        "target_class",
        "location_approximate",
    ]
    list_filter = ["level", "water_body"]
    search_fields = ["name"]


@admin.register(DischargeUnit)
class DischargeUnitAdmin(SimpleHistoryAdmin):
    list_display = ["name", "credit_code", "kind", "county", "permit_number"]
    list_filter = ["kind", "county"]
    search_fields = ["name", "credit_code"]


class LinkInline(admin.TabularInline):
    model = OutfallUnitLink
    extra = 0
    raw_id_fields = ["unit"]


@admin.register(Outfall)
class OutfallAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "type_code", "county", "water_body", "status", "rectification_status"]
    list_filter = ["type_code", "status", "rectification_status", "county"]
    search_fields = ["code", "national_code", "name"]
    raw_id_fields = ["responsible_entity", "town", "village"]
    # Disclosure is decided in the platform (registry.services.set_disclosure), not here.
    readonly_fields = [
        "disclosed",
        "disclosure_basis",
        "disclosure_decided_by",
        "disclosure_decided_at",
        "disclosure_reason",
    ]
    inlines = [LinkInline]
    list_select_related = ["county", "water_body"]


@admin.register(WaterFunctionZone)
class WaterFunctionZoneAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "code",
        "kind",
        "water_body",
        "start_km",
        "end_km",
        "target_class",
        "assessed_class",
        "assessed_on",
        "approximate",
    ]
    list_filter = ["kind", "target_class", "assessed_class", "water_body"]
    search_fields = ["name", "code"]
    list_select_related = ["water_body"]


@admin.register(WaterWorks)
class WaterWorksAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "water_body", "authority", "approximate"]
    list_filter = ["kind", "water_body"]
    search_fields = ["name", "authority"]
    list_select_related = ["water_body"]
