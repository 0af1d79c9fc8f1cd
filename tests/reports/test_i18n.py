"""Every label in every language, and locale formats from Babel."""

from __future__ import annotations

import string
from datetime import date
from decimal import Decimal

import pytest

from ledger.errors import ConfigError
from reports.i18n import LANGS, Locale, messages


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != "en"])
def test_every_key_is_translated_with_the_same_placeholders(lang: str) -> None:
    english, other = messages("en"), messages(lang)
    assert set(other) == set(english)
    for key, text in english.items():
        assert _fields(other[key]) == _fields(text), key
    same = [k for k, v in english.items() if other[k] == v and not k.startswith("term.") and "robots" not in v]
    assert len(same) <= 3, same  # names such as "URL" may stay; sentences may not


@pytest.mark.parametrize(
    ("lang", "number", "share", "money", "day"),
    [
        ("en", "1,234,567", "12.3%", "KZT1,234.50", "Oct 5, 2026"),
        ("ru", "1\xa0234\xa0567", "12,3%", "1\xa0234,50\xa0KZT", "5 окт. 2026\u202fг."),
        ("kk", "1\xa0234\xa0567", "12,3%", "1\xa0234,50\xa0₸", "2026\u202fж. 05 қаз."),
    ],
)
def test_locale_formats(lang: str, number: str, share: str, money: str, day: str) -> None:
    loc = Locale(lang)
    assert loc.integer(1234567) == number
    assert loc.percent(Decimal("0.1234")) == share
    assert loc.money(Decimal("1234.5"), "KZT") == money
    assert loc.date(date(2026, 10, 5)) == day


def test_terms_translate_vocabulary_and_keep_names() -> None:
    assert Locale("ru").term("training") == "обучение"
    assert Locale("kk").term("spoofed") == "жалған"
    assert Locale("ru").term("OpenAI") == "OpenAI"


def test_unknown_language_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown language 'de'"):
        Locale("de")
