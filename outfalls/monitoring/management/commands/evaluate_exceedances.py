"""Judge every (or some) outfall's values against their limits, and look for dry-weather flow at storm outfalls."""

from django.core.management.base import BaseCommand, CommandError

from outfalls.monitoring import dry_weather, exceedances
from outfalls.registry.models import Outfall


class Command(BaseCommand):
    help = "判定超标、持续超标、无法判定与缺测，并检查城镇雨洪排口旱天排水（可定时运行，如每晚）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--outfall", action="append", default=[], help="排污口编码（可多次给出），默认全部"
        )

    def handle(self, *args, **options):
        ids = None
        if options["outfall"]:
            found = dict(Outfall.objects.filter(code__in=options["outfall"]).values_list("code", "pk"))
            missing = sorted(set(options["outfall"]) - set(found))
            if missing:
                raise CommandError(f"没有这些排污口编码：{'、'.join(missing)}")
            ids = list(found.values())
        summary = exceedances.evaluate(ids)
        events = dry_weather.scan(ids)
        self.stdout.write(
            f"{summary.text()} 移除不再成立的 {summary.removed} 项；新发现旱天排水 {len(events)} 起。"
        )
