"""Chinese working days (工作日) for legal time limits: weekends and public holidays off, and the weekend days
made working days (调休) on. The calendar is the chinesecalendar package (maintained, updated each year when
the State Council publishes the next year's holidays), not a list kept here.

A date in a year the package does not cover yet (the State Council publishes each year's holidays in the
autumn before) counts as a working day from Monday to Friday; ``covered(day)`` says whether a date is known,
so a page can say a countdown that reaches into such a year is provisional.
"""

from datetime import timedelta

import chinese_calendar


def covered(day):
    """True when the holiday calendar knows this date's year."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def is_working_day(day):
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start, count):
    """The date `count` working days after `start` (start itself not counted): a time limit of 20 working days
    from an acceptance on `start` ends on add_working_days(start, 20). count 0 gives start."""
    day, left = start, count
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def working_days_between(start, end):
    """Working days after `start` up to and including `end`; negative (the same count backwards) when end is
    before start: how many are left from today to a due date, or by how many a due date was missed."""
    if end < start:
        return -working_days_between(end, start)
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
