"""Plain data for the PDF templates, built from the models.

Templates under ``templates/pdf/`` see only what is built here: strings already
translated, formatted and masked, numbers, and chart markup drawn by our own code.
No ORM object reaches a template, so a report cannot lazy-load (one query per row)
or print a field nobody chose to print.
"""

import base64
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from flask_babel import format_datetime, get_locale, ngettext
from flask_babel import gettext as _

from portal.accounts.models import ROLE_LABELS, User
from portal.borrowers.masking import birth_year, mask_phone, mask_resident_id
from portal.borrowers.models import BUSINESS_TYPE_LABELS, SEX_LABELS, TIER_LABELS, Borrower
from portal.branches.models import Branch
from portal.core.calendar import month_of
from portal.database import utcnow
from portal.loans.models import LOAN_STATUS_LABELS, Loan, LoanStatus, repayment_status_label
from portal.loans.queries import borrower_loans
from portal.reports import queries
from portal.services.models import SERVICE_STATUS_LABELS, localized_name
from portal.training.models import TrainingSignoff
from portal.training.operations import hash_matches
from portal.training.queries import borrower_signoffs
from portal.visits.models import Visit
from portal.visits.operations import verify
from portal.visits.questions import QUESTIONS
from portal.visits.risk import (
    LEVEL_LABELS,
    SIGNAL_LABELS,
    RiskAssessment,
    RiskLevel,
    RiskSignal,
    reason_text,
)
from portal.visits.signing import GENESIS

# Printed records carry full, unambiguous dates whatever the reader's language.
PRINT_TIME = "yyyy-MM-dd HH:mm"


# --- formatting -----------------------------------------------------------------------


def when(moment: datetime | None) -> str:
    """A stored UTC time on the company's clock, e.g. ``2026-11-05 14:30``."""
    return format_datetime(moment, PRINT_TIME) if moment else ""


def day(value) -> str:
    """A calendar date as printed, or a dash."""
    return value.isoformat() if value else "—"


def day_of(moment: datetime | None) -> str:
    """The local calendar day of a stored time."""
    return format_datetime(moment, "yyyy-MM-dd") if moment else "—"


def money(value: Decimal | None) -> str:
    """``¥50,000.00``, or a dash."""
    return "—" if value is None else f"¥{value:,.2f}"


def percent(done: int, owed: int) -> str:
    """``95 %``, or a dash when nothing was owed (docs/visits.md)."""
    return f"{round(100 * done / owed)} %" if owed else "—"


def average(value) -> str:
    """A 1–5 average with two decimals, or a dash."""
    return "—" if value is None else f"{float(value):.2f}"


def listing(items) -> str:
    """Items joined the way the reader's language lists them."""
    separator = "、" if str(get_locale()).startswith("zh") else ", "
    return separator.join(str(item) for item in items)


def repayment_text(loan: Loan) -> str:
    """How a loan is being repaid: "Overdue 12 days", "On time", or "—" before disbursement."""
    if loan.overdue:
        return ngettext("Overdue %(num)d day", "Overdue %(num)d days", loan.overdue_days)
    if loan.status in (LoanStatus.ACTIVE, LoanStatus.CLOSED):
        return repayment_status_label(loan.repayment_status)
    return "—"


def png_data_uri(png: bytes) -> str:
    """An image for the template without any fetch: the fetcher refuses everything else."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def jpeg_data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def signal_text(signals) -> str:
    """The reason for a risk level: its signals, e.g. "还款逾期 + 经营停顿或关闭"."""
    return " + ".join(str(SIGNAL_LABELS[RiskSignal(s)]) for s in signals) or _("no risk signals")


def risk_text(level: RiskLevel | str, signals) -> str:
    """The stored assessment in the reader's language."""
    assessment = RiskAssessment(RiskLevel(level), tuple(RiskSignal(s) for s in signals))
    return reason_text(assessment)


@dataclass(frozen=True)
class Line:
    """A labelled value on a printed form."""

    label: str
    value: str


