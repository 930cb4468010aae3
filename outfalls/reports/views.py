"""The 工作台 (home page after signing in). Thin: the items, deadlines and figures come from workbench.py."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from outfalls.core.models import user_display

from .workbench import workbench


@login_required
def home(request):
    bench = workbench(request.user)
    return render(
        request,
        "reports/workbench.html",
        {"bench": bench, "who": user_display(request.user)},
    )
