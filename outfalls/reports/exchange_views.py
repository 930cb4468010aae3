"""The exchange page (/exchange/): what the provincial and national exchange file holds (the structure, with the
elements not yet confirmed marked), how many rows each part has in the user's scope, and the download.
Thin: the structure, rows and files are in exchange.py."""

import tempfile

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from outfalls.core.downloads import attachment
from outfalls.registry.ledger_export import XLSX_CONTENT_TYPE

from . import exchange
from .forms import ExchangeForm


def _form(request, data=None):
    return ExchangeForm(data, counties=exchange.counties_for(request.user), max_days=exchange.MAX_PERIOD_DAYS)


@login_required
def page(request):
    form = _form(request, request.GET or None)
    valid = form.is_valid() if form.is_bound else False
    data = form.cleaned_data if valid else {}
    period = exchange.Period.of(data.get("since"), data.get("until"))
    county = data.get("county")
    return render(
        request,
        "reports/exchange.html",
        {
            "form": form if form.is_bound else _form(request),
            "structure": exchange.structure(),
            "statuses": exchange.STATUS_LABELS,
            "counts": exchange.counts(user=request.user, county=county, period=period),
            "period": period,
            "county": county,
        },
        status=400 if form.is_bound and not valid else 200,
    )


@login_required
def download(request):
    form = _form(request, request.GET)
    if not form.is_valid():
        return render(
            request,
            "reports/exchange.html",
            {
                "form": form,
                "structure": exchange.structure(),
                "statuses": exchange.STATUS_LABELS,
                "counts": None,
            },
            status=400,
        )
    data = form.cleaned_data
    today = timezone.localdate()
    options = {
        "user": request.user,
        "county": data.get("county"),
        "period": exchange.Period.of(data.get("since"), data.get("until"), today=today),
        "today": today,
    }
    kind = data["format"] or "xlsx"
    name = exchange.filename(kind, county=data.get("county"), today=today)
    if kind == "json":
        response = HttpResponse(content_type="application/json; charset=utf-8")
        exchange.write_json(response, **options)
    else:
        handle = tempfile.TemporaryFile()
        exchange.write_xlsx(handle, **options)
        handle.seek(0)
        response = FileResponse(handle, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = attachment(name)
    return response
