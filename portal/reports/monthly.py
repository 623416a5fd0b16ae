"""The monthly branch report as plain data: compliance, risk, warnings, services, complaints,
loans and the portfolio's quality.

Compliance comes from the visits feature's rule (``portal.visits.compliance``), the
portfolio's quality from ``portal.portfolio.quality``, what became of the warnings from
``portal.reports.warnings``; the rest are the aggregates of ``portal.reports.queries``.
A fixed number of queries whatever the size of the branch.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby
from typing import ClassVar

from flask_babel import gettext as _
from markupsafe import Markup

from portal.branches.models import Branch
from portal.complaints.models import (
    CATEGORY_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    ComplaintStatus,
)
from portal.core.calendar import Month, current_month, local_today
from portal.core.i18n import list_separator
from portal.database import utcnow
from portal.extensions import db
from portal.portfolio.quality import Quality, quality, quality_by_officer
from portal.reports import charts, queries, warnings
from portal.reports.data import (
    FileName,
    Line,
    average,
    day,
    day_of,
    money,
    percent,
    risk_text,
    when,
)
from portal.services.models import localized_name
from portal.visits import compliance
from portal.visits.risk import LEVEL_LABELS, RiskLevel

LEVELS = tuple(RiskLevel)
NBSP = "\u00a0"


@dataclass(frozen=True)
class ComplianceRow:
    name: str
    cells: list[str]


@dataclass(frozen=True)
class ComplianceSection:
    months: list[str]
    rows: list[ComplianceRow]
    totals: list[str]
    percent: str
    done: int
    owed: int
    chart: Markup


@dataclass(frozen=True)
class Run:
    """Entries of one risk level as a single line of text, e.g. ``王小明 李庄村 2026-10-03；…``.

    One text per run rather than one element per borrower: thousands of names then
    lay out in a fraction of the time and fill the page edge to edge.
    """

    level: str
    label: str
    text: str


@dataclass(frozen=True)
class Group:
    """The runs of names under one officer."""

    officer: str
    count: int
    runs: list[Run]


@dataclass(frozen=True)
class MissedSection:
    heading: str
    total: int
    groups: list[Group]


@dataclass(frozen=True)
class RiskRow:
    level: str
    label: str
    count: int
    share: str


@dataclass(frozen=True)
class RiskTrendRow:
    month: str
    counts: list[int]
    total: int


@dataclass(frozen=True)
class RiskSection:
    rows: list[RiskRow]
    total: int
    chart: Markup
    trend: list[RiskTrendRow]
    trend_chart: Markup
    labels: list[str]


@dataclass(frozen=True)
class WarningRow:
    visit_id: int
    visited_at: str
    borrower: str
    village: str
    officer: str
    reason: str
    handled: bool
    handled_at: str
    handled_by: str
    action: str


@dataclass(frozen=True)
class ServiceRow:
    kind: str
    received: int
    from_visits: int
    late: int
    completed: int
    declined: int
    still_open: int
    ratings: int
    average_rating: str


@dataclass(frozen=True)
class SatisfactionRow:
    officer: str
    visits: int
    average: str


@dataclass(frozen=True)
class ServiceSection:
    rows: list[ServiceRow]
    totals: ServiceRow
    visit_satisfaction: list[SatisfactionRow]
    visit_average: str
    visits_answered: int


@dataclass(frozen=True)
class ComplaintRow:
    filed_at: str
    borrower: str
    category: str
    severity: str
    severity_code: str
    subject: str
    status: str
    overdue: bool
    reopened: int


@dataclass(frozen=True)
class ComplaintSection:
    rows: list[ComplaintRow]
    by_severity: list[Line]
    resolved: int


@dataclass(frozen=True)
class LoanSection:
    figures: list[Line]
    disbursed: int
    disbursed_text: str


@dataclass(frozen=True)
class PortfolioRow:
    officer: str
    loans: int
    outstanding: str
    par1: str
    par30: str
    par90: str
    repayment_rate: str


@dataclass(frozen=True)
class PortfolioSection:
    as_of: str
    figures: list[Line]
    officers: list[PortfolioRow]
    total: PortfolioRow


@dataclass(frozen=True)
class BranchMonthReport:
    template: ClassVar[str] = "branch_report.html"
    title: str
    branch_code: str
    branch_name: str
    region: str
    month: str
    period: str
    is_current_month: bool
    compliance: ComplianceSection
    missed: MissedSection
    risk: RiskSection
    warnings: list[WarningRow]
    services: ServiceSection
    complaints: ComplaintSection
    new_borrowers: list[Group]
    new_borrower_count: int
    loans: LoanSection
    warning_outcomes: warnings.WarningsTable
    portfolio: PortfolioSection
    filename: FileName


def _compliance_section(trend: list[compliance.MonthCompliance]) -> ComplianceSection:
    selected = trend[-1]

    def cell(result) -> str:
        return (
            f"{percent(result.done, result.owed)} ({result.done}/{result.owed})" if result else "—"
        )

    bars = [
        charts.Bar(
            str(item.month),
            item.percent or 0,
            _compliance_colour(item.percent),
            percent(item.done, item.owed),
        )
        for item in trend
    ]
    return ComplianceSection(
        months=[str(item.month) for item in trend],
        rows=[
            ComplianceRow(officer.name, [cell(result) for result in officer.months])
            for officer in compliance.officer_trends(trend)
        ],
        totals=[cell(item) for item in trend],
        percent=percent(selected.done, selected.owed),
        done=selected.done,
        owed=selected.owed,
        chart=charts.bar_chart(bars, _("Visit compliance over the last six months")),
    )


def _compliance_colour(value: int | None) -> str:
    if value is None:
        return charts.AXIS
    if value >= 90:
        return charts.RISK_COLOURS["green"]
    return charts.RISK_COLOURS["yellow" if value >= 70 else "red"]


def _entries(parts) -> str:
    """Entries joined as the reader's language lists them, each entry kept on one line."""
    return list_separator().join(NBSP.join(filter(None, entry)) for entry in parts)


