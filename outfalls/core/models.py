"""Jurisdictions, departments, memberships (roles and scopes), attachments, status changes, API tokens and the
login audit."""

import hashlib
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .choices import (
    COUNTY_LEVELS,
    AttachmentKind,
    JobKind,
    JobStatus,
    JurisdictionLevel,
    LoginChannel,
    LoginOutcome,
    Milestone,
    Role,
)
from .scopes import own_or_citywide, scope_of


def user_display(user):
    """How a person is named in histories and status changes; None is the system itself."""
    if user is None:
        return "系统"
    return user.get_full_name() or user.username


class JurisdictionQuerySet(models.QuerySet):
    def counties(self):
        return self.filter(level__in=COUNTY_LEVELS)

    def visible_to(self, user):
        scope = scope_of(user)
        if scope.citywide or scope.no_county_limit:
            return self
        if not scope.county_ids:
            return self.none()
        # A county officer sees their county, everything under it, and the levels above it.
        return self.filter(
            models.Q(pk__in=scope.county_ids)
            | models.Q(county_id__in=scope.county_ids)
            | models.Q(level=JurisdictionLevel.CITY)
        )


class Jurisdiction(models.Model):
    """An administrative unit (辖区): city, county/district, development zone, town or village."""

    code = models.CharField("区划代码", max_length=12, unique=True, help_text="GB/T 2260 代码，6/9/12 位")
    name = models.CharField("名称", max_length=64)
    level = models.CharField("层级", max_length=16, choices=JurisdictionLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # The county-level ancestor (or itself), kept so scope checks need no tree walk.
    county = models.ForeignKey(
        "self", verbose_name="所属县区", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    boundary = models.JSONField("边界（GeoJSON）", null=True, blank=True)
    boundary_source = models.CharField("边界来源", max_length=200, blank=True)
    boundary_approximate = models.BooleanField("边界为示意", default=False)
    history = HistoricalRecords()

    objects = JurisdictionQuerySet.as_manager()

    class Meta:
        verbose_name = "辖区"
        verbose_name_plural = "辖区"
        ordering = ["code"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": "上级不能是自身。"})
        if not (self.code.isascii() and self.code.isdigit()) or len(self.code) not in (6, 9, 12):
            raise ValidationError({"code": "区划代码应为 6、9 或 12 位数字。"})

    def save(self, *args, **kwargs):
        if self.level not in COUNTY_LEVELS:
            self.county_id = self.parent.county_id if self.parent_id else None
        super().save(*args, **kwargs)
        if self.level in COUNTY_LEVELS and self.county_id != self.pk:
            Jurisdiction.objects.filter(pk=self.pk).update(county_id=self.pk)
            self.county_id = self.pk

    def ancestors(self):
        """From the root down to the parent."""
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    @property
    def full_name(self):
        return "".join(j.name for j in self.ancestors()) + self.name


class Department(models.Model):
    """A city department (市直部门) and the outfall types it is responsible for."""

    name = models.CharField("名称", max_length=64, unique=True)
    short_name = models.CharField("简称", max_length=16, blank=True)
    # HJ 1312 level-2 type values (registry.classification.Level2) this department works on.
    responsible_types = models.JSONField("负责的排口类型（二级）", default=list, blank=True)
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "部门"
        verbose_name_plural = "部门"
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A user's role and the scope it applies to. A user may hold several; the scope is their union."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField("角色", max_length=16, choices=Role.choices)
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name="辖区", null=True, blank=True, on_delete=models.PROTECT
    )
    department = models.ForeignKey(
        Department, verbose_name="部门", null=True, blank=True, on_delete=models.PROTECT
    )
    unit = models.ForeignKey(
        "registry.DischargeUnit", verbose_name="排污单位", null=True, blank=True, on_delete=models.PROTECT
    )
    water_bodies = models.ManyToManyField("registry.WaterBody", verbose_name="负责河流", blank=True)

    class Meta:
        verbose_name = "角色授权"
        verbose_name_plural = "角色授权"

    def __str__(self):
        target = self.jurisdiction or self.department or self.unit or ""
        return f"{self.user} · {self.get_role_display()} {target}".strip()

    def clean(self):
        if self.role == Role.COUNTY and (
            not self.jurisdiction or self.jurisdiction.level not in COUNTY_LEVELS
        ):
            raise ValidationError({"jurisdiction": "县区/分局角色必须指定一个县区级辖区。"})
        if self.role == Role.DEPARTMENT and not self.department:
            raise ValidationError({"department": "部门角色必须指定部门。"})
        if self.role == Role.ENTITY and not self.unit:
            raise ValidationError({"unit": "责任主体角色必须指定排污单位。"})


def attachment_path(instance, filename):
    suffix = Path(filename).suffix.lower()
    return (
        f"attachments/{instance.content_type.model}/{instance.object_id}/{Path(filename).stem[:60]}{suffix}"
    )


class Attachment(models.Model):
    """A photo or document attached to any ledger object."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(
        "类别", max_length=16, choices=AttachmentKind.choices, default=AttachmentKind.OTHER
    )
    title = models.CharField("说明", max_length=200, blank=True)
    file = models.FileField("文件", upload_to=attachment_path, max_length=300)
    size = models.PositiveBigIntegerField("大小（字节）", default=0)
    taken_at = models.DateTimeField("拍摄时间", null=True, blank=True, help_text="照片 EXIF 中的拍摄时间")
    exif_lon = models.FloatField("EXIF 经度", null=True, blank=True)
    exif_lat = models.FloatField("EXIF 纬度", null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        ordering = ["kind", "-uploaded_at"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return self.title or Path(self.file.name).name

    @property
    def is_photo(self):
        return Path(self.file.name).suffix.lower() in {".jpg", ".jpeg", ".png", ".webp", ".gif"}


class StatusChange(models.Model):
    """One workflow step: who moved what from which state to which, when and why."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    field = models.CharField("字段", max_length=32, default="status")
    from_value = models.CharField("原状态", max_length=32, blank=True)
    to_value = models.CharField("新状态", max_length=32)
    reason = models.TextField("原因", blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "状态变更"
        verbose_name_plural = "状态变更"
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return f"{self.from_value} → {self.to_value}"


class Deadline(models.Model):
    """A milestone's deadline (期限) for one county-level jurisdiction, or the city's default when none."""

    milestone = models.CharField("节点", max_length=16, choices=Milestone.choices)
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name="县区",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        limit_choices_to={"level__in": COUNTY_LEVELS},
        help_text="留空为全市默认期限",
    )
    due_date = models.DateField("截止日期")
    basis = models.CharField("依据", max_length=200, blank=True, help_text="如 同政办发〔2023〕8号")

    class Meta:
        verbose_name = "工作期限"
        verbose_name_plural = "工作期限"
        ordering = ["milestone", "jurisdiction__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["milestone", "jurisdiction"], name="deadline_unique_per_jurisdiction"
            ),
            models.UniqueConstraint(
                fields=["milestone"],
                condition=models.Q(jurisdiction=None),
                name="deadline_unique_citywide",
            ),
        ]

    def __str__(self):
        where = self.jurisdiction.name if self.jurisdiction_id else "全市"
        return f"{where}·{self.get_milestone_display()}：{self.due_date:%Y-%m-%d}"

    @classmethod
    def due_dates(cls, milestone):
        """{county id: due date} for the counties with their own date, and None: the city's default."""
        return {d.jurisdiction_id: d.due_date for d in cls.objects.filter(milestone=milestone)}

    @classmethod
    def due_for(cls, milestone, county_id):
        dates = cls.due_dates(milestone)
        return dates.get(county_id, dates.get(None))


def token_digest(key):
    """Tokens are stored as their SHA-256 only: a copy of the database gives nobody a working token."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)

    def visible_to(self, user):
        """A user sees (and may revoke) their own tokens only."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def editable_by(self, user):
        return self.visible_to(user)


class ApiToken(models.Model):
    """An API token (令牌): one per login at /api/v1/auth/token/ or made on the 账户 page; it expires and can be
    revoked. Issue them with core.services.issue_token."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField("名称", max_length=64, blank=True)
    digest = models.CharField("摘要（SHA-256）", max_length=64, unique=True, editable=False)
    prefix = models.CharField("前缀", max_length=8, editable=False, help_text="令牌的前几位，便于辨认")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    expires_at = models.DateTimeField("到期时间")
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at", "expires_at"])]

    def __str__(self):
        return f"{self.name or '令牌'}（{self.prefix}…）"

    @property
    def is_active(self):
        return self.revoked_at is None and self.expires_at > timezone.now()


class LoginEventQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The city admin reads every login; anyone else only those made with their own user name."""
        scope = scope_of(user)
        if not scope.authenticated:
            return self.none()
        if scope.can_audit_logins:
            return self
        return self.filter(username=user.get_username())


class LoginEvent(models.Model):
    """One login or failed login (page, admin or API token): who, from where, when, and how it ended."""

    username = models.CharField("用户名", max_length=150, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    channel = models.CharField("登录方式", max_length=8, choices=LoginChannel.choices)
    outcome = models.CharField("结果", max_length=8, choices=LoginOutcome.choices)
    ip_address = models.GenericIPAddressField("来源地址", null=True, blank=True)
    user_agent = models.CharField("浏览器/客户端", max_length=255, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    objects = LoginEventQuerySet.as_manager()

    class Meta:
        verbose_name = "登录记录"
        verbose_name_plural = "登录记录"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.username} {self.get_outcome_display()} {self.created_at:%Y-%m-%d %H:%M}"


class JobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Citywide roles see every job; everyone else sees the jobs they started."""
        return own_or_citywide(self, user, "owner")

    def active(self):
        return self.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING))


class Job(models.Model):
    """One piece of long work on the task queue (core/jobs.py): what, for whom, on which object, how far.

    The task queue (django-tasks) runs it; this row is what the pages show: a progress bar, the outcome in
    Chinese, and 重试 when the worker died or the work failed. ``worker`` and ``heartbeat`` let the platform
    tell a running job from one whose worker is gone.
    """

    kind = models.CharField("类型", max_length=24, choices=JobKind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("content_type", "object_id")
    params = models.JSONField("参数", default=dict, blank=True)
    status = models.CharField("状态", max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    step = models.CharField("当前步骤", max_length=100, blank=True)
    done = models.PositiveIntegerField("已完成", default=0)
    total = models.PositiveIntegerField("总量", default=0)
    message = models.TextField("结果", blank=True)
    error = models.TextField("错误", blank=True)
    retryable = models.BooleanField("可重试", default=False)
    result = models.JSONField("结果数据", default=dict, blank=True)
    task_id = models.CharField("任务编号", max_length=64, blank=True)
    worker = models.CharField("后台进程", max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField("执行次数", default=0)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    heartbeat = models.DateTimeField("最近心跳", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"]), models.Index(fields=["status"])]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def busy(self):
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    @property
    def percent(self):
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.done * 100 / self.total))