@dataclass(frozen=True)
class Printing:
    """Who printed a report and when: in every footer, for the paper trail."""

    at: str
    by: str


def printing(user: User | None) -> Printing:
    """Now, and the user printing (``None``: the command line, printed as "system")."""
    return Printing(when(utcnow()), user.display_name if user else _("system"))


@dataclass(frozen=True)
class FileName:
    """An ASCII download name, and the one in the reader's language (RFC 5987)."""

    ascii: str
    display: str


# --- the visit report -----------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Version:
    visit_id: int
    signed_at: str
    officer: str
    risk_level: str
    risk_label: str
    is_this: bool
    is_original: bool


@dataclass(frozen=True)
class AmendedVisit:
    """What an amendment amends: the original and the answers that changed."""

    visit_id: int
    visited_at: str
    content_hash: str
    changes: list[Change]


@dataclass(frozen=True)
class PhotoPrint:
    """One photo of the visit, printed small: its thumbnail, what it shows, when taken."""

    uri: str
    kind: str
    taken_at: str


@dataclass(frozen=True)
class VisitReport:
    template: ClassVar[str] = "visit_report.html"
    visit_id: int
    title: str
    month: str
    branch_code: str
    branch_name: str
    borrower_name: str
    borrower: list[Line]
    officer: list[Line]
    visit: list[Line]
    answers: list[Line]
    signals: list[str]
    risk_level: str
    risk_label: str
    risk_reason: str
    signature_uri: str
    signed_at: str
    content_hash: str
    verified: bool
    amends: AmendedVisit | None
    versions: list[Version]
    filename: FileName
    internal: bool = True  # the company's judgements printed (staff); a borrower's copy omits them
    photos: tuple[PhotoPrint, ...] = ()  # the photos signed with the record, in order
    # The chain (portal/visits/chain.py): the hash of the borrower's record signed before;
    # None on records signed before visits were chained.
    previous_hash: str | None = None
    first_of_chain: bool = False


def _borrower_lines(borrower: Borrower) -> list[Line]:
    # Masked as in lists: a printed page leaves the audit trail the moment it is printed.
    return [
        Line(_("Full name"), borrower.full_name),
        Line(_("Resident ID number"), mask_resident_id(borrower.resident_id)),
        Line(_("Mobile number"), mask_phone(borrower.mobile)),
        Line(_("Address"), f"{borrower.address} {borrower.village}".strip()),
        Line(_("Business"), str(BUSINESS_TYPE_LABELS[borrower.business_type])),
    ]


def _officer_lines(officer: User, branch: Branch) -> list[Line]:
    return [
        Line(_("Full name"), officer.display_name),
        Line(_("Role"), str(ROLE_LABELS[officer.role])),
        Line(_("Branch"), f"{branch.name} ({branch.code})"),
    ]


def _location(visit: Visit) -> str:
    if visit.latitude is None or visit.longitude is None:
        return _("Not recorded")
    text = f"{visit.latitude:.6f}, {visit.longitude:.6f}"
    return text + (f" (±{visit.accuracy_m} m)" if visit.accuracy_m is not None else "")


def _visit_lines(visit: Visit) -> list[Line]:
    loan = visit.loan
    return [
        Line(_("Visit date and time"), when(visit.visited_at)),
        Line(_("Place of the visit"), visit.place),
        Line(_("Location"), _location(visit)),
        Line(_("Loan"), f"{loan.contract_number or loan.id} · {money(loan.approved_amount)}"),
    ]


def _answer_lines(visit: Visit, internal: bool = True) -> list[Line]:
    """Every declared answer, in the form's order; also what an amendment is compared on.

    ``internal`` False leaves out the answers that are the company's judgement.
    """
    return [
        Line(str(question.heading), question.text(visit))
        for question in QUESTIONS
        if internal or not question.internal
    ]


