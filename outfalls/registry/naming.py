"""Outfall names after HJ 1235-2021.

name = administrative place names (city, county, town, village) + a landmark or the discharging unit's
name + an optional number + the type name, e.g. 宜昌市长阳土家族自治县高家堰镇高家堰村白果坪3#城镇雨洪排口.
"""

from .classification import type_name


def place_names(county, town=None, village=None):
    names = []
    if county is not None:
        city = county.parent
        if city is not None:
            names.append(city.name)
        names.append(county.name)
    for node in (town, village):
        if node is not None:
            names.append(node.name)
    return names


def outfall_name(
    *, county, town=None, village=None, landmark="", number="", type_code="", level2="", level3=""
):
    places = place_names(county, town, village)
    landmark = (landmark or "").strip()
    # Do not repeat a place name the landmark already starts with (e.g. a unit named after its town).
    while places and landmark.startswith(places[-1]):
        landmark = landmark[len(places[-1]) :]
    suffix = f"{number}#" if number not in ("", None) else ""
    return "".join(places) + landmark + suffix + type_name(type_code, level2, level3)
