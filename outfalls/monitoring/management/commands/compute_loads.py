"""Compute the pollutant loads of a year for every discharging outfall (monitoring/loads.py)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from outfalls.monitoring import loads


class Command(BaseCommand):
    help = "计算各入河排污口某年度的污染物负荷（实测或按类型估算，估算值标注）。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="年度，默认今年")

    def handle(self, *args, **options):
        year = options["year"] or timezone.localdate().year
        if not 1990 <= year <= 2100:
            raise CommandError("年度应在 1990–2100 之间。")
        written = loads.compute(year)
        self.stdout.write(f"已计算 {year} 年负荷 {written} 条。")
