"""The ledger: receiving waters, sections, discharge units, outfalls and the links between them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from simple_history.models import HistoricalRecords

from outfalls.core.choices import COUNTY_LEVELS, JurisdictionLevel, Role
from outfalls.core.locking import VersionedModel
from outfalls.core.scopes import scope_of

from .. import coding, naming
from ..choices import (
    Conveyance,
    DisclosureBasis,
    EntryMode,
    LifecycleStatus,
    LinkRole,
    OutletPosition,
    RectificationMeasure,
    RectificationStatus,
    ResponsibilityBasis,
    SectionLevel,
    UnitKind,
    WaterBodyKind,
    WaterClass,
    storm_measure_error,
)
from ..classification import LEVEL2_CODE, LEVEL3_PARENT, Level2, Level3, TypeCode
from ..validators import validate_credit_code, validate_permit_number

LON_VALIDATORS = [
    MinValueValidator(73.0, "经度应在 73–136 之间。"),
    MaxValueValidator(136.0, "经度应在 73–136 之间。"),
]
LAT_VALIDATORS = [
    MinValueValidator(3.0, "纬度应在 3–54 之间。"),
    MaxValueValidator(54.0, "纬度应在 3–54 之间。"),
]


class ReferenceQuerySet(models.QuerySet):
    """Receiving waters and sections are shared reference data: every signed-in user reads them all."""

    def visible_to(self, user):
        return self if scope_of(user).authenticated else self.none()

    def editable_by(self, user):
        return self if scope_of(user).can_edit_citywide else self.none()


class WaterBody(models.Model):
    name = models.CharField("名称", max_length=64)
    code = models.CharField("水体编码", max_length=32, unique=True)
    kind = models.CharField("类型", max_length=16, choices=WaterBodyKind.choices, default=WaterBodyKind.RIVER)
    basin = models.CharField("流域", max_length=64, blank=True, help_text="如 永定河/桑干河、大清河")
    parent = models.ForeignKey(
        "self",
        verbose_name="汇入河流",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tributaries",
    )
    target_class = models.CharField("水质目标", max_length=8, choices=WaterClass.choices, blank=True)
    geometry = models.JSONField("几何（GeoJSON）", null=True, blank=True)
    geometry_approximate = models.BooleanField("几何为示意", default=False)
    geometry_source = models.CharField("几何来源", max_length=200, blank=True)
    consultation_required = models.BooleanField(
        "设置排污口须征求水利部门意见",
        default=False,
        help_text="河势不稳定、防洪或供水重点河段等：在此设置入河排污口须同步征求流域管理机构或水行政主管部门意见",
    )
    history = HistoricalRecords()

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = "受纳水体"
        verbose_name_plural = "受纳水体"
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def restricted_basin(self):
        """The restricted basin (REMEDIATION_RESTRICTED_BASINS) this water's basin names, or None."""
        return restricted_basin_of(self.basin)


def restricted_basins():
    """Basins where new industrial production wastewater may not go to municipal treatment plants (实施方案（六）;
    setting REMEDIATION_RESTRICTED_BASINS, matched against WaterBody.basin). Read here, below the workflow apps
    that apply it: the rectification rules and the setup review."""
    return tuple(settings.REMEDIATION_RESTRICTED_BASINS)


def restricted_basin_of(basin_text):
    """The restricted basin a WaterBody.basin text names (e.g. 永定河/桑干河 → 桑干河), or None."""
    return next((b for b in restricted_basins() if basin_text and b in basin_text), None)


