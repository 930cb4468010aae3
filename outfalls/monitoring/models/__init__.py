from .draws import Draw, DrawItem, InspectorExclusion
from .findings import DryWeatherEvent, Finding
from .loads import OutfallLoad
from .online import GRAIN_MODELS, DayValue, HourValue, MinuteValue, RejectedPackets
from .samples import Rainfall, Sample, SampleImport, SampleValue, Station
from .standards import LibraryLoad, OutfallStandard, Parameter, Standard, StandardLimit, StandardRule

__all__ = [
    "GRAIN_MODELS",
    "DayValue",
    "Draw",
    "DrawItem",
    "DryWeatherEvent",
    "Finding",
    "HourValue",
    "InspectorExclusion",
    "LibraryLoad",
    "MinuteValue",
    "OutfallLoad",
    "OutfallStandard",
    "Parameter",
    "Rainfall",
    "RejectedPackets",
    "Sample",
    "SampleImport",
    "SampleValue",
    "Standard",
    "StandardLimit",
    "StandardRule",
    "Station",
]
