"""Create the monthly partitions of the value tables for the coming months (PostgreSQL; nothing on SQLite).
Run monthly from a timer (docs/deploy.md); writers also create a missing month themselves."""

from django.core.management.base import BaseCommand
from django.db import connection

from outfalls.monitoring import partitions


class Command(BaseCommand):
    help = "为监测数值表创建今后若干个月的月分区（仅 PostgreSQL）。"

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=12, help="向后创建的月数，默认 12")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("SQLite 不分区，无需创建。")
            return
        created = partitions.ensure_ahead(max(options["months"], 1))
        self.stdout.write(
            f"新建分区 {len(created)} 个。" + ("" if not created else "：" + "、".join(created))
        )
