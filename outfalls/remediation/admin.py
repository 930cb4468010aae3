from django.contrib import admin

from .models import MeasureProposal, Programme, RuleRun


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    """Programmes (整治专项) are kept here (基础数据维护); plans pick one on their form. Plans themselves are
    changed only through services.py, which writes their status-change rows, so they have no admin."""

    list_display = ("name", "kind")
    list_filter = ("kind",)
    search_fields = ("name", "description")


@admin.register(RuleRun)
class RuleRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "county", "run_by", "outfalls_checked")
    list_select_related = ("county", "run_by")
    readonly_fields = ("started_at", "run_by", "county", "outfalls_checked", "hits")


@admin.register(MeasureProposal)
class MeasureProposalAdmin(admin.ModelAdmin):
    list_display = ("outfall", "measure", "status", "decided_measure", "decided_by", "created_at")
    list_filter = ("status", "measure")
    list_select_related = ("outfall", "decided_by")
    search_fields = ("outfall__code", "outfall__name", "reason")
    raw_id_fields = ("outfall", "run", "decided_by")
    readonly_fields = ("hits", "created_at")
