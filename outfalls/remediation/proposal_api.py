"""REST API for the rules' proposals: /api/v1/measure-proposals/ (the list page's FilterSet) with accept and
override actions calling the same services as the pages."""

from django.core.exceptions import ValidationError
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from outfalls.core.api import ScopedReadOnlyViewSet

from . import proposals
from .models import MeasureProposal
from .proposal_forms import ProposalFilter


class MeasureProposalSerializer(serializers.ModelSerializer):
    outfall_code = serializers.CharField(source="outfall.code", read_only=True)
    outfall_name = serializers.CharField(source="outfall.name", read_only=True)
    county = serializers.CharField(source="outfall.county.code", read_only=True)
    measure_label = serializers.CharField(source="get_measure_display", read_only=True)
    # Without the outfalls the caller may not see (proposals.scoped_reasons, applied by the viewset).
    reason = serializers.CharField(source="shown_reason", read_only=True)
    hits = serializers.JSONField(source="shown_hits", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None)

    class Meta:
        model = MeasureProposal
        fields = [
            "id",
            "outfall",
            "outfall_code",
            "outfall_name",
            "county",
            "run",
            "measure",
            "measure_label",
            "reason",
            "hits",
            "status",
            "status_label",
            "decided_measure",
            "override_reason",
            "decided_by",
            "decided_at",
            "created_at",
        ]


class MeasureProposalViewSet(ScopedReadOnlyViewSet):
    """Measure proposals in the caller's scope. Filters: q, county, measure, rule, status (or current),
    ordering. POST {id}/accept/ and {id}/override/ (measure, reason) decide a pending proposal."""

    queryset = MeasureProposal.objects.all()
    filterset_class = ProposalFilter
    serializer_class = MeasureProposalSerializer

    def base_queryset(self):
        return (
            MeasureProposal.objects.select_related("outfall", "outfall__county", "decided_by")
            .defer("outfall__county__boundary", "outfall__notes", "outfall__outlet_description")
            .order_by("-created_at", "-id")
        )

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return page if page is None else proposals.scoped_reasons(page, self.request.user)

    def get_object(self):
        proposal = super().get_object()
        proposals.scoped_reasons([proposal], self.request.user)
        return proposal

    def _decide(self, request, decide):
        proposal = self.get_object()
        try:
            proposal = decide(proposal)
        except ValidationError as error:
            detail = error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}
            return Response(detail, status=status.HTTP_400_BAD_REQUEST)
        proposal = self.base_queryset().get(pk=proposal.pk)
        proposals.scoped_reasons([proposal], request.user)
        return Response(self.get_serializer(proposal).data)

    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._decide(request, lambda p: proposals.accept_proposal(p, user=request.user))

    @action(detail=True, methods=["post"])
    def override(self, request, pk=None):
        return self._decide(
            request,
            lambda p: proposals.override_proposal(
                p,
                user=request.user,
                measure=request.data.get("measure", ""),
                reason=request.data.get("reason", ""),
            ),
        )
