"""Export outfalls as GeoJSON, GeoPackage, zipped Shapefile or KML (the same as /gis/export/)."""

from pathlib import Path
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from outfalls.core.choices import Role
from outfalls.core.scopes import Grant, Scope
from outfalls.core.views import apply_filter
from outfalls.geo import gisio
from outfalls.maps import gis_features
from outfalls.registry.filters import OutfallFilter
from outfalls.registry.models import Outfall

SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".zip": "shp", ".kml": "kml"}
# The system, for the filter's place choices: the whole city.
SYSTEM = SimpleNamespace(
    is_authenticated=True,
    is_active=True,
    _outfalls_scope=Scope(authenticated=True, grants=(Grant(role=Role.CITY_ADMIN),)),
)


class Command(BaseCommand):
    help = (
        "Export outfalls to OUTPUT (.geojson, .gpkg, .zip for a Shapefile, .kml). --filter takes the ledger "
        "page's query string (county=140213&type_code=YH). Default: every outfall with every field; --user "
        "limits to a user's scope; --public gives what anonymous OGC API clients see."
    )

    def add_arguments(self, parser):
        parser.add_argument("output")
        parser.add_argument("--format", choices=list(gisio.FORMATS), help="default: from the file suffix")
        parser.add_argument("--filter", default="", help="ledger filter as a query string")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--user", help="export what this user may see")
        group.add_argument("--public", action="store_true", help="only disclosed outfalls, public fields")

    def handle(self, *args, **options):
        output = Path(options["output"])
        fmt = options["format"] or SUFFIXES.get(output.suffix.lower())
        if fmt is None:
            raise CommandError(f"无法从文件名判断格式：{output.name}，请用 --format 指定。")
        if options["user"]:
            try:
                user = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"用户不存在：{options['user']}")
            queryset, fields = gis_features.outfalls_for(user)
        elif options["public"]:
            user = None
            queryset, fields = gis_features.outfalls_for(None)
        else:
            user = SYSTEM
            queryset, fields = Outfall.objects.for_list(), gis_features.OUTFALL_FIELDS
        request = SimpleNamespace(user=user or SYSTEM, GET=QueryDict(options["filter"]))
        filterset, queryset = apply_filter(OutfallFilter, request, queryset)
        if filterset.is_bound and not filterset.is_valid():
            problems = "；".join(f"{k}：{'，'.join(v)}" for k, v in filterset.errors.items())
            raise CommandError(f"筛选条件不正确：{problems}")
        try:
            count = gis_features.write_outfalls(queryset, fields, output, fmt)
        except gisio.GisError as error:
            raise CommandError(error.message)
        self.stdout.write(
            self.style.SUCCESS(f"已导出 {count} 个入河排污口到 {output}（{gisio.FORMATS[fmt][3]}）。")
        )