def _by_officer(rows) -> dict[str, list]:
    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(row.officer_name, []).append(row)
    return groups


def _missed_runs(rows) -> list[Run]:
    """One run per latest risk level, red first, as the compliance pages order them."""
    rows = sorted(rows, key=lambda r: (compliance.risk_sort_key(r.risk), r.name_initials, r.id))
    runs = []
    for risk, same in groupby(rows, key=lambda r: r.risk):
        level = str(risk) if risk else "none"
        label = str(LEVEL_LABELS[risk]) if risk else _("Not yet visited")
        text = _entries((r.full_name, r.village, day_of(r.last_visit)) for r in same)
        runs.append(Run(level, label, text))
    return runs


def _missed_section(branch: Branch, month: Month) -> MissedSection:
    rows = db.session.execute(compliance.missed_borrowers(branch.id, month)).all()
    not_over = month == current_month()
    heading = (
        _("Not yet visited in %(month)s", month=month)
        if not_over
        else _("Borrowers missed in %(month)s", month=month)
    )
    groups = [
        Group(officer, len(same), _missed_runs(same)) for officer, same in _by_officer(rows).items()
    ]
    return MissedSection(heading, len(rows), groups)


def _newcomer_groups(rows) -> list[Group]:
    return [
        Group(officer, len(same), [Run("", "", _entries((r.full_name, r.village) for r in same))])
        for officer, same in _by_officer(rows).items()
    ]


def _risk_section(branch: Branch, months: list[Month]) -> RiskSection:
    counts = queries.risk_counts(branch.id, months)
    labels = [str(LEVEL_LABELS[level]) for level in LEVELS]
    selected = counts[str(months[-1])]
    total = sum(selected.values())
    rows = [
        RiskRow(str(level), label, selected.get(level, 0), percent(selected.get(level, 0), total))
        for level, label in zip(LEVELS, labels, strict=True)
    ]
    trend = [
        RiskTrendRow(month, [by_level.get(level, 0) for level in LEVELS], sum(by_level.values()))
        for month, by_level in counts.items()
    ]
    return RiskSection(
        rows=rows,
        total=total,
        chart=charts.horizontal_bars(
            [
                charts.Bar(
                    row.label,
                    row.count,
                    charts.RISK_COLOURS[row.level],
                    f"{row.count} · {row.share}",
                )
                for row in rows
            ],
            _("Risk levels of the month's visits"),
        ),
        trend=trend,
        trend_chart=_risk_trend_chart(trend, labels),
        labels=labels,
    )


