"""Write the rectification progress notice (通报) as .docx: the same document the supervision page offers."""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from outfalls.remediation import notice


class Command(BaseCommand):
    help = "生成入河排污口整治进展通报（.docx），全市范围（以系统身份统计）。"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="通报日期（统计截至该日），YYYY-MM-DD，默认今天")
        parser.add_argument("--output", "-o", help="输出文件，默认 入河排污口整治进展通报-YYYYMMDD.docx")
        parser.add_argument(
            "--number", type=int, help="发文字号的序号（如 12 → 同环发〔2024〕12号），默认留空由文书填写"
        )

    def handle(self, *args, **options):
        today = timezone.localdate()
        if options["date"]:
            try:
                today = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(f"日期“{options['date']}”无法识别，请写作 YYYY-MM-DD。") from None
        path = Path(options["output"] or notice.filename(today))
        path.write_bytes(notice.build_notice(None, today, number=options["number"]))
        self.stdout.write(f"已生成通报：{path}")