class Section(models.Model):
    name = models.CharField("断面名称", max_length=64)
    level = models.CharField(
        "级别", max_length=16, choices=SectionLevel.choices, default=SectionLevel.PROVINCIAL
    )
    level_approximate = models.BooleanField("级别待核实", default=False)
    water_body = models.ForeignKey(
        WaterBody, verbose_name="所在水体", on_delete=models.PROTECT, related_name="sections"
    )
    county = models.ForeignKey(
        "core.Jurisdiction",
        verbose_name="所在县区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lon = models.FloatField("经度", validators=LON_VALIDATORS)
    lat = models.FloatField("纬度", validators=LAT_VALIDATORS)
    location_approximate = models.BooleanField("位置为示意", default=False)
    chainage_km = models.FloatField("沿程距离（公里）", default=0, help_text="自河源起算，用于排序与断面区间")
    target_class = models.CharField("水质目标", max_length=8, choices=WaterClass.choices, blank=True)
    history = HistoricalRecords()

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = "考核断面"
        verbose_name_plural = "考核断面"
        ordering = ["water_body__name", "chainage_km"]
        constraints = [
            models.UniqueConstraint(fields=["water_body", "name"], name="section_unique_per_water")
        ]

    def __str__(self):
        return f"{self.water_body.name}·{self.name}"


def _county_field(verbose="县区"):
    return models.ForeignKey(
        "core.Jurisdiction",
        verbose_name=verbose,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level__in": COUNTY_LEVELS},
    )


def _optional_jurisdiction(verbose, level):
    return models.ForeignKey(
        "core.Jurisdiction",
        verbose_name=verbose,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": level},
    )


def check_place(errors, county, town, village):
    """Town under county and village under town; messages name the field."""
    if town is not None and county is not None and town.county_id != county.pk:
        errors["town"] = f"乡镇（街道）“{town.name}”不属于{county.name}。"
    if village is not None:
        if town is None:
            errors["village"] = "填写村（社区）时须先选择乡镇（街道）。"
        elif village.parent_id != town.pk:
            errors["village"] = f"村（社区）“{village.name}”不属于{town.name}。"


class DischargeUnitQuerySet(models.QuerySet):
    def visible_to(self, user):
        scope = scope_of(user)
        if scope.citywide:
            return self
        if not scope.grants:
            return self.none()
        visible_outfalls = Outfall.objects.visible_to(user)
        q = models.Q(pk__in=OutfallUnitLink.objects.filter(outfall__in=visible_outfalls).values("unit_id"))
        q |= models.Q(
            pk__in=visible_outfalls.exclude(responsible_entity=None).values("responsible_entity_id")
        )
        if scope.county_ids:
            q |= models.Q(county_id__in=scope.county_ids)
        unit_ids = [g.unit_id for g in scope.grants if g.unit_id]
        if unit_ids:
            q |= models.Q(pk__in=unit_ids)
        return self.filter(q)

    def editable_by(self, user):
        scope = scope_of(user)
        if scope.can_edit_citywide:
            return self
        q = models.Q(pk__in=[])
        for grant in scope.grants:
            if grant.role == Role.COUNTY:
                q |= models.Q(county_id=grant.county_id)
            elif grant.role == Role.ENTITY:
                q |= models.Q(pk=grant.unit_id)
            elif grant.role == Role.DEPARTMENT:
                editable = Outfall.objects.editable_by(user)
                q |= models.Q(pk__in=OutfallUnitLink.objects.filter(outfall__in=editable).values("unit_id"))
        return self.filter(q)


class DischargeUnit(VersionedModel):
    """排污单位: a unit whose water reaches an outfall; may be the outfall's responsible entity."""

    name = models.CharField("单位名称", max_length=128)
    credit_code = models.CharField(
        "统一社会信用代码",
        max_length=18,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_credit_code],
    )
    kind = models.CharField("单位类型", max_length=20, choices=UnitKind.choices, default=UnitKind.OTHER)
    industry = models.CharField("行业", max_length=64, blank=True)
    park = models.CharField("所在园区", max_length=64, blank=True, help_text="园区外企业留空")
    county = _county_field()
    town = _optional_jurisdiction("乡镇（街道）", JurisdictionLevel.TOWN)
    address = models.CharField("地址", max_length=200, blank=True)
    lon = models.FloatField("经度", null=True, blank=True, validators=LON_VALIDATORS)
    lat = models.FloatField("纬度", null=True, blank=True, validators=LAT_VALIDATORS)
    permit_number = models.CharField(
        "排污许可证编号", max_length=22, blank=True, validators=[validate_permit_number]
    )
    contact = models.CharField("联系人", max_length=32, blank=True)
    phone = models.CharField("联系电话", max_length=32, blank=True)
    notes = models.TextField("备注", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = DischargeUnitQuerySet.as_manager()

    class Meta:
        verbose_name = "排污单位"
        verbose_name_plural = "排污单位"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        check_place(errors, self.county if self.county_id else None, self.town, None)
        if (self.lon is None) != (self.lat is None):
            errors["lat" if self.lat is None else "lon"] = "经度和纬度须同时填写。"
        if self.credit_code:
            self.credit_code = self.credit_code.strip().upper()
        if self.permit_number:
            self.permit_number = self.permit_number.strip().upper()
            if self.credit_code and not self.permit_number.startswith(self.credit_code):
                errors["permit_number"] = "排污许可证编号前 18 位应与本单位统一社会信用代码一致。"
        if errors:
            raise ValidationError(errors)


def _outfall_grant_q(grant):
    # Field names only (id, not pk), so the same Q also filters historical outfall rows.
    if grant.citywide:
        return models.Q()
    if grant.role == Role.COUNTY:
        return models.Q(county_id=grant.county_id)
    if grant.role == Role.DEPARTMENT:
        return models.Q(type_level2__in=sorted(grant.department_types))
    if grant.role == Role.ENTITY:
        owned = OutfallUnitLink.objects.filter(unit_id=grant.unit_id, role=LinkRole.OWNER).values(
            "outfall_id"
        )
        return models.Q(responsible_entity_id=grant.unit_id) | models.Q(id__in=owned)
    if grant.role == Role.RIVER_CHIEF:
        q = models.Q(water_body_id__in=sorted(grant.water_body_ids))
        return q & models.Q(county_id=grant.county_id) if grant.county_id else q
    return models.Q(id__in=[])


def outfall_scope_q(user, *, editing=False):
    """The filter for the outfalls a user may see (or edit); None when nothing limits them."""
    scope = scope_of(user)
    grants = [g for g in scope.grants if g.can_edit] if editing else list(scope.grants)
    if any(g.citywide for g in grants):
        return None
    q = models.Q(id__in=[])
    for grant in grants:
        q |= _outfall_grant_q(grant)
    return q


class OutfallQuerySet(models.QuerySet):
    # The search applied to this queryset (registry.search.Search), for count_or_estimate().
    _search = None

    def _clone(self):
        clone = super()._clone()
        clone._search = self._search
        return clone

    def search(self, value):
        """The outfalls whose name, codes or unit names contain `value` (registry/search.py)."""
        from ..search import search_outfalls

        return search_outfalls(self, value)

    @property
    def read_ids_first(self):
        """A searched list is paged ids first (core.pagination.IdsFirstPaginator)."""
        return self._search is not None

    def count_or_estimate(self):
        """(count, estimated): an estimate only for a search that many outfalls match (registry/search.py)."""
        from ..search import count_or_estimate

        return count_or_estimate(self)

    def _scoped(self, user, editing):
        q = outfall_scope_q(user, editing=editing)
        return self if q is None else self.filter(q)

    def visible_to(self, user):
        return self._scoped(user, editing=False)

    def editable_by(self, user):
        return self._scoped(user, editing=True)

    def for_list(self):
        """Rows for lists and exports: related names in one query, without the heavy geometry columns."""
        return self.select_related("county", "town", "village", "water_body", "responsible_entity").defer(
            "county__boundary", "town__boundary", "village__boundary", "water_body__geometry"
        )


class Outfall(VersionedModel):
    """入河排污口: one row of the ledger, one file (一口一档)."""

    code = models.CharField("排污口编码", max_length=48, unique=True, blank=True, help_text="留空则自动编码")
    national_code = models.CharField(
        "国家统一编码",
        max_length=48,
        null=True,
        blank=True,
        unique=True,
        help_text="国家平台赋码，未赋码留空",
    )
    name = models.CharField("入河排污口名称", max_length=200, blank=True)
    name_auto = models.BooleanField("按规则自动命名", default=True)
    landmark = models.CharField(
        "地标或单位名", max_length=64, blank=True, help_text="命名中行政区划名之后的部分"
    )
    number = models.CharField("编号", max_length=8, blank=True, help_text="同一地标有多个排口时的序号，如 3")

    type_code = models.CharField(
        "排污口类型（一级）", max_length=12, choices=TypeCode.choices, default=TypeCode.UNDETERMINED
    )
    type_level2 = models.CharField("二级分类", max_length=32, choices=Level2.choices, blank=True)
    type_level3 = models.CharField("三级分类", max_length=32, choices=Level3.choices, blank=True)

    county = _county_field()
    town = _optional_jurisdiction("乡镇（街道）", JurisdictionLevel.TOWN)
    village = _optional_jurisdiction("村（社区）", JurisdictionLevel.VILLAGE)
    lon = models.FloatField("经度", validators=LON_VALIDATORS, help_text="CGCS2000，十进制度")
    lat = models.FloatField("纬度", validators=LAT_VALIDATORS, help_text="CGCS2000，十进制度")

    water_body = models.ForeignKey(
        WaterBody, verbose_name="受纳水体", on_delete=models.PROTECT, related_name="outfalls"
    )
    section_interval = models.CharField("断面区间", max_length=100, blank=True)
    entry_mode = models.CharField("入河方式", max_length=16, choices=EntryMode.choices, blank=True)
    outlet_position = models.CharField("口门位置", max_length=16, choices=OutletPosition.choices, blank=True)
    outlet_description = models.CharField("口门形态及位置说明", max_length=200, blank=True)
    conveyance = models.CharField("引流方式", max_length=16, choices=Conveyance.choices, blank=True)

    responsible_entity = models.ForeignKey(
        DischargeUnit,
        verbose_name="排污责任主体单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="responsible_for",
    )
    responsibility_basis = models.CharField(
        "责任主体确定方式",
        max_length=24,
        choices=ResponsibilityBasis.choices,
        default=ResponsibilityBasis.UNKNOWN,
    )
    responsibility_note = models.CharField("责任主体说明", max_length=200, blank=True)

    status = models.CharField(
        "生命周期状态", max_length=16, choices=LifecycleStatus.choices, default=LifecycleStatus.VERIFIED
    )
    rectification_measure = models.CharField(
        "整治类型", max_length=16, choices=RectificationMeasure.choices, blank=True
    )
    rectification_status = models.CharField(
        "整治进展",
        max_length=16,
        choices=RectificationStatus.choices,
        default=RectificationStatus.NOT_STARTED,
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name="并入排口",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        help_text="清理合并后，本排口的来水改由该排口排放",
    )
    daily_volume_m3 = models.FloatField(
        "日排放量（立方米/日）",
        null=True,
        blank=True,
        validators=[MinValueValidator(0, "日排放量不能为负数。")],
    )
    registered = models.BooleanField("已完成登记建档", default=False)
    approval_date = models.DateField("设置审批或排污许可批准时间", null=True, blank=True)
    approval_number = models.CharField("审批或登记文号", max_length=64, blank=True)
    permit_number = models.CharField(
        "排污许可证编号", max_length=22, blank=True, validators=[validate_permit_number]
    )
    sign_installed = models.BooleanField("已设置标识牌", default=False)
    # Disclosure (公开): written only by registry.services.set_disclosure / apply_disclosure_rules (and
    # set_outfall_state, which re-applies the rules when the status changes); public fields: registry/disclosure.py.
    disclosed = models.BooleanField(
        "已向社会公开",
        default=False,
        help_text="公开的排口在公众页面、匿名 OGC API 和公开导出中可见，只含公开字段",
    )
    disclosure_basis = models.CharField(
        "公开依据", max_length=16, choices=DisclosureBasis.choices, default=DisclosureBasis.RULE
    )
    disclosure_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="公开决定人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    disclosure_decided_at = models.DateTimeField("公开决定时间", null=True, blank=True)
    disclosure_reason = models.CharField("公开决定理由", max_length=200, blank=True)
    notes = models.TextField("备注", blank=True)
    source_key = models.CharField(
        "来源标识",
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text="外部数据中的稳定标识（演示数据编号、排查疑似点编号等），用于重复导入时识别同一排口",
    )

    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = OutfallQuerySet.as_manager()

    class Meta:
        verbose_name = "入河排污口"
        verbose_name_plural = "入河排污口"
        ordering = ["code"]
        indexes = [
            models.Index(fields=["county", "code"]),
            models.Index(fields=["county", "type_code", "status"]),
            models.Index(fields=["status"]),
            models.Index(fields=["type_code"]),
            models.Index(fields=["type_level2"]),
            models.Index(fields=["water_body"]),
            models.Index(fields=["rectification_status"]),
            models.Index(fields=["name"]),
            models.Index(fields=["updated_at"]),
            # Boxes: the map's street-level view and the spatial checks' duplicate search (maps/grid.py).
            models.Index(fields=["lon", "lat"]),
        ]

    def __str__(self):
        return self.name or self.code

    # Rules -------------------------------------------------------------------------------------------
    def normalise(self):
        """What every outfall gets before it is checked and saved (form, survey, tracing, imports): the level-2
        type from the level-3 one, the type code from the level-2 one, an empty national code as none and
        the permit number in upper case. Inconsistent types are left for clean() to report."""
        if self.type_level3 and not self.type_level2:
            self.type_level2 = LEVEL3_PARENT[self.type_level3]
        if self.type_level2 and self.type_code in (TypeCode.UNDETERMINED, ""):
            self.type_code = LEVEL2_CODE[self.type_level2]
        if self.national_code is not None:
            self.national_code = self.national_code.strip() or None
        if self.permit_number:
            self.permit_number = self.permit_number.strip().upper()

    def clean(self):
        self.normalise()
        errors = {}
        county = self.county if self.county_id else None
        check_place(errors, county, self.town, self.village)
        if self.type_level3:
            parent = LEVEL3_PARENT[self.type_level3]
            if self.type_level2 and self.type_level2 != parent:
                errors["type_level3"] = f"三级分类“{Level3(self.type_level3).label}”不属于所选二级分类。"
        if self.type_level2:
            code = LEVEL2_CODE[self.type_level2]
            if self.type_code not in (code, TypeCode.UNDETERMINED, ""):
                errors["type_level2"] = (
                    f"二级分类“{Level2(self.type_level2).label}”属于{code.label}（{code.value}），与一级分类不一致。"
                )
        storm = storm_measure_error(self.type_code, self.rectification_measure)
        if storm:
            errors["type_code"] = storm
        if self.responsibility_basis == ResponsibilityBasis.GOVERNMENT_FALLBACK and not (
            self.responsible_entity_id or self.responsibility_note
        ):
            errors["responsibility_note"] = "政府兜底时须写明承担责任的政府或其指定单位。"
        if not self.name_auto and not self.name.strip():
            errors["name"] = "未选择自动命名时，须填写入河排污口名称。"
        if errors:
            raise ValidationError(errors)

    def generated_name(self):
        return naming.outfall_name(
            county=self.county if self.county_id else None,
            town=self.town,
            village=self.village,
            landmark=self.landmark or (self.responsible_entity.name if self.responsible_entity_id else ""),
            number=self.number,
            type_code=self.type_code,
            level2=self.type_level2,
            level3=self.type_level3,
        )

    def code_prefix(self):
        return coding.prefix_for(
            water_body=self.water_body,
            county=self.county,
            town=self.town,
            village=self.village,
            type_code=self.type_code,
        )

    @staticmethod
    def codes_with_prefix(prefix):
        return Outfall.objects.filter(code__startswith=prefix).values_list("code", flat=True)

    def generated_code(self):
        return coding.CodeAllocator(Outfall.codes_with_prefix).code(self.code_prefix())

    def save(self, *args, **kwargs):
        self.normalise()
        if self.name_auto or not self.name:
            self.name = self.generated_name()
        if self.code:
            return super().save(*args, **kwargs)
        # A fresh local code: retry if another save took the same sequence number meanwhile.
        for attempt in range(5):
            self.code = self.generated_code()
            try:
                with transaction.atomic():
                    return super().save(*args, **kwargs)
            except IntegrityError:
                if attempt == 4 or not Outfall.objects.filter(code=self.code).exists():
                    self.code = ""
                    raise
        return None

    # Presentation helpers ----------------------------------------------------------------------------
    @property
    def type_label(self):
        if self.type_level3:
            return Level3(self.type_level3).label
        if self.type_level2:
            return Level2(self.type_level2).label
        return self.get_type_code_display()

    @property
    def outlet_text(self):
        parts = [self.get_outlet_position_display() if self.outlet_position else "", self.outlet_description]
        return "，".join(p for p in parts if p)

    @property
    def is_borrowed(self):
        return any(link.role == LinkRole.BORROWS for link in self.unit_links.all())


class OutfallUnitLink(models.Model):
    """A discharge unit behind an outfall, with its role (owner, shares, borrows)."""

    outfall = models.ForeignKey(
        Outfall, verbose_name="入河排污口", on_delete=models.CASCADE, related_name="unit_links"
    )
    unit = models.ForeignKey(
        DischargeUnit, verbose_name="排污单位", on_delete=models.PROTECT, related_name="outfall_links"
    )
    role = models.CharField("关系", max_length=16, choices=LinkRole.choices, default=LinkRole.OWNER)
    via_channel = models.CharField(
        "经由通道", max_length=128, blank=True, help_text="如 某路雨水管网、某排干渠"
    )
    share_note = models.CharField(
        "责任分担说明", max_length=200, blank=True, help_text="共用排口时各单位的责任划分"
    )
    share_percent = models.PositiveSmallIntegerField(
        "责任份额（%）",
        null=True,
        blank=True,
        validators=[MaxValueValidator(100, "责任份额应在 0–100 之间。")],
        help_text="共用排口时本单位承担的份额，如排污许可证载明",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "排口-单位关联"
        verbose_name_plural = "排口-单位关联"
        ordering = ["outfall", "role", "unit__name"]
        constraints = [models.UniqueConstraint(fields=["outfall", "unit"], name="link_unique_outfall_unit")]

    def __str__(self):
        return f"{self.unit} → {self.outfall}（{self.get_role_display()}）"
