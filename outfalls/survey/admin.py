"""Admin for the 排查 models (campaigns, reaches, imports, points, field checks, tracks). Workflow changes
(outcomes) go through the pages and services.py; the admin is for looking and for base-data fixes."""

from django.contrib import admin

from .models import Campaign, CampaignReach, FieldCheck, PointImport, SuspectedPoint, Track


class ReachInline(admin.TabularInline):
    model = CampaignReach
    extra = 0
    raw_id_fields = ["checked_by"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "county", "status", "deadline", "department", "created_at"]
    list_filter = ["status", "county"]
    list_select_related = ["county", "department"]
    search_fields = ["name", "lead_unit", "team_names"]
    filter_horizontal = ["water_bodies", "team"]
    inlines = [ReachInline]


@admin.register(PointImport)
class PointImportAdmin(admin.ModelAdmin):
    list_display = ["filename", "campaign", "source", "crs", "points_created", "created_by", "created_at"]
    list_filter = ["source"]
    list_select_related = ["campaign", "created_by"]


@admin.register(SuspectedPoint)
class SuspectedPointAdmin(admin.ModelAdmin):
    list_display = ["number", "campaign", "source", "outcome", "decided_level", "outfall", "lon", "lat"]
    list_filter = ["outcome", "source", "campaign"]
    list_select_related = ["campaign", "outfall"]
    search_fields = ["number", "description"]
    raw_id_fields = ["outfall", "imported_in", "decided_by"]
    readonly_fields = ["outcome", "decided_level", "decided_by", "decided_at"]


@admin.register(FieldCheck)
class FieldCheckAdmin(admin.ModelAdmin):
    list_display = ["point", "checked_at", "outcome", "flow", "created_by", "received_at"]
    list_filter = ["outcome", "flow"]
    list_select_related = ["point__campaign", "created_by"]
    search_fields = ["point__number", "client_uuid"]
    raw_id_fields = ["point", "created_by"]
    readonly_fields = ["client_uuid", "received_at"]


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ["campaign", "water_body", "bank", "recorded_at", "recorded_by"]
    list_filter = ["bank"]
    list_select_related = ["campaign", "water_body", "recorded_by"]
    raw_id_fields = ["recorded_by"]
