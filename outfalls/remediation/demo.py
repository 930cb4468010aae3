"""Demo data for 整治销号, loaded by manage.py load_demo after the ledger (registry.demo) and survey: sewer
coverage areas and rule proposals (demo_rules), then plans, progress and close-outs (demo_plans).
Deterministic and idempotent."""

from .demo_plans import load_demo as load_plans_demo
from .demo_rules import load_demo as load_rules_demo


def load_demo(stdout):
    load_rules_demo(stdout)
    load_plans_demo(stdout)
