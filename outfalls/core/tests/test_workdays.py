"""Chinese working days for legal time limits (core/workdays.py), across the Spring Festival."""

from datetime import date

from outfalls.core.workdays import add_working_days, covered, is_working_day, working_days_between


def test_the_2024_spring_festival_and_its_make_up_sundays():
    # 2024: 2月10日至17日放假调休，2月4日（星期日）、2月18日（星期日）上班.
    assert is_working_day(date(2024, 2, 4))  # a Sunday worked
    assert not is_working_day(date(2024, 2, 12))  # a Monday off
    assert is_working_day(date(2024, 2, 18))  # a Sunday worked
    # Accepted on Thursday 8 Feb: Fri 9, Sun 18, Mon 19, Tue 20, Wed 21 are the five working days.
    assert add_working_days(date(2024, 2, 8), 5) == date(2024, 2, 21)
    # 20 working days (the default time limit) from 1 Feb 2024 end on 5 March, not 29 Feb as weekdays would.
    assert add_working_days(date(2024, 2, 1), 20) == date(2024, 3, 5)


def test_the_2025_and_2026_spring_festivals():
    # 2025: 1月28日至2月4日放假，1月26日（星期日）、2月8日（星期六）上班.
    assert add_working_days(date(2025, 1, 24), 3) == date(2025, 2, 5)  # Sun 26, Mon 27, then Wed 5 Feb
    assert is_working_day(date(2025, 2, 8))
    # 2026: 2月15日至23日放假，2月14日（星期六）、2月28日（星期六）上班.
    assert add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert not is_working_day(date(2026, 2, 23))


def test_working_days_between_counts_both_ways():
    assert working_days_between(date(2024, 2, 8), date(2024, 2, 21)) == 5
    assert working_days_between(date(2024, 2, 21), date(2024, 2, 8)) == -5
    assert working_days_between(date(2024, 2, 10), date(2024, 2, 17)) == 0  # the whole holiday
    assert working_days_between(date(2024, 3, 1), date(2024, 3, 1)) == 0
    start = date(2024, 1, 2)
    for days in (1, 7, 20, 60):
        assert working_days_between(start, add_working_days(start, days)) == days


def test_a_year_the_calendar_does_not_cover_counts_weekdays():
    assert covered(date(2024, 6, 1))
    assert not covered(date(2099, 6, 1))
    assert is_working_day(date(2099, 6, 1)) is True  # a Monday
    assert is_working_day(date(2099, 6, 6)) is False  # a Saturday
    assert add_working_days(date(2099, 6, 5), 1) == date(2099, 6, 8)
