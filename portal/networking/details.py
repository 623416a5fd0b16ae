"""Quantities, seasons and prices of offers and needs: in words, and where two agree.

"60 head of pigs in March" and "2 t of feed a month" are an entry's ``EntryDetails``.
An offer and a need of the same tag *agree* on the season when their months overlap,
and on the quantity when they count in the same unit, both per month or both not, and
the offer covers the need. Matches that agree rank higher, and say why in words.
"""

from decimal import Decimal

from babel.dates import get_month_names
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from portal.networking.models import EntryDetails, month_list


def _locale() -> str:
    return "en" if str(get_locale()).startswith("en") else "zh"


def _number(value: Decimal) -> str:
    return format_decimal(value.normalize() if value == value.to_integral() else value)


def season_text(bits: int) -> str:
    """The months of a bit set in the reader's language: "3月、4月" / "Mar, Apr"."""
    names = get_month_names("abbreviated", locale="en" if _locale() == "en" else "zh_Hans_CN")
    separator = ", " if _locale() == "en" else "、"
    return separator.join(names[month] for month in month_list(bits))


def quantity_text(details: EntryDetails) -> str:
    """ "60 head" or "2 t a month"."""
    amount = {"quantity": _number(details.quantity), "unit": details.unit}
    if details.per_month:
        return _("%(quantity)s %(unit)s a month", **amount)
    return _("%(quantity)s %(unit)s", **amount)


def describe(details: EntryDetails) -> str:
    """The details in words, or "" when there are none: "60 head · Mar · ¥1,800 per head"."""
    parts = []
    if details.quantity is not None:
        parts.append(quantity_text(details))
    if details.months:
        parts.append(season_text(details.months))
    if details.price is not None:
        parts.append(_("¥%(price)s per %(unit)s", price=_number(details.price), unit=details.unit))
    return " · ".join(parts)


def agreements(offer: EntryDetails, need: EntryDetails) -> list[str]:
    """Where an offer and a need of the same tag agree, each in words (may be empty)."""
    found = []
    if offer.months and need.months and offer.months & need.months:
        found.append(_("both in %(months)s", months=season_text(offer.months & need.months)))
    if (
        offer.quantity is not None
        and need.quantity is not None
        and offer.unit.strip().casefold() == need.unit.strip().casefold()
        and offer.per_month == need.per_month
        and offer.quantity >= need.quantity
    ):
        found.append(
            _(
                "%(offer)s offered cover the %(need)s needed",
                offer=quantity_text(offer),
                need=quantity_text(need),
            )
        )
    return found
