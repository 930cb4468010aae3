from rest_framework import serializers, viewsets

from .filters import JurisdictionFilter
from .models import Jurisdiction


class JurisdictionSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)
    county = serializers.SlugRelatedField(slug_field="code", read_only=True)
    level_label = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = Jurisdiction
        fields = ["id", "code", "name", "level", "level_label", "parent", "county", "boundary_approximate"]


class JurisdictionDetailSerializer(JurisdictionSerializer):
    class Meta(JurisdictionSerializer.Meta):
        fields = [*JurisdictionSerializer.Meta.fields, "boundary", "boundary_source"]


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """A read-only API list that starts from the model's visible_to(user)."""

    def base_queryset(self):
        return self.queryset.model.objects.all()

    def get_queryset(self):
        return self.base_queryset().visible_to(self.request.user)


class JurisdictionViewSet(ScopedReadOnlyViewSet):
    queryset = Jurisdiction.objects.all()
    filterset_class = JurisdictionFilter
    lookup_field = "code"

    def base_queryset(self):
        return Jurisdiction.objects.select_related("parent", "county").defer("boundary")

    def get_serializer_class(self):
        return JurisdictionDetailSerializer if self.action == "retrieve" else JurisdictionSerializer
