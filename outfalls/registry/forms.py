"""Forms for the ledger. Validation rules live on the models (clean) and in services."""

from django import forms

from outfalls.core.choices import AttachmentKind
from outfalls.core.forms import BootstrapMixin, narrow, preselect_only_choice, style_form
from outfalls.core.locking import VersionedFormMixin
from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.geo.coords import CRS, CRS_CHOICES, CoordinateError, parse_point, to_cgcs2000

from .choices import INITIAL, LinkRole
from .classification import LEVEL2_PARENTS, LEVEL3_PARENTS
from .models import DischargeUnit, Outfall, WaterBody
from .services import APPROVAL_FIELDS, APPROVAL_SOURCE, STATE_FIELD_SOURCE


def _place_choices(user, level):
    return (
        Jurisdiction.objects.visible_to(user)
        .filter(level=level)
        .select_related("county", "parent")
        .defer("boundary", "county__boundary", "parent__boundary")
    )


def narrow_places(form):
    """The form's town list narrows as its county is chosen, its village list as its town (or county) is;
    a user with one county finds it chosen on a new form (core.forms.NarrowedSelect)."""
    town = form.fields["town"]
    narrow(
        town,
        ("county",),
        {pk: {"county": county} for pk, county in town.queryset.values_list("pk", "county_id")},
    )
    if "village" in form.fields:
        village = form.fields["village"]
        rows = village.queryset.values_list("pk", "parent_id", "county_id")
        narrow(village, ("town", "county"), {pk: {"town": up, "county": county} for pk, up, county in rows})
    preselect_only_choice(form, "county")


def point_from_text(text, crs=CRS.CGCS2000):
    """(lon, lat) in CGCS2000 from typed coordinate text in crs (geo.coords: decimal, DMS, letters, ...).

    Raises CoordinateError with a Chinese message. The forms and the map's coordinate look-up share it.
    """
    lon, lat = parse_point(text)
    return to_cgcs2000(lon, lat, crs)


def coord_text_field():
    return forms.CharField(
        label="坐标输入",
        required=False,
        max_length=120,
        help_text="可粘贴任一常见写法，如 113.3125, 40.0901 或 113°18′45″E 40°05′24″N；"
        "保存时按所选坐标系换算为 CGCS2000 并填入经纬度（填写时以此为准）",
    )


def coord_crs_field():
    return forms.ChoiceField(
        label="坐标输入的坐标系", choices=CRS_CHOICES, initial=CRS.CGCS2000.value, required=False
    )


class TypedCoordinatesMixin:
    """An optional "坐标输入" text and its CRS: when filled, clean() converts it and sets lon/lat.

    The form declares coord_text and coord_crs (coord_text_field(), coord_crs_field()). An unreadable text
    is an error on that field, the input kept; a readable one replaces whatever the lon/lat boxes held.
    """

    def _relax_lon_lat(self):
        if self.is_bound and (self.data.get(self.add_prefix("coord_text")) or "").strip():
            # The typed text supplies lon/lat: the boxes may be left empty.
            self.fields["lon"].required = False
            self.fields["lat"].required = False

    def _clean_typed_coordinates(self, cleaned):
        text = (cleaned.get("coord_text") or "").strip()
        if not text:
            return
        try:
            lon, lat = point_from_text(text, cleaned.get("coord_crs") or CRS.CGCS2000)
        except CoordinateError as error:
            self.add_error("coord_text", error.message)
            return
        cleaned["lon"], cleaned["lat"] = lon, lat
        for name in ("lon", "lat"):
            self._errors.pop(name, None)


class PlaceLabelChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        if obj.level == "village":
            return f"{obj.county.name if obj.county else ''} / {obj.parent.name} / {obj.name}"
        return f"{obj.county.name if obj.county else ''} / {obj.name}"


