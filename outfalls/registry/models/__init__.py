"""Registry models, one module per concern, all importable from here."""

from .imports import LedgerImport, LedgerImportQuerySet, LedgerImportRow
from .ledger import (
    DischargeUnit,
    DischargeUnitQuerySet,
    Outfall,
    OutfallQuerySet,
    OutfallUnitLink,
    ReferenceQuerySet,
    Section,
    WaterBody,
    check_place,
    outfall_scope_q,
    restricted_basin_of,
    restricted_basins,
)
from .search import OutfallSearch
from .spatial import ProtectedArea, SewerCoverageArea, SpatialFinding, SpatialFindingQuerySet
from .zones import WaterFunctionZone, WaterWorks

__all__ = [
    "DischargeUnit",
    "DischargeUnitQuerySet",
    "LedgerImport",
    "LedgerImportQuerySet",
    "LedgerImportRow",
    "Outfall",
    "OutfallQuerySet",
    "OutfallSearch",
    "OutfallUnitLink",
    "ProtectedArea",
    "ReferenceQuerySet",
    "Section",
    "SewerCoverageArea",
    "SpatialFinding",
    "SpatialFindingQuerySet",
    "WaterBody",
    "WaterFunctionZone",
    "WaterWorks",
    "check_place",
    "outfall_scope_q",
    "restricted_basin_of",
    "restricted_basins",
]
