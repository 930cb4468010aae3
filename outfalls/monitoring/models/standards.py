"""The standards library as data: parameters, standards (GB 18918, GB 8978, GB 3838, DB14/1928), their limits per
class, the rules that pick a standard for an outfall, and the standard the bureau assigns to one outfall.

Loaded from data/standards.json by ``monitoring.library.load_library`` (after every migrate, and by
``manage.py load_standards``); every limit and rule keeps its history, and each load is recorded with the
file's version and digest, so a corrected value is a data change with who, when and what it was before.
"""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from outfalls.registry.choices import WaterClass
from outfalls.registry.classification import Level2, TypeCode
from outfalls.registry.models import Outfall
from outfalls.registry.models.ledger import ReferenceQuerySet

from ..choices import Dimension, LimitCondition, LimitKind, StandardKind


class Parameter(models.Model):
    """A monitored item (监测项目) with its canonical unit; values in other units are converted to it."""

    code = models.CharField("代码", max_length=16, unique=True, help_text="如 COD、NH3N、TP")
    name = models.CharField("名称", max_length=32)
    unit = models.CharField("标准单位", max_length=16, help_text="如 mg/L、m3/h、无量纲")
    dimension = models.CharField("量纲", max_length=16, choices=Dimension.choices)
    hj212_code = models.CharField("HJ 212 编码", max_length=16, blank=True, help_text="如 w01018")
    hj212_unit = models.CharField("HJ 212 上传单位", max_length=16, blank=True)
    aliases = models.JSONField("别名", default=list, blank=True, help_text="导入文件表头可用的其他写法")
    load_counted = models.BooleanField("计算负荷", default=False, help_text="浓度类污染物：流量×浓度")
    order = models.PositiveSmallIntegerField("排序", default=0)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = "监测项目"
        verbose_name_plural = "监测项目"
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class Standard(models.Model):
    code = models.CharField("标准号", max_length=32, unique=True, help_text="如 GB 18918-2002")
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=16, choices=StandardKind.choices)
    grades = models.JSONField("级别", default=list, help_text='[[代码, 名称], ...]，如 [["1A", "一级A标准"]]')
    scope = models.TextField("适用范围", blank=True)
    source = models.CharField("来源", max_length=200, blank=True)
    uncertain = models.BooleanField("限值待核实", default=False)
    note = models.TextField("说明", blank=True)
    history = HistoricalRecords()

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = "排放或环境质量标准"
        verbose_name_plural = "排放或环境质量标准"
        ordering = ["code"]

    def __str__(self):
        return self.code

    def grade_label(self, grade):
        return dict((code, label) for code, label in self.grades).get(grade, grade)


class StandardLimit(models.Model):
    standard = models.ForeignKey(
        Standard, verbose_name="标准", on_delete=models.CASCADE, related_name="limits"
    )
    grade = models.CharField("级别", max_length=8, help_text="如 1A、1B、2、III")
    parameter = models.ForeignKey(Parameter, verbose_name="项目", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("限值类型", max_length=16, choices=LimitKind.choices)
    lower = models.FloatField("下限", null=True, blank=True)
    upper = models.FloatField("上限", null=True, blank=True)
    unit = models.CharField("单位", max_length=16)
    condition = models.CharField(
        "适用条件", max_length=8, choices=LimitCondition.choices, blank=True, default=LimitCondition.ALWAYS
    )
    uncertain = models.BooleanField("待核实", default=False)
    note = models.CharField("说明", max_length=200, blank=True)
    history = HistoricalRecords()

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = "标准限值"
        verbose_name_plural = "标准限值"
        ordering = ["standard", "grade", "parameter__order", "condition"]
        constraints = [
            models.UniqueConstraint(
                fields=["standard", "grade", "parameter", "condition"], name="limit_unique_per_grade"
            )
        ]

    def __str__(self):
        return f"{self.standard.code} {self.grade} {self.parameter.code}"


class StandardRule(models.Model):
    """Which standard and class fits an outfall without a permit limit: by type and receiving water's target.

    The first rule (by order) whose type and water classes match applies; the reason is shown on the file."""

    order = models.PositiveSmallIntegerField("顺序")
    type_code = models.CharField("一级分类", max_length=12, choices=TypeCode.choices, blank=True)
    type_level2 = models.CharField("二级分类", max_length=32, choices=Level2.choices, blank=True)
    water_classes = models.JSONField(
        "受纳水体水质目标", default=list, blank=True, help_text='空为不限；"" 表示未定'
    )
    standard = models.ForeignKey(
        Standard, verbose_name="标准", on_delete=models.CASCADE, related_name="rules"
    )
    grade = models.CharField("级别", max_length=8)
    reason = models.CharField("依据", max_length=300)
    uncertain = models.BooleanField("待核实", default=False)
    history = HistoricalRecords()

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = "执行标准规则"
        verbose_name_plural = "执行标准规则"
        ordering = ["order"]
        constraints = [models.UniqueConstraint(fields=["order"], name="standard_rule_unique_order")]

    def __str__(self):
        return f"{self.order}. {self.standard.code} {self.grade}"

    @property
    def water_class_labels(self):
        """The water classes as people write them (劣Ⅴ类, not worse_v; 未定 for "")."""
        labels = dict(WaterClass.choices)
        return [labels.get(c, c) if c else "未定" for c in self.water_classes]

    def matches(self, type_code, type_level2, water_class):
        if self.type_code and self.type_code != type_code:
            return False
        if self.type_level2 and self.type_level2 != type_level2:
            return False
        return not self.water_classes or (water_class or "") in self.water_classes


class LibraryLoad(models.Model):
    """One load of the library file: its version and digest, and what changed."""

    version = models.CharField("版本", max_length=32)
    digest = models.CharField("文件摘要（SHA-256）", max_length=64)
    changes = models.JSONField("变更", default=dict)
    loaded_at = models.DateTimeField("载入时间", auto_now_add=True)

    class Meta:
        verbose_name = "标准库载入记录"
        verbose_name_plural = "标准库载入记录"
        ordering = ["-loaded_at", "-id"]

    def __str__(self):
        return f"{self.version} {self.loaded_at:%Y-%m-%d %H:%M}"


class OutfallStandardQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(outfall__in=Outfall.objects.visible_to(user))

    def editable_by(self, user):
        from outfalls.core.scopes import scope_of

        return self if scope_of(user).can_edit_citywide else self.none()


class OutfallStandard(models.Model):
    """The standard the bureau assigns to one outfall (over the type rule; a permit's limits still come first)."""

    outfall = models.OneToOneField(
        Outfall, verbose_name="入河排污口", on_delete=models.CASCADE, related_name="assigned_standard"
    )
    standard = models.ForeignKey(Standard, verbose_name="标准", on_delete=models.PROTECT, related_name="+")
    grade = models.CharField("级别", max_length=8)
    reason = models.CharField("依据", max_length=300)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="指定人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    set_at = models.DateTimeField("指定时间", auto_now=True)
    history = HistoricalRecords()

    objects = OutfallStandardQuerySet.as_manager()

    class Meta:
        verbose_name = "排口执行标准"
        verbose_name_plural = "排口执行标准"

    def __str__(self):
        return f"{self.outfall} → {self.standard.code} {self.grade}"


WATER_CLASS_ORDER = [c.value for c in WaterClass]
