from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from outfalls.remediation import rules
from outfalls.remediation.proposals import run_rules


class Command(BaseCommand):
    help = (
        "Run the rectification rules (整治规则) over the ledger, or one county of it, and refresh the measure "
        "proposals: pending ones are replaced, decided ones that still match are kept, changed ones superseded."
    )

    def add_arguments(self, parser):
        parser.add_argument("--county", help="county code (GB/T 2260), e.g. 140213; default: the whole city")

    def handle(self, *args, **options):
        try:
            run = run_rules(user=None, county=options["county"] or None)
        except ValidationError as error:
            raise CommandError("；".join(error.messages))
        where = run.county.name if run.county else "全市"
        self.stdout.write(f"整治规则（{where}）：检查排口 {run.outfalls_checked} 个")
        for name, count in run.hits.items():
            self.stdout.write(f"  {rules.rule_title(name)}（{name}）：{count}")
