"""问责 pages: the register of 通报批评 and 公开约谈 (scoped: a county sees its own), and recording one with its
reason drafted from the supervision figures. Thin: the rules are in accountability.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone

from outfalls.core.forms import add_service_errors
from outfalls.core.models import Department, Jurisdiction
from outfalls.core.params import parse_int
from outfalls.core.scopes import scope_of

from . import accountability
from .models import Accountability
from .plan_forms import AccountabilityForm


@login_required
def accountability_list(request):
    rows = (
        Accountability.objects.visible_to(request.user)
        .select_related("county", "department", "decided_by")
        .defer("county__boundary")
    )
    page = Paginator(rows, 50).get_page(parse_int(request.GET.get("page"), "page", default=1, minimum=1))
    return render(
        request,
        "remediation/accountability_list.html",
        {"page": page, "can_record": scope_of(request.user).can_hold_accountable},
    )


@login_required
def accountability_new(request):
    if not scope_of(request.user).can_hold_accountable:
        raise PermissionDenied("只有市生态环境局可以记录通报批评和公开约谈。")
    if request.method == "POST":
        form = AccountabilityForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                accountability.record(user=request.user, **d)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "问责记录已保存。")
                return redirect("remediation:accountability_list")
        status = 400
    else:
        initial = {"decided_on": timezone.localdate()}
        county = Jurisdiction.objects.counties().filter(code=request.GET.get("county") or "").first()
        department = Department.objects.filter(
            pk=parse_int(request.GET.get("department"), "department", default=None, minimum=1)
        ).first()
        target = county or department
        if target is not None:
            figures = accountability.figures_for(county=county, department=None if county else department)
            initial.update(
                county=county.pk if county else None,
                department=department.pk if department and not county else None,
                reason=accountability.suggested_reason(target.name, figures),
            )
        form = AccountabilityForm(initial=initial)
        status = 200
    return render(request, "remediation/accountability_form.html", {"form": form}, status=status)