def _risk_trend_chart(trend: list[RiskTrendRow], labels: list[str]) -> Markup:
    # Green dwarfs the rest; the trend that matters is the visits that found something.
    flagged = LEVELS[1:]
    columns = [
        charts.Column(
            row.month,
            tuple(
                charts.Segment(count, charts.RISK_COLOURS[str(level)])
                for level, count in zip(flagged, row.counts[1:], strict=True)
            ),
            str(sum(row.counts[1:])),
        )
        for row in trend
    ]
    legend = [
        (label, charts.RISK_COLOURS[str(level)])
        for level, label in zip(flagged, labels[1:], strict=True)
    ]
    return charts.stacked_columns(columns, legend, _("Visits with risk signals, last six months"))


def _warning_rows(branch: Branch, month: Month) -> list[WarningRow]:
    return [
        WarningRow(
            visit_id=row.visit_id,
            visited_at=when(row.visited_at),
            borrower=row.full_name,
            village=row.village,
            officer=row.officer_name,
            reason=risk_text(row.risk_level, row.risk_signals),
            handled=row.acknowledged_at is not None,
            handled_at=when(row.acknowledged_at),
            handled_by=row.acknowledged_by or "",
            action=row.action_taken or "",
        )
        for row in queries.month_warnings(branch.id, month)
    ]


def _service_section(branch: Branch, month: Month, now: datetime) -> ServiceSection:
    rows = [
        ServiceRow(
            localized_name(r.name_zh, r.name_en),
            r.received,
            r.from_visits,
            r.late,
            r.completed,
            r.declined,
            r.still_open,
            r.ratings,
            average(r.average_rating),
        )
        for r in queries.service_figures(branch.id, month, now)
    ]
    satisfaction = queries.visit_satisfaction(branch.id, month)
    answered = sum(row.visits for row in satisfaction)
    overall = (
        sum(float(row.average) * row.visits for row in satisfaction) / answered
        if answered
        else None
    )
    return ServiceSection(
        rows=rows,
        totals=_service_totals(rows),
        visit_satisfaction=[
            SatisfactionRow(row.name, row.visits, average(row.average)) for row in satisfaction
        ],
        visit_average=average(overall),
        visits_answered=answered,
    )


def _service_totals(rows: list[ServiceRow]) -> ServiceRow:
    ratings = sum(row.ratings for row in rows)
    rated_sum = sum(float(row.average_rating) * row.ratings for row in rows if row.ratings)
    return ServiceRow(
        _("All services"),
        *(
            sum(getattr(row, name) for row in rows)
            for name in ("received", "from_visits", "late", "completed", "declined", "still_open")
        ),
        ratings,
        average(rated_sum / ratings if ratings else None),
    )


def _complaint_section(branch: Branch, month: Month, now: datetime) -> ComplaintSection:
    rows = queries.month_complaints(branch.id, month)
    by_severity = dict.fromkeys(SEVERITY_LABELS, 0)
    for row in rows:
        by_severity[row.severity] += 1
    return ComplaintSection(
        rows=[
            ComplaintRow(
                filed_at=when(row.filed_at),
                borrower=row.full_name,
                category=str(CATEGORY_LABELS[row.category]),
                severity=str(SEVERITY_LABELS[row.severity]),
                severity_code=str(row.severity),
                subject=row.subject,
                status=str(STATUS_LABELS[row.status]),
                overdue=row.status == ComplaintStatus.OPEN and row.respond_by < now,
                reopened=row.reopen_count,
            )
            for row in rows
        ],
        by_severity=[Line(str(SEVERITY_LABELS[s]), str(n)) for s, n in by_severity.items()],
        resolved=queries.complaints_resolved_in(branch.id, month),
    )


