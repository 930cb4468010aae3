"""Demo data for 排查溯源, loaded by manage.py load_demo after the ledger (registry.demo): campaigns, points and
field checks (demo_field), then tracing cases (demo_tracing). Deterministic and idempotent."""

from .demo_field import load_demo as load_field_demo
from .demo_tracing import load_demo as load_tracing_demo


def load_demo(stdout):
    load_field_demo(stdout)
    load_tracing_demo(stdout)
