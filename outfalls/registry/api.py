"""REST API v1 for the ledger: serializers and viewsets, scoped by visible_to(user)."""

from django.db.models import Prefetch
from rest_framework import mixins, serializers, viewsets

from outfalls.core.api import ScopedReadOnlyViewSet

from . import services
from .filters import DischargeUnitFilter, OutfallFilter, SectionFilter, WaterBodyFilter, ZoneFilter
from .models import DischargeUnit, Outfall, OutfallUnitLink, Section, WaterBody, WaterFunctionZone


class OutfallUnitLinkSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = OutfallUnitLink
        fields = ["unit", "unit_name", "role", "via_channel", "share_note"]


class OutfallSerializer(serializers.ModelSerializer):
    county = serializers.SlugRelatedField(slug_field="code", read_only=True)
    county_name = serializers.CharField(source="county.name", read_only=True)
    town = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    village = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    water_body = serializers.PrimaryKeyRelatedField(read_only=True)
    water_body_name = serializers.CharField(source="water_body.name", read_only=True)
    type_label = serializers.CharField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    responsible_entity_name = serializers.CharField(
        source="responsible_entity.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Outfall
        fields = [
            "id",
            "code",
            "national_code",
            "name",
            "type_code",
            "type_level2",
            "type_level3",
            "type_label",
            "county",
            "county_name",
            "town",
            "village",
            "lon",
            "lat",
            "water_body",
            "water_body_name",
            "section_interval",
            "status",
            "status_label",
            "rectification_measure",
            "rectification_status",
            "registered",
            "responsible_entity",
            "responsible_entity_name",
            "responsibility_basis",
            "approval_date",
            "permit_number",
            "sign_installed",
            "updated_at",
        ]


class OutfallDetailSerializer(OutfallSerializer):
    unit_links = OutfallUnitLinkSerializer(many=True, read_only=True)

    class Meta(OutfallSerializer.Meta):
        fields = [
            *OutfallSerializer.Meta.fields,
            "entry_mode",
            "outlet_position",
            "outlet_description",
            "conveyance",
            "responsibility_note",
            "approval_number",
            "notes",
            "unit_links",
        ]


class OutfallViewSet(ScopedReadOnlyViewSet):
    """Outfalls in the caller's scope. Filters: q, county (6-digit code), town, water_body, type_code,
    type_level2, status, rectification_status, registered, ordering."""

    queryset = Outfall.objects.all()
    filterset_class = OutfallFilter

    def base_queryset(self):
        queryset = Outfall.objects.for_list()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("unit_links", queryset=OutfallUnitLink.objects.select_related("unit"))
            )
        return queryset

    def get_serializer_class(self):
        return OutfallDetailSerializer if self.action == "retrieve" else OutfallSerializer


class DischargeUnitSerializer(serializers.ModelSerializer):
    county = serializers.SlugRelatedField(slug_field="code", read_only=True)
    county_name = serializers.CharField(source="county.name", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = DischargeUnit
        fields = [
            "id",
            "name",
            "credit_code",
            "kind",
            "kind_label",
            "industry",
            "park",
            "county",
            "county_name",
            "address",
            "lon",
            "lat",
            "permit_number",
        ]


class DischargeUnitViewSet(ScopedReadOnlyViewSet):
    queryset = DischargeUnit.objects.all()
    filterset_class = DischargeUnitFilter
    serializer_class = DischargeUnitSerializer

    def base_queryset(self):
        return DischargeUnit.objects.select_related("county")


class WaterBodySerializer(serializers.ModelSerializer):
    parent_name = serializers.CharField(source="parent.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = WaterBody
        fields = [
            "id",
            "name",
            "code",
            "kind",
            "basin",
            "parent",
            "parent_name",
            "target_class",
            "consultation_required",
            "geometry_approximate",
        ]


class WaterBodyDetailSerializer(WaterBodySerializer):
    class Meta(WaterBodySerializer.Meta):
        fields = [*WaterBodySerializer.Meta.fields, "geometry", "geometry_source"]


class WaterBodyViewSet(ScopedReadOnlyViewSet):
    queryset = WaterBody.objects.all()
    filterset_class = WaterBodyFilter

    def base_queryset(self):
        queryset = WaterBody.objects.select_related("parent")
        return queryset if self.action == "retrieve" else queryset.defer("geometry", "parent__geometry")

    def get_serializer_class(self):
        return WaterBodyDetailSerializer if self.action == "retrieve" else WaterBodySerializer


class SectionSerializer(serializers.ModelSerializer):
    water_body_name = serializers.CharField(source="water_body.name", read_only=True)
    county = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Section
        fields = [
            "id",
            "name",
            "level",
            "level_approximate",
            "water_body",
            "water_body_name",
            "county",
            "lon",
            "lat",
            "location_approximate",
            "chainage_km",
            "target_class",
        ]


class SectionViewSet(ScopedReadOnlyViewSet):
    queryset = Section.objects.all()
    filterset_class = SectionFilter
    serializer_class = SectionSerializer

    def base_queryset(self):
        return Section.objects.select_related("water_body", "county").defer(
            "water_body__geometry", "county__boundary"
        )


class ZoneSerializer(serializers.ModelSerializer):
    water_body_name = serializers.CharField(
        source="water_body.name", read_only=True, allow_null=True, default=None
    )
    below_target = serializers.BooleanField(read_only=True)

    class Meta:
        model = WaterFunctionZone
        fields = [
            "id",
            "name",
            "code",
            "kind",
            "water_body",
            "water_body_name",
            "start_km",
            "end_km",
            "geometry",
            "target_class",
            "assessed_class",
            "assessed_on",
            "below_target",
            "approximate",
            "source",
        ]
        extra_kwargs = {
            "code": {"validators": []}
        }  # unique when not empty: the model's check says so in Chinese

    def _save(self, zone, validated):
        for name, value in validated.items():
            setattr(zone, name, value)
        return services.save_zone(zone, user=self.context["request"].user)

    def create(self, validated):
        return self._save(WaterFunctionZone(), validated)

    def update(self, zone, validated):
        return self._save(zone, validated)


class ZoneViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Water-function zones (水功能区): shared reference data every signed-in user reads; the city bureau creates
    and changes them. Filters: q, kind, water_body, target_class, below_target."""

    serializer_class = ZoneSerializer
    filterset_class = ZoneFilter
    queryset = WaterFunctionZone.objects.all()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            WaterFunctionZone.objects.visible_to(self.request.user)
            .select_related("water_body")
            .defer("water_body__geometry")
            .order_by("water_body__name", "start_km", "name", "id")
        )
