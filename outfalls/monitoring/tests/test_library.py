"""The standards library: loaded as data from data/standards.json, figures as STANDARDS.md gives them, uncertain
entries marked, a second load changes nothing and a corrected value keeps its history."""

import json

import pytest

from outfalls.monitoring import library
from outfalls.monitoring.models import LibraryLoad, Parameter, Standard, StandardLimit, StandardRule


def limit(code, grade, parameter, condition=""):
    return StandardLimit.objects.get(
        standard__code=code, grade=grade, parameter__code=parameter, condition=condition
    )


def test_the_library_holds_the_standards_figures(db):
    assert {s.code for s in Standard.objects.all()} == {
        "GB 18918-2002",
        "GB 8978-1996",
        "GB 3838-2002",
        "DB14/1928-2019",
    }
    one_a = limit("GB 18918-2002", "1A", "COD")
    assert (one_a.kind, one_a.upper, one_a.unit) == ("daily_mean", 50, "mg/L")
    assert limit("GB 18918-2002", "1B", "NH3N").upper == 8
    assert limit("GB 18918-2002", "1B", "NH3N", "cold").upper == 15
    assert limit("GB 18918-2002", "2", "TP").upper == 3
    ph = limit("GB 18918-2002", "3", "pH")
    assert (ph.kind, ph.lower, ph.upper) == ("range", 6, 9)
    assert not StandardLimit.objects.filter(
        standard__code="GB 18918-2002", grade="2", parameter__code="TN"
    ).exists()
    assert limit("GB 8978-1996", "2", "SS").upper == 150
    assert limit("GB 8978-1996", "1", "COD").kind == "max"
    do = limit("GB 3838-2002", "III", "DO")
    assert (do.kind, do.lower, do.upper) == ("min", 5, None)
    assert limit("GB 3838-2002", "IV", "NH3N").upper == 1.5
    assert limit("GB 3838-2002", "II", "TP").upper == 0.1
    assert limit("GB 3838-2002", "II", "TP", "lake").upper == 0.025
    assert limit("GB 3838-2002", "V", "TN", "lake").upper == 2.0


def test_uncertain_entries_are_marked(db):
    db14 = Standard.objects.get(code="DB14/1928-2019")
    assert db14.uncertain and not db14.limits.exists() and "待核实" in db14.note
    assert limit("GB 3838-2002", "II", "TP", "lake").uncertain
    assert not limit("GB 18918-2002", "1A", "COD").uncertain
    assert StandardRule.objects.get(order=1).uncertain  # the municipal plants' 一级A for Datong


def test_a_second_load_changes_nothing(db):
    loads = LibraryLoad.objects.count()
    history = StandardLimit.history.count()
    assert library.load_library() is None
    assert (LibraryLoad.objects.count(), StandardLimit.history.count()) == (loads, history)


def test_a_corrected_value_is_a_data_change_with_history(db, tmp_path):
    data = json.loads(library.LIBRARY_FILE.read_text(encoding="utf-8"))
    data["version"] = "test-correction"
    gb8978 = next(s for s in data["standards"] if s["code"] == "GB 8978-1996")
    ss = next(entry for entry in gb8978["limits"] if entry[0] == "SS")
    ss[2] = [["1", 60], ["2", 150], ["3", 400]]
    path = tmp_path / "standards.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    load = library.load_library(path)
    assert load.version == "test-correction" and load.changes == {"限值修改": 1}
    changed = limit("GB 8978-1996", "1", "SS")
    assert changed.upper == 60
    assert [h.upper for h in changed.history.order_by("history_date")] == [70, 60]
    library.load_library()  # back to the file
    assert limit("GB 8978-1996", "1", "SS").upper == 70


def test_parameters_carry_hj212_codes(db):
    codes = dict(Parameter.objects.values_list("code", "hj212_code"))
    assert codes["COD"] == "w01018" and codes["NH3N"] == "w21003" and codes["FLOW"] == "w00000"


@pytest.mark.parametrize("code", ["GB 18918-2002", "GB 8978-1996", "GB 3838-2002"])
def test_every_grade_of_a_standard_has_ph(db, code):
    standard = Standard.objects.get(code=code)
    for grade, _ in standard.grades:
        assert limit(code, grade, "pH").kind == "range"
