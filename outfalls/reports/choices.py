from django.db import models

from outfalls.core.choices import Milestone


class ReportKind(models.TextChoices):
    """The three statutory reports (实施方案（十四））; the values are their Milestone's, whose core.Deadline rows
    hold the due dates (data, not code)."""

    SURVEY = Milestone.REPORT_SURVEY.value, "排查溯源工作开展情况报告"
    PROGRESS = Milestone.REPORT_PROGRESS.value, "规范整治工作进展情况报告"
    SUMMARY = Milestone.REPORT_SUMMARY.value, "规范整治工作总结报告"


class SubmissionStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已报送"
