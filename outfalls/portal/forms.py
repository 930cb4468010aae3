from django import forms

from outfalls.core.choices import COUNTY_LEVELS
from outfalls.core.forms import BootstrapMixin
from outfalls.core.models import Jurisdiction
from outfalls.core.params import ParamError, parse_float

from .choices import LocationSource, ReportCategory


class ReportForm(forms.Form):
    """The citizen's form (portal/report.html): the photos come as request.FILES.getlist("photos")."""

    category = forms.ChoiceField(label="看到了什么", choices=ReportCategory.choices, widget=forms.RadioSelect)
    description = forms.CharField(
        label="情况描述", max_length=2000, widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    location_source = forms.ChoiceField(
        choices=LocationSource.choices, required=False, widget=forms.HiddenInput
    )
    lon = forms.CharField(required=False, widget=forms.HiddenInput)
    lat = forms.CharField(required=False, widget=forms.HiddenInput)
    accuracy_m = forms.CharField(required=False, widget=forms.HiddenInput)
    address = forms.CharField(label="地址或位置描述", max_length=200, required=False)
    county = forms.ModelChoiceField(
        label="所属县区（只填地址时必选）",
        queryset=Jurisdiction.objects.filter(level__in=COUNTY_LEVELS).order_by("code").defer("boundary"),
        required=False,
        empty_label="请选择",
    )
    outfall_code = forms.CharField(required=False, max_length=48, widget=forms.HiddenInput)
    anonymous = forms.TypedChoiceField(
        label="是否匿名",
        choices=[("yes", "匿名举报（不留联系方式）"), ("no", "留下联系方式，便于回访")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        required=False,
        empty_value=None,
    )
    contact_name = forms.CharField(label="称呼", max_length=32, required=False)
    contact_phone = forms.CharField(label="联系电话", max_length=32, required=False)
    share_photo_position = forms.BooleanField(
        label="同意向办理人员提供照片中的拍摄位置（不同意则删除）", required=False
    )
    challenge_token = forms.CharField(required=False, widget=forms.HiddenInput)
    challenge_answer = forms.CharField(label="请计算", max_length=4, required=False)

    def _number(self, name, label, low, high):
        try:
            return parse_float(
                self.cleaned_data.get(name), name, default=None, minimum=low, maximum=high, label=label
            )
        except ParamError as error:
            self.add_error(None, error.message)
            return None

    def clean(self):
        data = super().clean()
        data["lon"] = self._number("lon", "经度", 73, 136)
        data["lat"] = self._number("lat", "纬度", 3, 54)
        data["accuracy_m"] = self._number("accuracy_m", "定位精度", 0, 100000)
        if (data["lon"] is None) != (data["lat"] is None):
            self.add_error(None, "位置的经度和纬度须同时提供，请重新定位或在地图上选点。")
        return data


class AssignForm(BootstrapMixin, forms.Form):
    assignee = forms.CharField(label="承办人或承办单位", max_length=64)
    note = forms.CharField(label="说明", max_length=200, required=False)


class NoteForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label="说明", max_length=200, required=False)


class ReplyForm(BootstrapMixin, forms.Form):
    reply = forms.CharField(label="答复举报人", widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)


class LookupForm(forms.Form):
    code = forms.CharField(label="查询码", max_length=16)
