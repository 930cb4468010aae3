"""Write the monthly exceedance notice (超标通报) as .docx: the same document the notice page makes."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from outfalls.monitoring import notice


class Command(BaseCommand):
    help = "生成入河排污口超标排放情况通报（.docx），全市范围。"

    def add_arguments(self, parser):
        parser.add_argument("--month", help="通报月份 YYYY-MM，默认上月")
        parser.add_argument(
            "--output", "-o", help="输出文件，默认 入河排污口超标排放情况通报-YYYY年MM月.docx"
        )
        parser.add_argument(
            "--number", type=int, help="发文字号的序号（如 12 → 同环发〔2024〕12号），默认留空由文书填写"
        )

    def handle(self, *args, **options):
        today = timezone.localdate()
        if options["month"]:
            try:
                year, month = notice.parse_month(options["month"])
            except ValueError as error:
                raise CommandError(str(error)) from None
        else:
            year, month = notice.previous_month(today.year, today.month)
        path = Path(options["output"] or notice.filename(year, month))
        path.write_bytes(notice.build_notice(None, year, month, today=today, number=options["number"]))
        self.stdout.write(f"已生成通报：{path}")
