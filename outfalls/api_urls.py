"""REST API v1: /api/v1/ (DRF router) plus the token endpoint; OpenAPI lives at /api/schema/."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from outfalls.core.api import JurisdictionViewSet, ObtainTokenView
from outfalls.registry.api import DischargeUnitViewSet, OutfallViewSet, SectionViewSet, WaterBodyViewSet
from outfalls.remediation.proposal_api import MeasureProposalViewSet

router = DefaultRouter()
router.register("outfalls", OutfallViewSet, basename="outfall")
router.register("units", DischargeUnitViewSet, basename="unit")
router.register("water-bodies", WaterBodyViewSet, basename="waterbody")
router.register("sections", SectionViewSet, basename="section")
router.register("jurisdictions", JurisdictionViewSet, basename="jurisdiction")
router.register("measure-proposals", MeasureProposalViewSet, basename="measureproposal")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
]
