"""REST API for the rules' proposals: /api/v1/measure-proposals/ (the list page's FilterSet) with accept and
override actions calling the same services as the pages."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from outfalls.core.api import ScopedReadOnlyViewSet
from outfalls.registry.choices import RectificationMeasure

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
    decided_by = serializers.CharField(
        source="decided_by.username",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="决定人的用户名",
    )

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


class OverrideSerializer(serializers.Serializer):
    """The body of POST {id}/override/: the measure decided instead, and why (the service checks both)."""

    measure = serializers.ChoiceField(
        choices=RectificationMeasure.choices,
        help_text="改定的整治措施（不能与建议相同）",
        error_messages={
            "required": "请选择改定的整治措施。",
            "invalid_choice": "“{input}”不是可选的整治措施。",
        },
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="改定理由（必填，不能为空白）"
    )


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

    def _decide(self, decide):
        """Run a decision service on the proposal; its ValidationError is a 400 (core.rest.exception_handler)."""
        proposal = decide(self.get_object())
        proposal = self.base_queryset().get(pk=proposal.pk)
        proposals.scoped_reasons([proposal], self.request.user)
        return Response(self.get_serializer(proposal).data)

    @extend_schema(request=None, summary="采纳建议：以建议的措施为排口的整治措施")
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._decide(lambda p: proposals.accept_proposal(p, user=request.user))

    @extend_schema(request=OverrideSerializer, summary="改定措施：换一种整治措施，须写理由")
    @action(detail=True, methods=["post"])
    def override(self, request, pk=None):
        body = OverrideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._decide(
            lambda p: proposals.override_proposal(p, user=request.user, **body.validated_data)
        )