def _changes(visit: Visit, original: Visit, internal: bool) -> list[Change]:
    now = _visit_lines(visit)[:3] + _answer_lines(visit, internal)
    before = _visit_lines(original)[:3] + _answer_lines(original, internal)
    return [
        Change(new.label, old.value, new.value)
        for new, old in zip(now, before, strict=True)
        if new.value != old.value
    ]


def _amended(visit: Visit, internal: bool) -> AmendedVisit | None:
    original = visit.amends
    if original is None:
        return None
    return AmendedVisit(
        original.id,
        when(original.visited_at),
        original.content_hash,
        _changes(visit, original, internal),
    )


def _versions(visit: Visit, rows) -> list[Version]:
    if len(rows) < 2:
        return []
    return [
        Version(
            row.id,
            when(row.signed_at),
            row.officer_name,
            str(row.risk_level),
            str(LEVEL_LABELS[row.risk_level]),
            row.id == visit.id,
            row.id == row.root_id,
        )
        for row in rows
    ]


def _visit_report(
    visit: Visit, versions: list, signature_png: bytes | None, internal: bool
) -> VisitReport:
    month = str(month_of(visit.visited_at))
    return VisitReport(
        visit_id=visit.id,
        title=_("Post-loan follow-up form"),
        month=month,
        branch_code=visit.branch.code,
        branch_name=visit.branch.name,
        borrower_name=visit.borrower.full_name,
        borrower=_borrower_lines(visit.borrower),
        officer=_officer_lines(visit.officer, visit.branch),
        visit=_visit_lines(visit),
        answers=_answer_lines(visit, internal),
        signals=[str(SIGNAL_LABELS[s]) for s in visit.assessment.signals],
        risk_level=str(visit.risk_level),
        risk_label=str(LEVEL_LABELS[visit.risk_level]),
        risk_reason=signal_text(visit.assessment.signals),
        signature_uri=png_data_uri(signature_png) if signature_png else "",
        signed_at=when(visit.signed_at),
        content_hash=visit.content_hash,
        verified=verify(visit),
        amends=_amended(visit, internal),
        versions=_versions(visit, versions),
        filename=FileName(
            f"visit-{visit.id}-{month}.pdf",
            _("visit-%(id)s-%(month)s.pdf", id=visit.id, month=month),
        ),
        internal=internal,
        photos=tuple(
            PhotoPrint(
                jpeg_data_uri(photo.thumb_jpeg),
                photo.kind_label,
                when(photo.taken_at) if photo.taken_at else "",
            )
            for photo in visit.photos
        ),
        previous_hash=visit.previous_hash,
        first_of_chain=visit.previous_hash == GENESIS,
    )


def visit_reports(visit_ids: list[int], internal: bool = True) -> list[VisitReport]:
    """Reports of these visits, in the order given, in a fixed number of queries.

    ``internal`` False is the borrower's copy: their answers and signature, without the
    risk level, the signals and the officer's observations.
    """
    visits, signatures = queries.visits_for_reports(visit_ids)
    pngs = {signature.visit_id: signature.png for signature in signatures}
    versions: dict[int, list] = {}
    for row in queries.versions_of({visit.root_id for visit in visits}):
        versions.setdefault(row.root_id, []).append(row)
    return [
        _visit_report(visit, versions.get(visit.root_id, []), pngs.get(visit.id), internal)
        for visit in visits
    ]


def visit_report(visit_id: int, internal: bool = True) -> VisitReport:
    """The report of one signed visit (``internal`` False: the borrower's copy)."""
    return visit_reports([visit_id], internal)[0]


# --- the training certificate -------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    template: ClassVar[str] = "training_certificate.html"
    signoff_id: int
    title: str
    material_title: str
    material_version: int
    score: int
    pass_mark: int
    passed: bool
    borrower_name: str
    details: list[Line]
    branch_code: str
    branch_name: str
    signed_at: str
    signed_on: str
    signature_uri: str
    content_hash: str
    verified: bool
    filename: FileName


