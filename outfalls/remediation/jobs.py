"""Rectification work on the task queue (core/jobs.py): running the rules from the rules page, and making the
notice (通报) .docx. The management commands (run_rules, remediation_notice) run the same services inline."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from outfalls.core import jobs
from outfalls.core.choices import JobKind

from . import notice, proposals


# The rules ------------------------------------------------------------------------------------------------
def start_rule_run(user, county=None):
    """Check that the user may run the rules, and put the run on the queue. county: a code or Jurisdiction."""
    if not proposals.can_run_rules(user):
        raise PermissionDenied("只有市级管理员、市生态环境局和县区可以运行整治规则。")
    return jobs.start(JobKind.RULE_RUN, owner=user, params={"county": getattr(county, "code", county) or ""})


@jobs.register(JobKind.RULE_RUN)
def rule_run(job, progress):
    progress.step("按规则检查排口并更新整治建议")
    try:
        run = proposals.run_rules(user=job.owner, county=job.params.get("county") or None)
    except ValidationError as error:
        raise jobs.JobError("；".join(error.messages))
    job.result = {"back_url": reverse("remediation:proposal_list"), "back_label": "查看整治建议"}
    where = run.county.name if run.county else "全市"
    return f"已对{where}运行整治规则：检查排口 {run.outfalls_checked} 个，待确认的建议已更新。"


# The notice -----------------------------------------------------------------------------------------------
def start_notice(user):
    if not notice.can_download(user):
        raise PermissionDenied("只有市级用户可以生成整治进展通报。")
    return jobs.start(JobKind.NOTICE, owner=user)


@jobs.register(JobKind.NOTICE)
def make_notice(job, progress):
    if not notice.can_download(job.owner):
        raise PermissionDenied("只有市级用户可以生成整治进展通报。")
    today = timezone.localdate(job.created_at)
    progress.step("汇总整治进展并生成 Word 文件")
    name = notice.filename(today)
    stored = default_storage.save(f"jobs/{job.pk}/{name}", ContentFile(notice.build_notice(job.owner, today)))
    job.result = {
        "file": stored,
        "filename": name,
        "back_url": reverse("remediation:supervision"),
        "back_label": "返回整治监督",
    }
    return f"通报已生成：{name}。"
