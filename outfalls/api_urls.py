"""REST API v1: /api/v1/ (DRF router) plus the token endpoint; OpenAPI lives at /api/schema/."""

from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.routers import DefaultRouter

from outfalls.core.api import JurisdictionViewSet, ObtainTokenView
from outfalls.monitoring.api import (
    DrawViewSet,
    FindingViewSet,
    LimitViewSet,
    ParameterViewSet,
    SampleViewSet,
    StandardViewSet,
    StationViewSet,
)
from outfalls.permits.api import ApplicationViewSet, DecisionViewSet, PermitViewSet
from outfalls.portal.api import CitizenReportViewSet
from outfalls.registry.api import (
    DischargeUnitViewSet,
    OutfallViewSet,
    SectionViewSet,
    WaterBodyViewSet,
    ZoneViewSet,
)
from outfalls.remediation.api import AccountabilityViewSet, RectificationPlanViewSet
from outfalls.remediation.proposal_api import MeasureProposalViewSet
from outfalls.reports.api import StatutoryReportViewSet
from outfalls.reports.exchange_api import ExchangeViewSet
from outfalls.supervision.api import EnforcementCaseViewSet, EntityReportViewSet, PatrolViewSet
from outfalls.survey.api import CampaignViewSet
from outfalls.survey.point_api import FieldCheckViewSet, SuspectedPointViewSet
from outfalls.survey.tracing_api import TracingCaseViewSet

router = DefaultRouter()
router.register("outfalls", OutfallViewSet, basename="outfall")
router.register("units", DischargeUnitViewSet, basename="unit")
router.register("water-bodies", WaterBodyViewSet, basename="waterbody")
router.register("sections", SectionViewSet, basename="section")
router.register("jurisdictions", JurisdictionViewSet, basename="jurisdiction")
router.register("measure-proposals", MeasureProposalViewSet, basename="measureproposal")
router.register("water-zones", ZoneViewSet, basename="waterzone")
router.register("setup-applications", ApplicationViewSet, basename="setupapplication")
router.register("setup-decisions", DecisionViewSet, basename="setupdecision")
router.register("permits", PermitViewSet, basename="permit")
router.register("parameters", ParameterViewSet, basename="parameter")
router.register("standards", StandardViewSet, basename="standard")
router.register("limits", LimitViewSet, basename="limit")
router.register("stations", StationViewSet, basename="station")
router.register("samples", SampleViewSet, basename="sample")
router.register("exceedances", FindingViewSet, basename="exceedance")
router.register("draws", DrawViewSet, basename="draw")
router.register("enforcement-cases", EnforcementCaseViewSet, basename="enforcementcase")
router.register("borrowing-reports", EntityReportViewSet, basename="borrowingreport")
router.register("patrols", PatrolViewSet, basename="patrol")
# survey: campaigns, points, field checks, tracing cases
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("suspected-points", SuspectedPointViewSet, basename="suspectedpoint")
router.register("field-checks", FieldCheckViewSet, basename="fieldcheck")
router.register("tracing-cases", TracingCaseViewSet, basename="tracingcase")
# remediation: plans, progress, close-out steps, accountability
router.register("rectification-plans", RectificationPlanViewSet, basename="rectificationplan")
router.register("accountability", AccountabilityViewSet, basename="accountability")
# portal: citizen reports
router.register("citizen-reports", CitizenReportViewSet, basename="citizenreport")
# reports: statutory reports, exchange
router.register("exchange", ExchangeViewSet, basename="exchange")
router.register("statutory-reports", StatutoryReportViewSet, basename="statutoryreport")


@csrf_exempt  # a POST to an unknown address is a 404 too, not a CSRF refusal (the API's views are exempt)
def not_found(request, *args, **kwargs):
    """Any other address under /api/v1/ (e.g. an id the router's pattern refuses, like "0.5"): a JSON 404 in the
    API's error shape, not the HTML page."""
    return JsonResponse(
        {"detail": "没有这个 API 地址。"}, status=404, json_dumps_params={"ensure_ascii": False}
    )


urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
    re_path(r"", not_found),
]
