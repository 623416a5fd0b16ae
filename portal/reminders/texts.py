"""What a reminder to staff says, in the reader's language: on the portal's pages (the
reader's language when shown) and by SMS (the recipient's language when queued)."""

from datetime import date

from flask_babel import gettext, ngettext

from portal.core.i18n import date_text, list_separator

MORNING = "visits.morning"
WARNING_HEAD = "warning.head"
WARNING_ADMIN = "warning.admin"
# One text for several warnings escalated to one person in one run (a backlog, a busy
# week): their reminders stay one per warning in the portal.
WARNINGS_HEAD = "warnings.head"
WARNINGS_ADMIN = "warnings.admin"
KINDS = (MORNING, WARNING_HEAD, WARNING_ADMIN, WARNINGS_HEAD, WARNINGS_ADMIN)
DIGESTS = {WARNING_HEAD: WARNINGS_HEAD, WARNING_ADMIN: WARNINGS_ADMIN}


def _day(value: str) -> str:
    return date_text(date.fromisoformat(value)) if value else ""


def _morning(params: dict) -> str:
    parts = []
    if params["overdue"]:
        parts.append(
            ngettext(
                "%(num)d borrower overdue from last month",
                "%(num)d borrowers overdue from last month",
                params["overdue"],
            )
        )
    if params["due"]:
        parts.append(
            ngettext(
                "%(num)d borrower still to visit this month",
                "%(num)d borrowers still to visit this month",
                params["due"],
            )
        )
    parts.append(ngettext("%(num)d day left", "%(num)d days left", params["days_left"]))
    return gettext(
        "Visits on %(date)s: %(parts)s.",
        date=_day(params["day"]),
        parts=list_separator().join(parts),
    )


def _warning_head(params: dict) -> str:
    return gettext(
        "A red warning is past its deadline: %(borrower)s, visit of %(date)s by %(officer)s, "
        "was to be acted on by %(deadline)s. Unless the action is recorded, the admin is "
        "alerted on %(admin_date)s.",
        borrower=params["borrower"],
        date=_day(params["visited_on"]),
        officer=params["officer"],
        deadline=_day(params["deadline"]),
        admin_date=_day(params["admin_day"]),
    )


def _warning_admin(params: dict) -> str:
    return gettext(
        "A red warning of %(branch)s is still open: %(borrower)s, visit of %(date)s by "
        "%(officer)s, was to be acted on by %(deadline)s.",
        branch=params["branch"],
        borrower=params["borrower"],
        date=_day(params["visited_on"]),
        officer=params["officer"],
        deadline=_day(params["deadline"]),
    )


def _warnings(params: dict) -> str:
    return ngettext(
        "%(num)d red warning is past its deadline and waits for the action taken.",
        "%(num)d red warnings are past their deadline and wait for the action taken.",
        int(params["count"]),
    )


RENDERERS = {
    MORNING: _morning,
    WARNING_HEAD: _warning_head,
    WARNING_ADMIN: _warning_admin,
    WARNINGS_HEAD: _warnings,
    WARNINGS_ADMIN: _warnings,
}


def text(kind: str, params: dict) -> str:
    """The reminder in the current language."""
    return RENDERERS[kind](params)


# What a provider's approved template of each kind may use (docs/sms.md), beside the
# wording above: plain values, dates written in the recipient's language.
SMS_VALUES = {
    MORNING: ("name", "date", "overdue", "due", "days_left", "link"),
    WARNING_HEAD: ("name", "borrower", "date", "officer", "deadline", "admin_date", "link"),
    WARNING_ADMIN: ("name", "branch", "borrower", "date", "officer", "deadline", "link"),
    WARNINGS_HEAD: ("name", "count", "link"),
    WARNINGS_ADMIN: ("name", "count", "link"),
}


def sms_values(kind: str, params: dict, name: str, link: str) -> dict[str, str]:
    """The values of a reminder's text, in the current language."""
    day = params.get("day") or params.get("visited_on")
    values = {
        "name": name,
        "link": link,
        "date": _day(day),
        "deadline": _day(params.get("deadline", "")),
        "admin_date": _day(params.get("admin_day", "")),
        **{
            key: str(params[key])
            for key in ("overdue", "due", "days_left", "count")
            if key in params
        },
        **{key: str(params[key]) for key in ("borrower", "officer", "branch") if key in params},
    }
    return {key: values[key] for key in SMS_VALUES[kind]}


def sms_text(kind: str, params: dict, name: str, link: str) -> str:
    """The reminder as texted: addressed by name, with the page to open when there is one."""
    body = gettext("%(name)s: %(text)s", name=name, text=text(kind, params))
    return f"{body} {link}" if link else body
