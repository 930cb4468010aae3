"""Forms of the plan and close-out pages. Rules live in services; these only collect and keep input."""

from django import forms
from django.db.models import Q

from outfalls.core.forms import BootstrapMixin, MultipleFileField
from outfalls.core.locking import VersionedFormMixin
from outfalls.core.models import Department, Jurisdiction
from outfalls.registry.models import DischargeUnit, Outfall

from . import services
from .choices import AccountabilityKind
from .models import Programme, RectificationPlan
from .services import NOT_A_MERGE_TARGET

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OutfallLabelChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


class PlanForm(VersionedFormMixin, BootstrapMixin, forms.ModelForm):
    field_groups = [
        ("整治措施", ["measure", "actions", "merge_target", "programme"]),
        ("责任与期限", ["responsible_unit", "responsible_org", "deadline"]),
        ("过渡期", ["transitional_until", "transitional_reason"]),
    ]
    merge_target = OutfallLabelChoiceField(
        queryset=Outfall.objects.none(), required=False, label="并入排口", help_text="清理合并时必填"
    )

    class Meta:
        model = RectificationPlan
        fields = [
            "measure",
            "actions",
            "merge_target",
            "programme",
            "responsible_unit",
            "responsible_org",
            "deadline",
            "transitional_until",
            "transitional_reason",
        ]
        widgets = {
            "actions": forms.Textarea(attrs={"rows": 4}),
            "deadline": DATE_INPUT,
            "transitional_until": DATE_INPUT,
        }

    def __init__(self, *args, user, outfall, **kwargs):
        super().__init__(*args, **kwargs)
        self.outfall = outfall
        # The required marks follow the service's rules (one of unit/org; deadline may default).
        self.fields["responsible_unit"].required = False
        self.fields["deadline"].required = False
        if self.instance.pk is None and services.default_deadline(outfall) is None:
            due = services.county_deadline(outfall)
            self.fields["deadline"].help_text = (
                f"本县区的整治期限（{due:%Y-%m-%d}）已过，请另定期限"
                if due
                else "本县区未设置默认期限，请填写"
            )
        self.fields["measure"].error_messages["required"] = "请选择整治措施。"
        self.fields["actions"].error_messages["required"] = "请填写具体整治措施。"
        units = DischargeUnit.objects.visible_to(user).filter(
            Q(county_id=outfall.county_id)
            | Q(outfall_links__outfall=outfall)
            | Q(pk=outfall.responsible_entity_id)
        )
        self.fields["responsible_unit"].queryset = units.distinct().order_by("name")
        self.fields["merge_target"].queryset = (
            Outfall.objects.visible_to(user)
            .filter(county_id=outfall.county_id)
            .exclude(pk=outfall.pk)
            .exclude(status__in=NOT_A_MERGE_TARGET)
            .only("code", "name")
            .order_by("code")
        )
        self.fields["programme"].queryset = Programme.objects.all()


PERCENT_RANGE = "完成进度须在 0 到 100 之间。"


class ProgressForm(BootstrapMixin, forms.Form):
    # The messages are the service's (services.add_progress), so a field says the same from either side.
    date = forms.DateField(
        label="日期",
        widget=DATE_INPUT,
        error_messages={
            "required": "请填写进展日期。",
            "invalid": "进展日期格式应为 年-月-日，如 2024-05-01。",
        },
    )
    percent = forms.IntegerField(
        label="完成进度（%）",
        min_value=0,
        max_value=100,
        error_messages={
            "required": "请填写完成进度。",
            "invalid": "完成进度须为 0 到 100 的整数。",
            "min_value": PERCENT_RANGE,
            "max_value": PERCENT_RANGE,
        },
    )
    note = forms.CharField(
        label="进展说明",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写进展说明。"},
    )
    photos = MultipleFileField(label="整治后照片", help_text="可多选；jpg、png、webp")
    documents = MultipleFileField(label="文件资料", help_text="可多选；pdf、doc、docx、xls、xlsx 等")


class SubmitForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label="销号申请说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    files = MultipleFileField(label="佐证材料", help_text="验收意见、照片等；进展中已上传的材料也计入")


class ReasonForm(BootstrapMixin, forms.Form):
    # Not required here: the service says which reason is missing (退回理由 or 重新打开的理由).
    reason = forms.CharField(label="理由", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ApproveForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label="审核意见", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    register = forms.BooleanField(
        label="同时完成登记建档",
        required=False,
        initial=True,
        help_text="规范整治、无需整治的排口销号后保留，一并登记建档",
    )
    accept_gaps = forms.BooleanField(
        label="已知悉上述未完成事项，仍予销号",
        required=False,
        help_text="须在审核意见中说明理由",
    )

    def __init__(self, *args, keeps, gaps, **kwargs):
        super().__init__(*args, **kwargs)
        if not keeps:
            del self.fields["register"]  # only a kept outfall is registered with its close-out
        if not gaps:
            del self.fields["accept_gaps"]


class AccountabilityForm(BootstrapMixin, forms.Form):
    """通报批评 or 公开约谈 of one county or one department."""

    kind = forms.ChoiceField(label="问责方式", choices=[("", "请选择"), *AccountabilityKind.choices])
    county = forms.ModelChoiceField(
        label="县区",
        queryset=Jurisdiction.objects.counties().defer("boundary").order_by("code"),
        required=False,
        empty_label="（选择部门时留空）",
    )
    department = forms.ModelChoiceField(
        label="部门",
        queryset=Department.objects.order_by("order", "name"),
        required=False,
        empty_label="（选择县区时留空）",
    )
    decided_on = forms.DateField(
        label="日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    document_number = forms.CharField(label="文号", max_length=64, required=False)
    reason = forms.CharField(
        label="事由",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="已按督办数据拟好初稿，请核对修改",
    )
