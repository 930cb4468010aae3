"""The one progress bar of a background job (core/jobs.py), polled by htmx while the job runs."""

from django import template

from outfalls.core import jobs

register = template.Library()


@register.inclusion_tag("core/job_progress.html", takes_context=True)
def job_progress(context, job, back=""):
    """A job's bar while it is queued or running; its failure and 重试 when it failed.

    back: where 重试 returns to (default: the page showing the bar).
    """
    request = context["request"]
    return {
        "job": job,
        "back": back or request.get_full_path(),
        "can_retry": job is not None and jobs.can_retry(job, request.user),
        "waiting_too_long": job is not None and jobs.waiting_too_long(job),
        "csrf_token": context.get("csrf_token"),
    }
