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
