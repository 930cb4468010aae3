"""Citizen reports (举报): what was seen, where, the photos (core.Attachment on the report), the routing
(county by location, department by the outfall's type), the handling (status-change rows, core.StatusChange)
and the reply the reporter reads with the tracking code."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from outfalls.core.choices import COUNTY_LEVELS, Role
from outfalls.core.scopes import scope_of
from outfalls.registry.models.ledger import LAT_VALIDATORS, LON_VALIDATORS

from .choices import OPEN_STATUSES, LocationSource, ReportCategory, ReportStatus, SignEventKind, SignSize


class ReportQuerySet(models.QuerySet):
    """Handlers: the city bureau (and auditors, read only) every report; a county its county's; a department
    those routed to it. Nobody else (entities and river chiefs do not handle reports)."""

    def _scoped(self, user, editing):
        scope = scope_of(user)
        grants = [g for g in scope.grants if g.can_edit] if editing else list(scope.grants)
        if any(g.citywide for g in grants):
            return self
        q = Q(pk__in=[])
        for grant in grants:
            if grant.role == Role.COUNTY and grant.county_id:
                q |= Q(county_id=grant.county_id)
            elif grant.role == Role.DEPARTMENT and grant.department_id:
                q |= Q(department_id=grant.department_id)
        return self.filter(q)

    def visible_to(self, user):
        return self._scoped(user, editing=False)

    def editable_by(self, user):
        return self._scoped(user, editing=True)


class Report(models.Model):
    tracking_code = models.CharField("查询码", max_length=16, unique=True)
    category = models.CharField("举报类别", max_length=16, choices=ReportCategory.choices)
    description = models.TextField("情况描述", max_length=2000)
    lon = models.FloatField("经度", null=True, blank=True, validators=LON_VALIDATORS)
    lat = models.FloatField("纬度", null=True, blank=True, validators=LAT_VALIDATORS)
    location_source = models.CharField("位置来源", max_length=16, choices=LocationSource.choices)
    accuracy_m = models.FloatField("定位精度（米）", null=True, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    outfall = models.ForeignKey(
        "registry.Outfall",
        verbose_name="涉及排污口",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="public_reports",
        help_text="举报人确认所举报的是该排污口",
    )
    county = models.ForeignKey(
        "core.Jurisdiction",
        verbose_name="属地县区",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level__in": COUNTY_LEVELS},
    )
    department = models.ForeignKey(
        "core.Department",
        verbose_name="责任部门",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    deadline = models.DateField("办理期限")
    status = models.CharField(
        "状态", max_length=16, choices=ReportStatus.choices, default=ReportStatus.RECEIVED
    )
    assignee = models.CharField("承办人（单位）", max_length=64, blank=True)
    reply = models.TextField("答复", blank=True)
    replied_at = models.DateTimeField("答复时间", null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name="合并到",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_reports",
    )
    # Private: never on a public page or endpoint.
    anonymous = models.BooleanField("匿名举报", default=True)
    contact_name = models.CharField("联系人", max_length=32, blank=True)
    contact_phone = models.CharField("联系电话", max_length=32, blank=True)
    share_photo_position = models.BooleanField("同意提供照片位置", default=False)
    client_key = models.CharField("来源地址摘要", max_length=64, db_index=True, editable=False)
    device_key = models.CharField("设备摘要", max_length=64, db_index=True, blank=True, editable=False)
    created_at = models.DateTimeField("举报时间", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = "群众举报"
        verbose_name_plural = "群众举报"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["county", "status", "deadline"])]

    def __str__(self):
        return f"{self.tracking_code} {self.get_category_display()}"

    @property
    def public_status(self):
        """What the reporter reads: merged reports show the status of the one they were merged into."""
        return self.merged_into.status if self.merged_into_id else self.status

    @property
    def overdue(self):
        return self.status in OPEN_STATUSES and self.deadline < timezone.localdate()


class SignEventQuerySet(models.QuerySet):
    def visible_to(self, user):
        from outfalls.registry.models import Outfall

        return self.filter(outfall__in=Outfall.objects.visible_to(user))


class SignEvent(models.Model):
    """A sign board's file generated (when, by whom, which form) or its installation confirmed by the county
    (with the photo, a core.Attachment on the event)."""

    outfall = models.ForeignKey(
        "registry.Outfall", verbose_name="入河排污口", on_delete=models.CASCADE, related_name="sign_events"
    )
    kind = models.CharField("事项", max_length=16, choices=SignEventKind.choices)
    size = models.CharField("形式", max_length=16, choices=SignSize.choices, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField("时间", auto_now_add=True)

    objects = SignEventQuerySet.as_manager()

    class Meta:
        verbose_name = "标识牌记录"
        verbose_name_plural = "标识牌记录"
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.outfall_id} {self.get_kind_display()}"
