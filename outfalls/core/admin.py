from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import ApiToken, Attachment, Deadline, Department, Jurisdiction, Membership, StatusChange
from .services import revoke_tokens


@admin.register(Jurisdiction)
class JurisdictionAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "level", "parent", "boundary_approximate"]
    list_filter = ["level", "boundary_approximate"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    exclude = ["county"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "responsible_types", "order"]
    search_fields = ["name"]


@admin.register(Deadline)
class DeadlineAdmin(admin.ModelAdmin):
    list_display = ["milestone", "jurisdiction", "due_date", "basis"]
    list_filter = ["milestone"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "jurisdiction", "department", "unit"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__first_name"]
    raw_id_fields = ["unit"]
    filter_horizontal = ["water_bodies"]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "content_type", "object_id", "uploaded_by", "uploaded_at"]
    list_filter = ["kind", "content_type"]


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = [
        "content_type",
        "object_id",
        "field",
        "from_value",
        "to_value",
        "changed_by",
        "changed_at",
    ]
    list_filter = ["content_type", "field"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Everyone's API tokens, for revoking a leaked one; tokens are made by logging in or on the 账户 page."""

    list_display = ["user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "name", "prefix"]
    readonly_fields = list_display
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="撤销所选令牌")
    def revoke(self, request, queryset):
        count = revoke_tokens(queryset)
        self.message_user(request, f"已撤销 {count} 个令牌。")
