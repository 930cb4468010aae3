from django import forms

from outfalls.core.forms import BootstrapMixin

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class StatutoryReportForm(BootstrapMixin, forms.Form):
    """The parts a county writes in its report, and the day its figures stand for."""

    as_of = forms.DateField(label="数据截至", widget=DATE, help_text="报告中的数字取台账在该日结束时的状态")
    work_done = forms.CharField(
        label="工作开展情况", max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    problems = forms.CharField(
        label="存在的问题", max_length=3000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    next_steps = forms.CharField(
        label="下一步工作", max_length=3000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ExchangeForm(BootstrapMixin, forms.Form):
    """What goes into an exchange file: the county (a citywide user may leave it empty for the whole city), the
    monitoring section's period, and the format. The period is bounded (exchange.MAX_PERIOD_DAYS)."""

    county = forms.ModelChoiceField(
        label="县区", queryset=None, required=False, empty_label="全部（您范围内的）", to_field_name="code"
    )
    since = forms.DateField(label="监测数据自", widget=DATE, required=False)
    until = forms.DateField(label="监测数据至", widget=DATE, required=False)
    format = forms.ChoiceField(
        label="格式", choices=[("xlsx", "Excel（.xlsx）"), ("json", "JSON")], initial="xlsx", required=False
    )

    def __init__(self, *args, counties, max_days, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties
        self.max_days = max_days

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "结束日期不能早于开始日期。")
        elif since and until and (until - since).days > self.max_days:
            self.add_error("since", f"监测数据一次最多导出 {self.max_days} 天，请缩短期间。")
        return data
