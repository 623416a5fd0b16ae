"""The questions of the post-loan follow-up form (贷后跟踪调查表), declared once, in order.

Everything that lists a visit's answers reads this declaration: the model's columns,
the form's fields, the operation's answers, the prefill of an amendment, the visit
page, the PDF report and the demo data. The signed record does not: its layout is
versioned in portal/visits/signing.py, and tests/visits/test_questions.py holds it
against this list.

To add a question: a line below (``nullable=True``, since visits signed before it
have no answer), a migration adding its column, the Chinese of its texts, and a new
record version in signing.py naming it.
"""

from dataclasses import dataclass
from enum import StrEnum

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from portal.privacy.models import PURPOSE_LABELS, Purpose
from portal.visits.kinds import Checklist, Choice, Kind, Rating, Text
from portal.visits.risk import SIGNAL_LABELS, RiskSignal


class BusinessState(StrEnum):
    NORMAL = "normal"
    GROWING = "growing"
    SHRINKING = "shrinking"
    SUSPENDED = "suspended"


class RevenueTrend(StrEnum):
    RISING = "rising"
    STABLE = "stable"
    FALLING = "falling"


class FundsUse(StrEnum):
    """Use of the loan funds against the purpose written in the contract."""

    AS_CONTRACTED = "as_contracted"
    PARTLY_DIVERTED = "partly_diverted"
    DIVERTED = "diverted"


class RepaymentState(StrEnum):
    """Repayment as the officer found it on the visit."""

    ON_TIME = "on_time"
    NOT_YET_DUE = "not_yet_due"
    OVERDUE = "overdue"


class GuarantorStatus(StrEnum):
    NORMAL = "normal"
    PROBLEM = "problem"
    NONE = "none"


class CollateralStatus(StrEnum):
    INTACT = "intact"
    DIMINISHED = "diminished"
    MISSING = "missing"
    NONE = "none"


class ServiceNeed(StrEnum):
    """The personalized services of docs/services.md; codes shared with the service catalogue."""

    WEALTH_MANAGEMENT = "wealth_management"
    FINANCIAL_TRAINING = "financial_training"
    COMPUTER_TRAINING = "computer_training"
    TECHNIQUE_TRAINING = "technique_training"
    MARKETING_TRAINING = "marketing_training"
    LEGAL_SERVICES = "legal_services"
    OTHER = "other"


BUSINESS_STATE_LABELS = {
    BusinessState.NORMAL: _l("Normal"),
    BusinessState.GROWING: _l("Growing"),
    BusinessState.SHRINKING: _l("Shrinking"),
    BusinessState.SUSPENDED: _l("Suspended or closed"),
}
REVENUE_TREND_LABELS = {
    RevenueTrend.RISING: _l("Rising"),
    RevenueTrend.STABLE: _l("Stable"),
    RevenueTrend.FALLING: _l("Falling"),
}
FUNDS_USE_LABELS = {
    FundsUse.AS_CONTRACTED: _l("As the contract says"),
    FundsUse.PARTLY_DIVERTED: _l("Partly used for something else"),
    FundsUse.DIVERTED: _l("Mostly used for something else"),
}
REPAYMENT_STATE_LABELS = {
    RepaymentState.ON_TIME: _l("Paid on time"),
    RepaymentState.NOT_YET_DUE: _l("First instalment not yet due"),
    RepaymentState.OVERDUE: _l("Overdue"),
}
GUARANTOR_STATUS_LABELS = {
    GuarantorStatus.NORMAL: _l("Guarantor able and willing"),
    GuarantorStatus.PROBLEM: _l("Problem with the guarantor"),
    GuarantorStatus.NONE: _l("No guarantor"),
}
COLLATERAL_STATUS_LABELS = {
    CollateralStatus.INTACT: _l("Intact"),
    CollateralStatus.DIMINISHED: _l("Damaged or worth less"),
    CollateralStatus.MISSING: _l("Sold, moved or lost"),
    CollateralStatus.NONE: _l("No collateral"),
}
SERVICE_NEED_LABELS = {
    ServiceNeed.WEALTH_MANAGEMENT: _l("Wealth-management advice"),
    ServiceNeed.FINANCIAL_TRAINING: _l("Financial training"),
    ServiceNeed.COMPUTER_TRAINING: _l("Computer training"),
    ServiceNeed.TECHNIQUE_TRAINING: _l("Planting or breeding technique training"),
    ServiceNeed.MARKETING_TRAINING: _l("Marketing training"),
    ServiceNeed.LEGAL_SERVICES: _l("Legal services"),
    ServiceNeed.OTHER: _l("Other service"),
}
SATISFACTION_LABELS = {
    "1": _l("1 – very unsatisfied"),
    "2": _l("2"),
    "3": _l("3"),
    "4": _l("4"),
    "5": _l("5 – very satisfied"),
}


@dataclass(frozen=True)
class Section:
    """A titled part of the form, also a part of the visit page."""

    name: str
    title: LazyString
    intro: LazyString | None = None
    warns: bool = False  # drawn as a warning (the risk signals)


