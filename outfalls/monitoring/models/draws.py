"""双随机一公开: draws (seeded, reproducible, auditable), their items, and inspector exclusions."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from outfalls.core.choices import COUNTY_LEVELS, Role
from outfalls.core.scopes import scope_of
from outfalls.registry.models import DischargeUnit, Outfall

from ..choices import DrawStatus, InspectionClass, InspectionResult


def _is_city_admin(user):
    return Role.CITY_ADMIN in scope_of(user).roles


class DrawQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Citywide roles see every draw; county staff the draws of their county and the city's; everyone else
        (departments, entities, river chiefs) only draws whose inspection date has come."""
        scope = scope_of(user)
        if not scope.authenticated:
            return self.none()
        if scope.citywide:
            return self
        q = models.Q(inspection_date__lte=timezone.localdate())
        if scope.county_ids:
            q |= models.Q(county__isnull=True) | models.Q(county_id__in=scope.county_ids)
        return self.filter(q)

    def editable_by(self, user):
        scope = scope_of(user)
        if scope.can_edit_citywide:
            return self
        if scope.county_ids:
            return self.filter(county_id__in=scope.county_ids)
        return self.none()


class Draw(models.Model):
    """One random draw: the pools it drew from (class × county, with rate and members), the inspector roster,
    the exclusions, the seed, and the result. ``digest`` is the SHA-256 of all of them, so a redo from the seed
    (monitoring.draws.verify) shows the result was not changed."""

    name = models.CharField("名称", max_length=100)
    county = models.ForeignKey(
        "core.Jurisdiction",
        verbose_name="县区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level__in": COUNTY_LEVELS},
        help_text="留空为全市",
    )
    period = models.CharField("抽查周期", max_length=32, help_text="如 2024年第二季度")
    inspection_date = models.DateField("检查日期", help_text="该日前抽取结果保密")
    seed = models.CharField("随机种子", max_length=64)
    algorithm = models.CharField("算法", max_length=32)
    inspectors_per_target = models.PositiveSmallIntegerField("每个对象的检查人员数", default=2)
    pools = models.JSONField("抽取池")
    roster = models.JSONField("检查人员名录")
    exclusions = models.JSONField("回避关系", default=list)
    units_behind = models.JSONField("抽取池排口对应的排污单位", default=dict)
    result = models.JSONField("抽取结果")
    digest = models.CharField("摘要（SHA-256）", max_length=64)
    status = models.CharField("状态", max_length=12, choices=DrawStatus.choices, default=DrawStatus.DRAWN)
    published_at = models.DateTimeField("公开时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="组织人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("抽取时间", auto_now_add=True)

    objects = DrawQuerySet.as_manager()

    class Meta:
        verbose_name = "双随机抽查"
        verbose_name_plural = "双随机抽查"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name

    @property
    def confidential(self):
        return timezone.localdate() < self.inspection_date

    def sees_result(self, user):
        """Who sees the drawn targets before the inspection date: the organiser and the city admin (inspectors
        see their own items, DrawItem.objects.visible_to)."""
        if not self.confidential:
            return True
        return user is not None and (user.pk == self.created_by_id or _is_city_admin(user))


class DrawItemQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Before the inspection date: the draw's organiser, the city admin and the item's inspectors; from that
        date: whoever sees the outfall (and the draw)."""
        scope = scope_of(user)
        if not scope.authenticated:
            return self.none()
        today = timezone.localdate()
        open_q = models.Q(draw__inspection_date__lte=today) & models.Q(
            draw__in=Draw.objects.visible_to(user), outfall__in=Outfall.objects.visible_to(user)
        )
        secret_q = models.Q(inspectors=user) | models.Q(draw__created_by=user)
        if _is_city_admin(user):
            secret_q = models.Q(pk__isnull=False)
        return self.filter(open_q | secret_q).distinct()

    def editable_by(self, user):
        """Results are recorded by the draw's editors and the item's inspectors, from the inspection date."""
        scope = scope_of(user)
        if not scope.authenticated:
            return self.none()
        q = models.Q(draw__in=Draw.objects.editable_by(user)) | models.Q(inspectors=user)
        return self.filter(q, draw__inspection_date__lte=timezone.localdate()).distinct()


class DrawItem(models.Model):
    draw = models.ForeignKey(Draw, verbose_name="抽查", on_delete=models.CASCADE, related_name="items")
    outfall = models.ForeignKey(
        Outfall, verbose_name="入河排污口", on_delete=models.PROTECT, related_name="+"
    )
    pool_class = models.CharField("类别", max_length=20, choices=InspectionClass.choices)
    inspectors = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name="检查人员", related_name="+")
    result = models.CharField(
        "检查结果", max_length=16, choices=InspectionResult.choices, blank=True, default=""
    )
    result_note = models.TextField("检查情况", blank=True)
    inspected_on = models.DateField("检查日期", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="记录人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = DrawItemQuerySet.as_manager()

    class Meta:
        verbose_name = "抽查对象"
        verbose_name_plural = "抽查对象"
        ordering = ["draw", "pool_class", "outfall__code"]
        constraints = [models.UniqueConstraint(fields=["draw", "outfall"], name="draw_item_unique_outfall")]

    def __str__(self):
        return f"{self.draw} · {self.outfall}"


class InspectorExclusionQuerySet(models.QuerySet):
    def visible_to(self, user):
        scope = scope_of(user)
        if scope.citywide:
            return self
        if not scope.authenticated:
            return self.none()
        return self.filter(inspector=user)

    def editable_by(self, user):
        return self if scope_of(user).can_edit_citywide else self.none()


class InspectorExclusion(models.Model):
    """回避: an inspector who must never inspect a unit (a relative works there, a former employer...)."""

    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="检查人员", on_delete=models.CASCADE, related_name="+"
    )
    unit = models.ForeignKey(
        DischargeUnit, verbose_name="排污单位", on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField("回避理由", max_length=200)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = InspectorExclusionQuerySet.as_manager()

    class Meta:
        verbose_name = "检查回避"
        verbose_name_plural = "检查回避"
        ordering = ["inspector", "unit"]
        constraints = [models.UniqueConstraint(fields=["inspector", "unit"], name="exclusion_unique")]

    def __str__(self):
        return f"{self.inspector} ⟂ {self.unit}"