def _certificate_lines(signoff: TrainingSignoff) -> list[Line]:
    branch = signoff.borrower.branch
    return [
        *_borrower_lines(signoff.borrower)[:3],
        Line(_("Loan officer present"), signoff.officer.display_name),
        Line(_("Branch"), f"{branch.name} ({branch.code})"),
        Line(_("Loan contract"), ", ".join(queries.loans_trained_by(signoff.id)) or "—"),
        Line(_("Signed"), when(signoff.signed_at)),
    ]


def training_certificate(signoff: TrainingSignoff) -> Certificate:
    """The certificate of one passed integrity-training sign-off."""
    borrower, material = signoff.borrower, signoff.material
    english = str(get_locale()) == "en"
    return Certificate(
        signoff_id=signoff.id,
        title=_("Integrity training certificate"),
        material_title=material.title_en if english else material.title_zh,
        material_version=material.version,
        score=signoff.score_percent,
        pass_mark=material.pass_mark_percent,
        passed=signoff.passed,
        borrower_name=borrower.full_name,
        details=_certificate_lines(signoff),
        branch_code=borrower.branch.code,
        branch_name=borrower.branch.name,
        signed_at=when(signoff.signed_at),
        signed_on=day_of(signoff.signed_at),
        signature_uri=png_data_uri(signoff.signature_png),
        content_hash=signoff.content_hash,
        verified=hash_matches(signoff),
        filename=FileName(
            f"training-certificate-{signoff.id}.pdf",
            _("training-certificate-%(id)s.pdf", id=signoff.id),
        ),
    )


# --- the borrower dossier -----------------------------------------------------------------


@dataclass(frozen=True)
class DossierLoan:
    number: str
    status: str
    applied_on: str
    amount: str
    term: str
    disbursed_on: str
    closed_on: str
    repayment: str
    purpose: str


@dataclass(frozen=True)
class DossierTraining:
    signed_at: str
    version: int
    score: str
    passed: bool
    officer: str
    content_hash: str


@dataclass(frozen=True)
class DossierVisit:
    visit_id: int
    visited_at: str
    officer: str
    risk_level: str
    risk_label: str
    reason: str
    satisfaction: int | None  # None: not asked (no consent to surveys)
    is_amendment: bool


@dataclass(frozen=True)
class DossierService:
    submitted_at: str
    kind: str
    status: str
    from_visit: bool
    completed_at: str
    rating: str


@dataclass(frozen=True)
class Dossier:
    template: ClassVar[str] = "borrower_dossier.html"
    borrower_id: int
    title: str
    borrower_name: str
    branch_code: str
    branch_name: str
    profile: list[Line]
    loans: list[DossierLoan]
    trainings: list[DossierTraining]
    visits: list[DossierVisit]
    services: list[DossierService]
    filename: FileName
    internal: bool = True  # tier and visit risk printed (staff); a borrower's copy omits them


def _profile_lines(borrower: Borrower, internal: bool) -> list[Line]:
    tier = [Line(_("Tier"), str(TIER_LABELS[borrower.tier]))] if internal else []
    return [
        *_borrower_lines(borrower),
        # The ID above is masked: the full birth date would fill in its stars.
        Line(_("Year of birth"), f"{birth_year(borrower.birth_date)} · {SEX_LABELS[borrower.sex]}"),
        Line(_("People in the household"), str(borrower.household_size)),
        Line(_("Monthly income (yuan)"), f"{borrower.monthly_income:,.2f}"),
        Line(_("Monthly expenses (yuan)"), f"{borrower.monthly_expenses:,.2f}"),
        Line(_("Guarantor"), f"{borrower.guarantor_name} · {mask_phone(borrower.guarantor_phone)}"),
        *tier,
        Line(_("Loan officer"), borrower.officer.display_name),
        Line(_("Registered on"), day_of(borrower.created_at)),
    ]


