import datetime as dt

from bot.event_query import Window, city_lexicon, parse_event_query, window_of

TODAY = dt.date(2026, 3, 4)  # a Wednesday
CITIES = ["Helsinki", "Zagreb", "Banská Bystrica"]


def test_city_period_and_language_in_one_question() -> None:
    query = parse_event_query("events in Zagreb next month in English", "en", CITIES, TODAY)
    assert query.city == "Zagreb"
    assert query.window == Window(dt.date(2026, 4, 1), dt.date(2026, 4, 30))
    assert query.language == "en"


def test_inflected_city_and_month_in_croatian() -> None:
    query = parse_event_query("događanja u Zagrebu u listopadu", "hr", CITIES, TODAY)
    assert query.city == "Zagreb"
    assert query.window == Window(dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def test_month_words_are_read_in_the_users_language() -> None:
    # "listopad" is November in Polish, October in Croatian.
    polish = parse_event_query("wydarzenia w listopadzie", "pl", CITIES, TODAY)
    assert polish.window == Window(dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def test_english_may_is_a_month_only_next_to_in() -> None:
    assert parse_event_query("may I see the events?", "en", CITIES, TODAY).window is None
    assert parse_event_query("events in May", "en", CITIES, TODAY).window == Window(
        dt.date(2026, 5, 1), dt.date(2026, 5, 31)
    )


def test_a_past_month_means_next_year() -> None:
    assert window_of("01", TODAY) == Window(dt.date(2027, 1, 1), dt.date(2027, 1, 31))


def test_weeks() -> None:
    assert window_of("this_week", TODAY) == Window(TODAY, dt.date(2026, 3, 8))
    assert window_of("next_week", TODAY) == Window(dt.date(2026, 3, 9), dt.date(2026, 3, 15))


def test_multi_word_city() -> None:
    assert city_lexicon(CITIES).find("podujatia v Banskej Bystrici") is None
    assert city_lexicon(CITIES).find("events in Banská Bystrica") == "Banská Bystrica"


def test_no_filters_in_a_plain_question_or_a_payload() -> None:
    assert not parse_event_query("upcoming events", "en", CITIES, TODAY).is_filtered
    assert not parse_event_query("/ask_events", "en", CITIES, TODAY).is_filtered


def test_calendar_links_use_the_gateways_city_slugs() -> None:
    from bot.participation_access import calendar_url, city_slug

    assert city_slug("Reykjavík") == "reykjavik"
    assert city_slug("Banská Bystrica") == "banska-bystrica"
    assert calendar_url("Reykjavík").endswith("/calendar/reykjavik.ics")