class OutfallForm(VersionedFormMixin, TypedCoordinatesMixin, BootstrapMixin, forms.ModelForm):
    # Grouped as the attachment-1 summary table groups its columns.
    field_groups = [
        ("区位信息", ["water_body", "section_interval", "county", "town", "village"]),
        (
            "排污口信息",
            [
                "name_auto",
                "name",
                "landmark",
                "number",
                "national_code",
                "lon",
                "lat",
                "coord_text",
                "coord_crs",
                "confirm_placement",
                "entry_mode",
                "outlet_position",
                "outlet_description",
                "type_code",
                "type_level2",
                "type_level3",
                "status",
            ],
        ),
        ("引流设施", ["conveyance", "daily_volume_m3"]),
        ("排污单位信息", ["responsible_entity", "responsibility_basis", "responsibility_note"]),
        (
            "整治与管理",
            [
                "registered",
                "approval_date",
                "approval_number",
                "permit_number",
                "sign_installed",
                "notes",
            ],
        ),
    ]
    town = PlaceLabelChoiceField(queryset=Jurisdiction.objects.none(), required=False, label="乡镇（街道）")
    village = PlaceLabelChoiceField(queryset=Jurisdiction.objects.none(), required=False, label="村（社区）")
    coord_text = coord_text_field()
    coord_crs = coord_crs_field()
    confirm_placement = forms.BooleanField(
        label="坐标已核实，仍按此保存",
        required=False,
        help_text="坐标不在所填县区内或距所填受纳水体较远时须勾选；空间检查结果仍记入一口一档",
    )

    class Meta:
        model = Outfall
        fields = [
            "name_auto",
            "name",
            "landmark",
            "number",
            "national_code",
            "type_code",
            "type_level2",
            "type_level3",
            "county",
            "town",
            "village",
            "lon",
            "lat",
            "water_body",
            "section_interval",
            "entry_mode",
            "outlet_position",
            "outlet_description",
            "conveyance",
            "daily_volume_m3",
            "responsible_entity",
            "responsibility_basis",
            "responsibility_note",
            "status",
            "registered",
            "approval_date",
            "approval_number",
            "permit_number",
            "sign_installed",
            "notes",
        ]
        error_messages = {
            "national_code": {"unique": "该国家统一编码已被台账中另一排口使用，请核对。"},
            "code": {"unique": "该排污口编码已被台账中另一排口使用。"},
        }
        widgets = {
            "approval_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "lon": forms.NumberInput(attrs={"step": "0.000001"}),
            "lat": forms.NumberInput(attrs={"step": "0.000001"}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self._relax_lon_lat()
        counties = Jurisdiction.objects.visible_to(user).counties().defer("boundary")
        self.fields["county"].queryset = counties
        self.fields["town"].queryset = _place_choices(user, "town")
        self.fields["village"].queryset = _place_choices(user, "village")
        narrow_places(self)
        # The level-2 type narrows as the level-1 type is chosen, the level-3 type as the level-2 one is.
        narrow(self.fields["type_level2"], ("type_code",), LEVEL2_PARENTS)
        narrow(self.fields["type_level3"], ("type_level2",), LEVEL3_PARENTS)
        self.fields["water_body"].queryset = WaterBody.objects.visible_to(user).defer("geometry")
        self.fields["responsible_entity"].queryset = DischargeUnit.objects.visible_to(user).only("id", "name")
        self.fields["name"].required = False
        self.fields[
            "name"
        ].help_text = "勾选“按规则自动命名”时按 HJ 1235 由行政区划名＋地标或单位名＋编号＋类型名生成"
        if self.instance.pk:
            # The lifecycle status moves only through its workflows (see state_rows).
            del self.fields["status"]
        else:
            self.fields["status"].choices = [(s.value, s.label) for s in INITIAL]
        if not scope_of(user).can_set_approval:
            for name in APPROVAL_FIELDS:  # kept as they are; only the city bureau changes them
                self.fields[name].disabled = True
                self.fields[name].help_text = APPROVAL_SOURCE
        if not self._placement_asked():
            # Offered only once the service has asked for it (a point outside its county or far from its river).
            del self.fields["confirm_placement"]

    def _placement_asked(self):
        return self.is_bound and "confirm_placement" in self.data

    def ask_placement(self, messages):
        """Show the confirmation box with the service's findings (the view calls this on its refusal)."""
        if "confirm_placement" not in self.fields:
            self.fields["confirm_placement"] = type(self).base_fields["confirm_placement"]
            style_form(self)
        for message in messages:
            self.add_error("confirm_placement", message)

    def state_rows(self):
        """The state the workflows own, read-only on the form: (label, value, where it changes)."""
        outfall = self.instance
        if outfall.pk is None:
            return []
        rows = [
            ("生命周期状态", outfall.get_status_display(), STATE_FIELD_SOURCE["status"]),
            (
                "整治类型",
                outfall.get_rectification_measure_display() or "—",
                STATE_FIELD_SOURCE["rectification_measure"],
            ),
            (
                "整治进展",
                outfall.get_rectification_status_display(),
                STATE_FIELD_SOURCE["rectification_status"],
            ),
        ]
        if outfall.merged_into_id:
            rows.append(("并入排口", str(outfall.merged_into), STATE_FIELD_SOURCE["merged_into"]))
        return rows

    def clean(self):
        cleaned = super().clean()
        self._clean_typed_coordinates(cleaned)
        name = (cleaned.get("name") or "").strip()
        if name and cleaned.get("name_auto") and (not self.instance.pk or name != self.instance.name):
            # A typed or hand-edited name wins over the generated one.
            cleaned["name_auto"] = False
            self.instance.name_auto = False
        return cleaned


class StatusForm(BootstrapMixin, forms.Form):
    to_status = forms.ChoiceField(label="变更为", choices=[])
    reason = forms.CharField(label="原因", widget=forms.Textarea(attrs={"rows": 2}), required=True)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [(c.value, c.label) for c in choices]


class DisclosureForm(BootstrapMixin, forms.Form):
    """The ledger's bulk disclosure action: the ticked rows or everything the current filter lists."""

    ACTIONS = [("public", "向社会公开"), ("withheld", "不公开"), ("rule", "恢复按公开规则")]
    TARGETS = [("selected", "勾选的排污口"), ("filter", "当前筛选的全部排污口")]
    action = forms.ChoiceField(label="公开设置", choices=ACTIONS)
    target = forms.ChoiceField(label="范围", choices=TARGETS, initial="selected")
    reason = forms.CharField(label="理由", required=False, max_length=200)
    filter = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)

    def disclose(self):
        return {"public": True, "withheld": False, "rule": None}[self.cleaned_data["action"]]


class UnitLinkForm(BootstrapMixin, forms.Form):
    unit = forms.ModelChoiceField(queryset=DischargeUnit.objects.none(), label="排污单位")
    role = forms.ChoiceField(choices=LinkRole.choices, label="关系")
    via_channel = forms.CharField(label="经由通道", required=False, max_length=128)
    share_note = forms.CharField(label="责任分担说明", required=False, max_length=200)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = DischargeUnit.objects.visible_to(user).only("id", "name")


class AttachmentForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(choices=AttachmentKind.choices, label="类别")
    title = forms.CharField(label="说明", required=False, max_length=200)
    file = forms.FileField(label="文件")


class DischargeUnitForm(VersionedFormMixin, TypedCoordinatesMixin, BootstrapMixin, forms.ModelForm):
    field_groups = [
        ("基本信息", ["name", "credit_code", "kind", "industry", "park"]),
        ("位置", ["county", "town", "address", "lon", "lat", "coord_text", "coord_crs"]),
        ("许可与联系", ["permit_number", "contact", "phone", "notes"]),
    ]
    town = PlaceLabelChoiceField(queryset=Jurisdiction.objects.none(), required=False, label="乡镇（街道）")
    coord_text = coord_text_field()
    coord_crs = coord_crs_field()

    class Meta:
        model = DischargeUnit
        fields = [
            "name",
            "credit_code",
            "kind",
            "industry",
            "park",
            "county",
            "town",
            "address",
            "lon",
            "lat",
            "permit_number",
            "contact",
            "phone",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = Jurisdiction.objects.visible_to(user).counties().defer("boundary")
        self.fields["town"].queryset = _place_choices(user, "town")
        narrow_places(self)
        self._relax_lon_lat()

    def clean(self):
        cleaned = super().clean()
        self._clean_typed_coordinates(cleaned)
        return cleaned

    def clean_credit_code(self):
        value = (self.cleaned_data.get("credit_code") or "").strip().upper()
        return value or None