def _loan_section(branch: Branch, month: Month) -> LoanSection:
    f = queries.loan_figures(branch.id, month)
    loans = queries.disbursed_loans(branch.id, month)
    return LoanSection(
        figures=[
            Line(_("Applications received"), f"{f.applied} · {money(f.applied_amount or 0)}"),
            Line(_("Approved by the committee"), f"{f.approved} · {money(f.approved_amount or 0)}"),
            Line(_("Rejected by the committee"), str(f.rejected)),
            Line(_("Disbursed"), f"{f.disbursed} · {money(f.disbursed_amount or 0)}"),
            Line(_("Loans closed"), str(f.closed)),
            Line(_("Active at the end of the month"), str(f.active_at_end)),
        ],
        disbursed=len(loans),
        disbursed_text=_entries(
            (day(r.disbursed_on), r.contract_number or "", r.full_name, money(r.approved_amount))
            for r in loans
        ),
    )


def _ratio(value: Decimal | None) -> str:
    """A portfolio ratio as ``4.2 %``, or a dash when there was nothing to divide by."""
    return "—" if value is None else f"{value * 100:.1f} %"


def _at_risk(amount: Decimal, ratio: Decimal | None) -> str:
    return f"{money(amount)} · {_ratio(ratio)}"


def _portfolio_row(name: str, figures: Quality) -> PortfolioRow:
    return PortfolioRow(
        name,
        figures.loans,
        money(figures.outstanding),
        _ratio(figures.par1_ratio),
        _ratio(figures.par30_ratio),
        _ratio(figures.par90_ratio),
        _ratio(figures.repayment_rate),
    )


def _portfolio_section(branch: Branch, as_of: date) -> PortfolioSection:
    figures = quality(as_of, branch_id=branch.id)
    by_officer = quality_by_officer(as_of, branch.id)
    names = queries.user_names(by_officer)
    return PortfolioSection(
        as_of=as_of.isoformat(),
        figures=[
            Line(_("Loans outstanding"), f"{figures.loans} · {money(figures.outstanding)}"),
            Line(_("Portfolio at risk, 1+ days"), _at_risk(figures.par1, figures.par1_ratio)),
            Line(_("Portfolio at risk, 30+ days"), _at_risk(figures.par30, figures.par30_ratio)),
            Line(_("Portfolio at risk, 90+ days"), _at_risk(figures.par90, figures.par90_ratio)),
            Line(
                _("Written off in the last twelve months"),
                _at_risk(figures.written_off, figures.write_off_ratio),
            ),
            Line(
                _("Repayment rate in the month"),
                f"{money(figures.collected)} / {money(figures.due)} · "
                f"{_ratio(figures.repayment_rate)}",
            ),
        ],
        officers=sorted(
            (_portfolio_row(names.get(officer, "—"), q) for officer, q in by_officer.items()),
            key=lambda row: row.officer,
        ),
        total=_portfolio_row(_("Branch"), figures),
    )


def branch_month_report(branch: Branch, month: Month) -> BranchMonthReport:
    """Everything the branch head prints for one month, in a fixed number of queries."""
    now = utcnow()
    trend = compliance.branch_trend(branch.id, month)
    newcomers = queries.new_borrowers(branch.id, month)
    return BranchMonthReport(
        title=_("Monthly branch report"),
        branch_code=branch.code,
        branch_name=branch.name,
        region=branch.region,
        month=str(month),
        period=f"{month.first_day.isoformat()} – {month.last_day.isoformat()}",
        is_current_month=month == current_month(),
        compliance=_compliance_section(trend),
        missed=_missed_section(branch, month),
        risk=_risk_section(branch, [item.month for item in trend]),
        warnings=_warning_rows(branch, month),
        services=_service_section(branch, month, now),
        complaints=_complaint_section(branch, month, now),
        new_borrowers=_newcomer_groups(newcomers),
        new_borrower_count=len(newcomers),
        loans=_loan_section(branch, month),
        # The months whose three months of repayments ended by the end of this one.
        warning_outcomes=warnings.warnings_table(month.shift(-warnings.WINDOW_MONTHS), branch.id),
        portfolio=_portfolio_section(branch, min(month.last_day, local_today())),
        filename=FileName(
            f"branch-{branch.code}-{month}.pdf",
            _("branch-%(code)s-%(month)s.pdf", code=branch.code, month=month),
        ),
    )
