"""Write the exchange file for the provincial and national platforms (reports/exchange.py).

    python manage.py exchange_export [--format xlsx|json] [--county CODE] [--since DATE] [--until DATE] [--out DIR]

Everything the platform holds (the command runs as the system), or one county's. The monitoring section covers
--since to --until (default: the year before today). Prints the file's path and the rows per section.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from outfalls.registry.ledger_export import parse_as_of

from ... import exchange


class Command(BaseCommand):
    help = "导出省级/国家平台交换文件（.xlsx 或 .json）。Write the provincial/national exchange file."

    def add_arguments(self, parser):
        parser.add_argument("--format", dest="kind", choices=("xlsx", "json"), default="xlsx")
        parser.add_argument("--county", help="县区区划代码，如 140213；不填为全市")
        parser.add_argument("--since", help="监测数据自 YYYY-MM-DD")
        parser.add_argument("--until", help="监测数据至 YYYY-MM-DD")
        parser.add_argument("--out", default=".", help="输出目录 (output folder)")

    def _day(self, value, name):
        day, error = parse_as_of(value)
        if error:
            raise CommandError(f"{name}：{error}")
        return day

    def handle(self, *args, kind="xlsx", county=None, since=None, until=None, out=".", **options):
        folder = Path(out)
        if not folder.is_dir():
            raise CommandError(f"输出目录不存在：{out}")
        place = None
        if county:
            place = exchange.counties_for(None).filter(code=county).first()
            if place is None:
                raise CommandError(f"找不到区划代码为 {county} 的县区。")
        since, until = self._day(since, "--since"), self._day(until, "--until")
        if since and until and since > until:
            raise CommandError("--until 不能早于 --since。")
        today = timezone.localdate()
        period = exchange.Period.of(since, until, today=today)
        if (period.until - period.since).days > exchange.MAX_PERIOD_DAYS:
            raise CommandError(f"监测数据一次最多导出 {exchange.MAX_PERIOD_DAYS} 天。")
        path = folder / exchange.filename(kind, county=place, today=today)
        options = {"county": place, "period": period, "today": today}
        with path.open("wb") as handle:
            (exchange.write_json if kind == "json" else exchange.write_xlsx)(handle, **options)
        self.stdout.write(f"{path}\n")
        for section in exchange.structure().sections:
            rows = exchange.section_rows(section, county=place, period=period).count()
            self.stdout.write(f"  {section.name}：{rows} 行\n")
