"""Cron text is parsed with an explanation of what is wrong; fire times follow the schedule's
time zone across daylight-saving changes (09:00 Berlin stays 09:00, a skipped 02:30 fires once
at 03:00, a repeated 02:30 once); intervals, start, end and jitter; `every` and `cron` in code."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.core import CronError, DefinitionError, ScheduleSpec, cron, definitions, every, workflow
from engine.core.cron import jitter_offset, next_fire_times, parse_cron, previous_fire_times
from engine.core.schedules import describe

BERLIN = ZoneInfo("Europe/Berlin")
TO = "\N{EN DASH}"  # messages write ranges with it: 0 (en dash) 59


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)  # type: ignore[misc]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("61 * * * *", f"minute field: 61 is out of range 0{TO}59"),
        ("0 24 * * *", f"hour field: 24 is out of range 0{TO}23"),
        ("0 0 0 * *", f"day-of-month field: 0 is out of range 1{TO}31"),
        ("0 0 * 13 *", f"month field: 13 is out of range 1{TO}12"),
        ("0 0 * * 8", f"day-of-week field: 8 is out of range 0{TO}7"),
        ("0 0 * foo *", f"month field: 'foo' is not a number or a name (jan{TO}dec)"),
        (
            "0 0 * * mon-funday",
            f"day-of-week field: 'funday' is not a number or a name (sun{TO}sat)",
        ),
        ("* * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 3"),
        ("0 0 * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 6"),
        ("*/0 * * * *", "minute field: the step in '*/0' is 0; use 1 or more"),
        ("*/ * * * *", "minute field: the step in '*/' is not a whole number"),
        ("30-10 * * * *", "minute field: the range 30-10 runs backwards; write 30-59,0-10"),
        ("0 0 1,,15 * *", "day-of-month field: an empty item in the list '1,,15'"),
        ("0 0 L * *", "day-of-month field: 'L' is not supported: use numbers, *, -, / and ,"),
        ("0 0 * * 5#2", "day-of-week field: '#' is not supported"),
        ("0 0 30 2 *", "day-of-month field: February never has day 30"),
        ("0 0 31 4,6 *", "April or June never has day 31, so the schedule would never fire"),
        ("@reboot", "unknown shortcut '@reboot'; use one of @yearly, @annually, @monthly"),
        ("", "the cron expression is empty"),
        ("   ", "the cron expression is empty"),
    ],
)
def test_a_bad_expression_is_explained(text: str, message: str) -> None:
    with pytest.raises(CronError) as raised:
        parse_cron(text)
    assert message in str(raised.value)


def test_the_error_names_its_field_for_forms() -> None:
    with pytest.raises(CronError) as raised:
        parse_cron("0 25 * * *")
    assert raised.value.field == "hour"
    assert isinstance(raised.value, DefinitionError)


@pytest.mark.parametrize(
    ("shortcut", "fields"),
    [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("@DAILY", "0 0 * * *"),
    ],
)
def test_shortcuts_expand_to_five_fields(shortcut: str, fields: str) -> None:
    assert parse_cron(shortcut).fields == fields


def test_names_steps_lists_and_sunday_as_seven() -> None:
    expression = parse_cron("*/20 8-10 1,15 JAN-mar sun,mon-sat")
    assert expression.minutes == (0, 20, 40)
    assert expression.hours == (8, 9, 10)
    assert expression.days == {1, 15}
    assert expression.months == {1, 2, 3}
    assert expression.weekdays == set(range(7))
    assert parse_cron("0 0 * * 7").weekdays == {0}
    assert parse_cron("5/20 * * * *").minutes == (5, 25, 45)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (cron("0 9 * * *"), "every day at 09:00"),
        (cron("0 9 * * 1-5"), "Monday to Friday at 09:00"),
        (cron("30 8 * * 1"), "every Monday at 08:30"),
        (cron("*/15 * * * *"), "every 15 minutes"),
        (cron("* * * * *"), "every minute"),
        (cron("@hourly"), "every hour at :00"),
        (cron("0 0 1 * *"), "on day 1 of the month at 00:00"),
        (cron("0 0 1 1 *"), "on day 1 of the month in January at 00:00"),
        (cron("0 9,17 * * *"), "every day at 09:00 and 17:00"),
        (cron("0,30 8-17 * * 1-5"), "cron 0,30 8-17 * * 1-5"),
        (every(15).minutes, "every 15 minutes"),
        (every(2).hours, "every 2 hours"),
        (every(90).seconds, "every 90 seconds"),
        (every(1).days, "every day"),
    ],
)
def test_schedules_are_described_in_words(spec: ScheduleSpec, words: str) -> None:
    assert describe(spec) == words


def test_nine_in_berlin_stays_nine_across_the_march_change() -> None:
    """On 29 March 2026 Berlin moves from UTC+1 to UTC+2: 09:00 local on both sides."""
    times = next_fire_times(cron("0 9 * * *", timezone="Europe/Berlin"), utc(2026, 3, 27, 12), 4)
    assert times == [berlin(2026, 3, day, 9) for day in (28, 29, 30, 31)]
    assert [time.astimezone(UTC).hour for time in times] == [8, 7, 7, 7]
    assert times[1].astimezone(UTC) - times[0].astimezone(UTC) == timedelta(hours=23)


def test_nine_in_berlin_stays_nine_across_the_october_change() -> None:
    """On 25 October 2026 Berlin moves back to UTC+1: still 09:00 local, 25 hours apart."""
    times = next_fire_times(cron("0 9 * * *", timezone="Europe/Berlin"), utc(2026, 10, 23, 12), 3)
    assert times == [berlin(2026, 10, 24, 9), berlin(2026, 10, 25, 9), berlin(2026, 10, 26, 9)]
    assert [time.astimezone(UTC).hour for time in times] == [7, 8, 8]
    assert times[1].astimezone(UTC) - times[0].astimezone(UTC) == timedelta(hours=25)


def test_a_skipped_half_past_two_fires_once_at_the_first_valid_moment() -> None:
    """02:30 does not exist on 29 March 2026 in Berlin: it fires once, at 03:00 CEST."""
    times = next_fire_times(cron("30 2 * * *", timezone="Europe/Berlin"), utc(2026, 3, 28, 12), 3)
    assert times == [
        berlin(2026, 3, 29, 3, 0),
        berlin(2026, 3, 30, 2, 30),
        berlin(2026, 3, 31, 2, 30),
    ]
    assert times[0].astimezone(UTC) == utc(2026, 3, 29, 1, 0)


def test_a_repeated_half_past_two_fires_once_on_its_first_pass() -> None:
    """02:30 happens twice on 25 October 2026 in Berlin: the fire comes once, at 02:30 CEST."""
    times = next_fire_times(cron("30 2 * * *", timezone="Europe/Berlin"), utc(2026, 10, 24, 12), 2)
    assert [time.astimezone(UTC) for time in times] == [
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
    ]


def test_every_half_hour_follows_the_clock_through_both_changes() -> None:
    """With the hour field `*`, the skipped hour has no fires and the repeated one has both."""
    spring = next_fire_times(cron("*/30 * * * *", timezone="Europe/Berlin"), utc(2026, 3, 29), 3)
    assert [time.astimezone(UTC) for time in spring] == [
        utc(2026, 3, 29, 0, 30),  # 01:30 CET
        utc(2026, 3, 29, 1, 0),  # 03:00 CEST: 02:00 and 02:30 never happened
        utc(2026, 3, 29, 1, 30),
    ]
    autumn = next_fire_times(cron("*/30 * * * *", timezone="Europe/Berlin"), utc(2026, 10, 25), 5)
    assert [time.astimezone(UTC) for time in autumn] == [
        utc(2026, 10, 25, 0, 30),  # 02:30 CEST
        utc(2026, 10, 25, 1, 0),  # 02:00 CET, the second pass
        utc(2026, 10, 25, 1, 30),  # 02:30 CET
        utc(2026, 10, 25, 2, 0),
        utc(2026, 10, 25, 2, 30),
    ]
    again = previous_fire_times(cron("*/30 * * * *", timezone="Europe/Berlin"), autumn[4], 5)
    assert again == list(reversed(autumn))


def test_previous_fire_times_are_newest_first_and_include_the_moment() -> None:
    spec = cron("0 9 * * *", timezone="Europe/Berlin")
    assert previous_fire_times(spec, berlin(2026, 3, 30, 9), 3) == [
        berlin(2026, 3, 30, 9),
        berlin(2026, 3, 29, 9),
        berlin(2026, 3, 28, 9),
    ]


def test_intervals_count_from_the_epoch_or_the_start() -> None:
    assert next_fire_times(every(15).minutes, utc(2026, 1, 1, 10, 7), 3) == [
        utc(2026, 1, 1, 10, 15),
        utc(2026, 1, 1, 10, 30),
        utc(2026, 1, 1, 10, 45),
    ]
    started = every(10).minutes.options(start=utc(2026, 1, 1, 10, 3))
    assert next_fire_times(started, utc(2026, 1, 1), 2) == [
        utc(2026, 1, 1, 10, 3),
        utc(2026, 1, 1, 10, 13),
    ]
    assert previous_fire_times(started, utc(2026, 1, 1, 10, 20), 5) == [
        utc(2026, 1, 1, 10, 13),
        utc(2026, 1, 1, 10, 3),
    ]


def test_interval_fires_keep_their_spacing_through_a_clock_change() -> None:
    times = next_fire_times(every(1).hours.options(timezone="Europe/Berlin"), utc(2026, 3, 29), 3)
    assert [time.astimezone(UTC) for time in times] == [utc(2026, 3, 29, h) for h in (1, 2, 3)]
    assert [time.hour for time in times] == [3, 4, 5]  # local 02:00 never happened


def test_start_and_end_bound_the_fires() -> None:
    spec = cron("0 9 * * *").options(start=utc(2026, 5, 1, 9), end=utc(2026, 5, 3, 9))
    assert next_fire_times(spec, utc(2026, 1, 1), 5) == [utc(2026, 5, d, 9) for d in (1, 2, 3)]
    assert next_fire_times(spec, utc(2026, 5, 3, 9), 5) == []
    assert previous_fire_times(spec, utc(2027, 1, 1), 5) == [utc(2026, 5, d, 9) for d in (3, 2, 1)]


def test_the_29th_of_february_is_found_years_ahead() -> None:
    assert next_fire_times(cron("0 0 29 2 *"), utc(2026, 1, 1), 2) == [
        utc(2028, 2, 29),
        utc(2032, 2, 29),
    ]


def test_both_day_fields_restricted_means_either_day() -> None:
    """Classic cron: day 1 of the month or any Monday."""
    times = next_fire_times(cron("0 0 1 * mon"), utc(2026, 6, 1, 12), 3)
    assert times == [utc(2026, 6, 8), utc(2026, 6, 15), utc(2026, 6, 22)]
    assert utc(2026, 7, 1) in next_fire_times(cron("0 0 1 * mon"), utc(2026, 6, 28), 2)


def test_jitter_is_the_same_everywhere_and_within_its_bound() -> None:
    nominal = utc(2026, 1, 1, 9)
    offsets = {jitter_offset("42", nominal + timedelta(days=n), 300) for n in range(50)}
    assert all(timedelta(0) <= offset <= timedelta(seconds=300) for offset in offsets)
    assert len(offsets) > 10
    assert jitter_offset("42", nominal, 300) == jitter_offset("42", nominal.astimezone(BERLIN), 300)
    assert jitter_offset("42", nominal, 0) == timedelta(0)


def test_every_reads_like_the_seed() -> None:
    assert every.day.at("09:00").cron == "0 9 * * *"
    assert every.hour.cron == "0 * * * *"
    assert every.hour.at(":30").cron == "30 * * * *"
    assert every.minute.cron == "* * * * *"
    assert every(15).minutes.interval_seconds == 900
    assert every.monday.at("08:30").cron == "30 8 * * 1"
    assert every.weekday.at("7:05").cron == "5 7 * * 1-5"
    berlin_daily = every.day.at("09:00", timezone="Europe/Berlin")
    assert (berlin_daily.cron, berlin_daily.timezone) == ("0 9 * * *", "Europe/Berlin")
    spec = cron("0 9 * * 1-5", timezone="Europe/Berlin", input={"x": 1}, jitter=60, paused=True)
    assert (spec.input, spec.jitter_seconds, spec.paused) == ({"x": 1}, 60, True)
    assert every.hour.options(overlap="cancel_previous", catch_up="skip").overlap == (
        "cancel_previous"
    )


@pytest.mark.parametrize(
    ("declare", "message"),
    [
        (lambda: cron("61 * * * *"), "minute field: 61 is out of range"),
        (lambda: cron("0 9 * * *", timezone="Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        (lambda: every(0).minutes, "every(n) takes a whole number, 1 or more"),
        (lambda: every.day.at("25:00"), f"the hour is 00{TO}23"),
        (lambda: every.day.at("9"), "write the time as HH:MM"),
        (lambda: every.day.at(":30"), "':MM' is for every.hour"),
        (lambda: every.hour.at("09:00"), "for an hourly schedule write ':MM'"),
        (lambda: every(5).minutes.at("09:00"), "at() is for every.day"),
        (lambda: every.hour.options(overlap="queue"), "overlap is one of skip, buffer_one"),
        (lambda: every.hour.options(catch_up="all"), "catch_up is one of skip, run_once"),
        (lambda: every.hour.options(input={1, 2}), "input must be JSON"),
        (lambda: every.hour.options(start=datetime(2026, 1, 1)), "is an aware datetime"),  # noqa: DTZ001
        (
            lambda: every.hour.options(start=utc(2026, 2, 1), end=utc(2026, 1, 1)),
            "end comes after its start",
        ),
        (lambda: ScheduleSpec(), "either a cron expression or an interval"),
    ],
)
def test_a_bad_declaration_fails_when_declared(declare: object, message: str) -> None:
    with pytest.raises(DefinitionError) as raised:
        declare()  # type: ignore[operator]
    assert message in str(raised.value)


def test_a_workflow_carries_its_schedules(monkeypatch: pytest.MonkeyPatch) -> None:
    # Declared for this test only: later syncs must not meet them.
    monkeypatch.setattr(definitions, "_workflows", dict(definitions._workflows))

    @workflow("test-scheduled-declaration", schedule=every.day.at("09:00"))
    def declared(input: object) -> None: ...

    assert declared.schedules == (every.day.at("09:00"),)

    @workflow("test-scheduled-twice", schedule=[every.hour, cron("@daily")])
    def twice(input: object) -> None: ...

    assert [spec.cron for spec in twice.schedules] == ["0 * * * *", "@daily"]
    with pytest.raises(DefinitionError, match=r"write schedule=cron\('0 9 \* \* \*'\)"):
        workflow("test-scheduled-text", schedule="0 9 * * *")  # type: ignore[arg-type]