def _dossier_loans(borrower: Borrower) -> list[DossierLoan]:
    return [
        DossierLoan(
            number=loan.contract_number or f"#{loan.id}",
            status=str(LOAN_STATUS_LABELS[loan.status]),
            applied_on=day(loan.applied_on),
            amount=money(
                loan.approved_amount if loan.approved_amount is not None else loan.amount_requested
            ),
            term=ngettext(
                "%(num)d month",
                "%(num)d months",
                loan.approved_term_months or loan.term_months_requested,
            ),
            disbursed_on=day(loan.disbursed_on),
            closed_on=day(loan.closed_on),
            repayment=repayment_text(loan),
            purpose=loan.purpose,
        )
        for loan in borrower_loans(borrower.id)
    ]


def _dossier_trainings(borrower: Borrower) -> list[DossierTraining]:
    return [
        DossierTraining(
            when(s.signed_at),
            s.material.version,
            f"{s.score_percent} %",
            s.passed,
            s.officer.display_name,
            s.content_hash,
        )
        for s in borrower_signoffs(borrower.id)
    ]


def _dossier_visits(borrower: Borrower) -> list[DossierVisit]:
    return [
        DossierVisit(
            visit_id=row.id,
            visited_at=when(row.visited_at),
            officer=row.officer_name,
            risk_level=str(row.risk_level),
            risk_label=str(LEVEL_LABELS[row.risk_level]),
            reason=listing(SIGNAL_LABELS[RiskSignal(s)] for s in row.risk_signals) or "—",
            satisfaction=row.satisfaction,
            is_amendment=row.amends_id is not None,
        )
        for row in queries.borrower_visit_timeline(borrower.id)
    ]


def _dossier_services(borrower: Borrower) -> list[DossierService]:
    return [
        DossierService(
            submitted_at=day_of(row.submitted_at),
            kind=localized_name(row.name_zh, row.name_en),
            status=str(SERVICE_STATUS_LABELS[row.status]),
            from_visit=str(row.source) == "visit",
            completed_at=day_of(row.completed_at),
            rating=f"{row.rating} / 5" if row.rating else "—",
        )
        for row in queries.borrower_services(borrower.id)
    ]


def borrower_dossier(borrower: Borrower, internal: bool = True) -> Dossier:
    """Profile, loans, training, visit timeline and services of one borrower.

    ``internal`` False is the borrower's own copy: no tier, no visit risk levels.
    """
    return Dossier(
        borrower_id=borrower.id,
        title=_("Borrower dossier"),
        borrower_name=borrower.full_name,
        branch_code=borrower.branch.code,
        branch_name=borrower.branch.name,
        profile=_profile_lines(borrower, internal),
        loans=_dossier_loans(borrower),
        trainings=_dossier_trainings(borrower),
        visits=_dossier_visits(borrower),
        services=_dossier_services(borrower),
        filename=FileName(
            f"borrower-dossier-{borrower.id}.pdf",
            _("borrower-dossier-%(id)s.pdf", id=borrower.id),
        ),
        internal=internal,
    )


@dataclass(frozen=True)
class PackCover:
    """The first page of a visit pack."""

    template: ClassVar[str] = "visit_pack_cover.html"
    title: str
    branch_code: str
    branch_name: str
    month: str
    visits: int
    part: int
    parts: int
    first_visit: str
    last_visit: str
    filename: FileName


def pack_cover(branch: Branch, month, part, parts: int) -> PackCover:
    """The cover of one part of a month's visit pack."""
    visits = part.visits
    return PackCover(
        title=_("Visit reports of the month"),
        branch_code=branch.code,
        branch_name=branch.name,
        month=str(month),
        visits=len(visits),
        part=part.number,
        parts=parts,
        first_visit=when(visits[0].visited_at) if visits else "",
        last_visit=when(visits[-1].visited_at) if visits else "",
        filename=FileName(
            f"visits-{branch.code}-{month}{_part_suffix(part.number, parts)}.pdf",
            _("visits-%(code)s-%(month)s", code=branch.code, month=month)
            + _part_suffix(part.number, parts)
            + ".pdf",
        ),
    )


def _part_suffix(number: int, parts: int) -> str:
    return f"-part{number}" if parts > 1 else ""