@dataclass(frozen=True)
class Question:
    """One question of the form.

    ``label`` is the form's; ``printed_label``, when given, heads the answer on the visit
    page and the PDF instead. ``message`` is what the form says when the answer is missing or not one of the
    options. ``internal`` answers are the company's judgement: a borrower's copy leaves
    them out. ``hint`` may name the loan's ``%(purpose)s``. ``nullable``: visits signed
    before the question existed have no answer. ``required_with`` (other question,
    option): needed when that option is ticked. ``consent``: asked only of a borrower
    who consents to that purpose (portal/privacy); the others' visits have no answer.
    """

    name: str
    kind: Kind
    label: LazyString
    section: Section
    required: bool = False
    printed_label: LazyString | None = None
    message: LazyString | None = None
    internal: bool = False
    hint: LazyString | None = None
    empty_text: LazyString | str = "—"
    nullable: bool = False
    required_with: tuple[str, str] | None = None
    consent: Purpose | None = None

    def field(self):
        """The form field asking this question."""
        return self.kind.field(self)

    def column(self):
        """The column of ``visits`` keeping the answer."""
        return self.kind.column(self)

    @property
    def consent_label(self) -> LazyString | None:
        """The purpose the question needs the borrower's consent to, in words."""
        return PURPOSE_LABELS[self.consent] if self.consent else None

    @property
    def heading(self) -> LazyString:
        """The label of the answer on the visit page and the PDF."""
        return self.printed_label or self.label

    def text(self, visit) -> str:
        """The answer of ``visit`` as a page or a PDF prints it."""
        return self.kind.text(self, getattr(visit, self.name))

    def hint_for(self, loan) -> str | None:
        """The hint under the field, with the loan's purpose filled in."""
        return str(self.hint) % {"purpose": loan.purpose} if self.hint else None


BUSINESS = Section("business", _l("Business and loan funds"))
REPAYMENT = Section("repayment", _l("Repayment, guarantor and collateral"))
RISK = Section(
    "risk",
    _l("Risk warning signals"),
    intro=_l(
        "Tick every signal you observed. Overdue repayment, suspended business, diverted funds"
        " and a problem with the guarantor are also counted from the answers above."
    ),
    warns=True,
)
OPINIONS = Section("opinions", _l("Observations and opinions"))
SERVICES = Section("services", _l("Services and satisfaction"))
SECTIONS = (BUSINESS, REPAYMENT, RISK, OPINIONS, SERVICES)

QUESTIONS: tuple[Question, ...] = (
    Question(
        "business_state",
        Choice(BusinessState, BUSINESS_STATE_LABELS),
        _l("Business state"),
        BUSINESS,
        required=True,
        message=_l("Choose the state of the business."),
    ),
    Question(
        "revenue_trend",
        Choice(RevenueTrend, REVENUE_TREND_LABELS),
        _l("Revenue trend"),
        BUSINESS,
        required=True,
        message=_l("Choose how revenue is developing."),
    ),
    Question(
        "funds_use",
        Choice(FundsUse, FUNDS_USE_LABELS),
        _l("Use of the loan funds"),
        BUSINESS,
        required=True,
        message=_l("Choose how the loan funds were used."),
        hint=_l("Contract purpose: %(purpose)s"),
    ),
    Question(
        "repayment_status",
        Choice(RepaymentState, REPAYMENT_STATE_LABELS),
        _l("Repayment"),
        REPAYMENT,
        required=True,
        message=_l("Choose the repayment status."),
    ),
    Question(
        "guarantor_status",
        Choice(GuarantorStatus, GUARANTOR_STATUS_LABELS),
        _l("Guarantor"),
        REPAYMENT,
        required=True,
        message=_l("Choose the guarantor's status."),
    ),
    Question(
        "collateral_status",
        Choice(CollateralStatus, COLLATERAL_STATUS_LABELS),
        _l("Collateral"),
        REPAYMENT,
        required=True,
        message=_l("Choose the collateral's status."),
    ),
    Question(
        "household_changes",
        Text(2000, multiline=True),
        _l("Changes in the household"),
        REPAYMENT,
        hint=_l(
            "Births, deaths, marriages, illness, members leaving for work, new large purchases…"
        ),
    ),
    Question(
        # Stored are the assessed signals: those ticked plus those the answers imply.
        "risk_signals",
        Checklist(RiskSignal, SIGNAL_LABELS),
        _l("Risk warning signals observed"),
        RISK,
        printed_label=_l("Risk warning signals"),
        message=_l("Tick only risk signals from the list."),
        internal=True,
        empty_text=_l("No risk signals."),
    ),
    Question(
        "officer_observations",
        Text(4000, multiline=True),
        _l("Loan officer's observations"),
        OPINIONS,
        required=True,
        message=_l("Write down what you observed on the visit."),
        internal=True,
    ),
    Question(
        "borrower_opinions",
        Text(4000, multiline=True),
        _l("Borrower's opinions and suggestions"),
        OPINIONS,
    ),
    Question(
        "services_needed",
        Checklist(ServiceNeed, SERVICE_NEED_LABELS),
        _l("Services the borrower needs"),
        SERVICES,
        message=_l("Tick only services from the list."),
    ),
    Question(
        "services_other",
        Text(200),
        _l("Other service needed"),
        SERVICES,
        message=_l("Describe the other service the borrower needs."),
        required_with=("services_needed", ServiceNeed.OTHER.value),
    ),
    Question(
        "satisfaction",
        Rating(SATISFACTION_LABELS),
        _l("Satisfaction with the company"),
        SERVICES,
        required=True,
        message=_l("Ask the borrower for a satisfaction rating from 1 to 5."),
        # A survey: asked only with the borrower's consent (issue 19), so it may be empty.
        nullable=True,
        consent=Purpose.SURVEYS,
        empty_text=_l("Not asked (no consent to surveys)"),
    ),
)

BY_NAME = {question.name: question for question in QUESTIONS}


def sections(internal: bool = True) -> list[tuple[Section, list[Question]]]:
    """The sections in order with their questions; ``internal`` False leaves the company's out."""
    return [
        (section, asked)
        for section in SECTIONS
        if (
            asked := [q for q in QUESTIONS if q.section == section and (internal or not q.internal)]
        )
    ]
