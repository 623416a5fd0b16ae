"""Demo follow-up visits over the last six months, with a realistic spread of risk.

Every loan that owed a visit in a month (the rule of docs/visits.md) gets one,
except for a few missed months; most visits are green, some yellow or orange, a
few red, and the latest visits of two borrowers are red warnings (on loans behind
with their payments, when there are some), one of them already acknowledged by the
branch head. The visits follow the loans' repayment story (portal/demo/loans.py): a
visit on a day an instalment was late says so; in the weeks before a borrower fell a
month behind the visits saw trouble coming, except for the borrowers whose trouble
nobody saw (``trouble_unseen``), whose visits were green until then. Visits are
signed through the real operation, dated in the past, with the evidence a tablet
records: the form opened at the start of the visit, signed half an hour later in
working hours, a position fix in the borrower's yard (portal/demo/evidence.py),
observations in the officer's own words. So the evidence rules flag none of them; the planted fakes of portal/demo/evidence.py
are what the branch head's "visits to check" shows. Each (borrower, month) has a fixed
idempotency token, so running again creates nothing new.
"""

import math
import random
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from io import BytesIO

import sqlalchemy as sa
from PIL import Image, ImageDraw

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.core.calendar import Month, company_tz
from portal.database import utcnow
from portal.demo.evidence import fix_at_home
from portal.demo.loans import trouble_unseen
from portal.extensions import db
from portal.loans.models import Loan, RepaymentStatus
from portal.visits import operations
from portal.visits.compliance import loan_owes_visit
from portal.visits.models import (
    BusinessState,
    CollateralStatus,
    FundsUse,
    GuarantorStatus,
    RepaymentState,
    ServiceNeed,
    Visit,
    VisitWarning,
)
from portal.visits.questions import QUESTIONS
from portal.visits.risk import RiskSignal

SEED = 4_2026
MONTHS = 6
MISSED_SHARE = 0.12
# Part of this month's round is still ahead of the officers.
NOT_YET_SHARE = 0.35
S = RiskSignal
# (weight, signal sets to draw from) per level; red always pairs a critical signal with another major one.
RISK_MIX = [
    (75, [()]),
    (
        14,
        [(S.MARKET_COLLAPSE,), (S.FAMILY_ILLNESS,), (S.NATURAL_DISASTER,), (S.GUARANTOR_PROBLEM,)],
    ),
    (9, [(S.NEW_LARGE_DEBTS,), (S.FAMILY_ILLNESS, S.NATURAL_DISASTER), (S.DISPUTE_LAWSUIT,)]),
    (2, [(S.BUSINESS_SUSPENDED, S.DISPUTE_LAWSUIT), (S.FUNDS_DIVERTED, S.NEW_LARGE_DEBTS)]),
]
RED_SIGNALS = (S.REPAYMENT_OVERDUE, S.BUSINESS_SUSPENDED)
# While an instalment is late the repayment answer says so (orange); now and then the
# officer sees more: a hardship, or a second major signal (red).
LATE_SIGNALS = [(), (), (S.FAMILY_ILLNESS,), (S.BUSINESS_SUSPENDED,), (S.NEW_LARGE_DEBTS,)]
# The weeks before a borrower falls a month behind: trouble shows.
WARNING_SIGNALS = [
    (S.MARKET_COLLAPSE,),
    (S.FAMILY_ILLNESS, S.NATURAL_DISASTER),
    (S.NEW_LARGE_DEBTS,),
    (S.BUSINESS_SUSPENDED, S.NEW_LARGE_DEBTS),
]
WARNING_DAYS = 75
BEHIND_DAYS = 30
# An officer's observations: a sentence of their own each time, put together from what
# they saw (four parts) and two figures, so no two visits read alike.
OBSERVATIONS = (
    (
        "经营场地整洁",
        "新进一批饲料",
        "圈舍正在扩建",
        "近期雨水偏多",
        "家中老人住院",
        "市场行情走低",
        "刚收完一茬秋菜",
        "门面重新装修过",
    ),
    (
        "存货与上月基本持平",
        "资金按合同用于购买仔猪",
        "部分作物受了些影响",
        "开支比上月有所增加",
        "产品有些积压",
        "账本记录清楚",
        "雇了一名帮工",
        "担保人也在场",
    ),
    (
        "借款人心态积极",
        "本月还款略显吃力",
        "建议关注下月销售情况",
        "经营按计划进行",
        "打算年底前还清部分本金",
        "邻居反映经营正常",
        "希望参加养殖技术培训",
        "与上月走访所见一致",
    ),
    (
        "院里晒着玉米",
        "妻子在店里照应",
        "孩子在县城读书",
        "新买了一台三轮车",
        "鸡舍刚消过毒",
        "正赶上收购商上门",
        "大棚膜换了新的",
        "货架上补了年货",
    ),
)
OPINIONS = ["", "希望能再提高一点额度。", "想多参加技术培训。", "感谢信贷员经常来看我们。"]
ACKNOWLEDGED_ACTION = "已约借款人及担保人面谈，制定三个月还款计划，信贷员每周回访。"


def _token(borrower_id: int, month: Month) -> str:
    return f"demo-visit-{borrower_id}-{month}"


def _signature(seed: int) -> bytes:
    """A few dark pen strokes on a transparent canvas, different for every seed."""
    rng = random.Random(seed)
    image = Image.new("RGBA", (700, 300), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    x = rng.randint(40, 100)
    for _ in range(rng.randint(2, 4)):
        height, turns = rng.uniform(30, 70), rng.uniform(1.5, 3.5)
        points = [(x + t * 3, 150 + math.sin(t / 40 * math.pi * turns) * height) for t in range(40)]
        pen.line(points, fill=(20, 20, 20, 255), width=5)
        x += rng.randint(130, 170)
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _observations(rng: random.Random) -> str:
    seen, state, outlook, aside = (rng.choice(part) for part in OBSERVATIONS)
    return (
        f"{seen}，{state}，{aside}，{outlook}。"
        f"存栏或库存约{rng.randint(12, 480)}，本月流水约{rng.randint(3, 95) * 1000}元。"
    )


def _overdue_on(loan: Loan, day: date, today: date) -> bool:
    """The loan was behind with its payments on ``day``: an instalment was late
    (docs/lifecycle.md); for a loan without a schedule, as its typed figures say."""
    if loan.instalments:
        return any(
            i.due_on < day and (i.settled_on is None or i.settled_on > day)
            for i in loan.instalments
        )
    late = loan.repayment_status == RepaymentStatus.OVERDUE and loan.overdue_days
    return bool(late) and day >= today - timedelta(days=loan.overdue_days)


def _fell_behind_on(loan: Loan, today: date) -> date | None:
    """The due date of the first instalment left unpaid BEHIND_DAYS days or more by today."""
    behind = timedelta(days=BEHIND_DAYS)
    return next(
        (
            i.due_on
            for i in loan.instalments
            if i.due_on + behind <= today
            and (i.settled_on is None or i.settled_on > i.due_on + behind)
        ),
        None,
    )


def _signals(rng: random.Random, loan: Loan, day: date, today: date, unseen: bool) -> tuple:
    """What a visit on ``day`` finds: a late instalment, with more now and then; trouble
    coming in the weeks before the borrower fell a month behind (nothing at all before
    then when the trouble went ``unseen``); else the usual mix."""
    if _overdue_on(loan, day, today):
        return rng.choice(LATE_SIGNALS)
    behind = _fell_behind_on(loan, today)
    if behind is not None and day <= behind:
        if unseen:
            return ()
        if day >= behind - timedelta(days=WARNING_DAYS):
            return rng.choice(WARNING_SIGNALS)
    return _risk(rng)


def _flavour(rng: random.Random, name: str, sampled):
    """A demo answer that reads like a real visit, where the question has one; else ``sampled``."""
    usual = {
        "business_state": lambda: rng.choice(
            [BusinessState.NORMAL] * 4 + [BusinessState.GROWING, BusinessState.SHRINKING]
        ),
        "collateral_status": lambda: rng.choice(
            [CollateralStatus.INTACT] * 3 + [CollateralStatus.NONE]
        ),
        "officer_observations": lambda: _observations(rng),
        "borrower_opinions": lambda: rng.choice(OPINIONS),
        "services_needed": lambda: frozenset(
            [rng.choice([n for n in ServiceNeed if n != ServiceNeed.OTHER])]
            if rng.random() < 0.12
            else []
        ),
        "satisfaction": lambda: rng.choice([5, 5, 5, 4, 4, 3]),
    }
    return usual[name]() if name in usual else sampled


def _answers(rng: random.Random, visited_at: datetime, signals: tuple, loan: Loan, today: date):
    """An answer to every declared question; the risk signals decide the ones they imply."""
    overdue = S.REPAYMENT_OVERDUE in signals or _overdue_on(loan, visited_at.date(), today)
    answers = {q.name: _flavour(rng, q.name, q.kind.sample(q, rng)) for q in QUESTIONS}
    implied = {
        "funds_use": FundsUse.DIVERTED if S.FUNDS_DIVERTED in signals else FundsUse.AS_CONTRACTED,
        "repayment_status": RepaymentState.OVERDUE if overdue else RepaymentState.ON_TIME,
        "guarantor_status": GuarantorStatus.PROBLEM
        if S.GUARANTOR_PROBLEM in signals
        else GuarantorStatus.NORMAL,
        "risk_signals": frozenset(signals),
    }
    if S.BUSINESS_SUSPENDED in signals:
        implied["business_state"] = BusinessState.SUSPENDED
    return operations.VisitAnswers(
        visited_at=visited_at,
        place=f"{loan.borrower.village}{loan.borrower.full_name}家",
        **answers | implied,
    )


def _owed_loans(borrower_ids: list[int], month: Month) -> dict[int, Loan]:
    loans = db.session.scalars(
        sa.select(Loan)
        .where(Loan.borrower_id.in_(borrower_ids), loan_owes_visit(month))
        .order_by(Loan.id)
    )
    return {loan.borrower_id: loan for loan in loans}


def _visit_day(rng: random.Random, month: Month, loan: Loan, today: date) -> date | None:
    first = max(month.first_day, loan.disbursed_on)
    last = min(month.last_day, today - timedelta(days=1))
    if loan.closed_on:
        last = min(last, loan.closed_on - timedelta(days=1))
    if last < first:
        return None
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _sign(borrower: Borrower, loan: Loan, month: Month, day: date, signals: tuple, rng, today):
    visited_at = datetime.combine(
        day, time(rng.randint(8, 17), rng.choice([0, 15, 30, 45])), company_tz()
    )
    # Signed when the visit ends, half an hour or so after the form was opened.
    recorded_at = min(visited_at + timedelta(minutes=rng.randint(20, 50)), utcnow())
    place = fix_at_home(rng, borrower)
    return operations.sign_visit(
        borrower,
        loan,
        borrower.officer,
        replace(_answers(rng, visited_at, signals, loan, today), **place),
        _signature(rng.randint(0, 10**9)),
        _token(borrower.id, month),
        recorded_at=recorded_at,
        evidence=operations.VisitEvidence(
            opened_at=visited_at,
            signed_at_device=recorded_at,
            location_status="fix",
        ),
    )


def sign_planted(
    borrower: Borrower,
    visited_at: datetime,
    signed_at: datetime,
    token: str,
    evidence,
    place: dict,
    observations: str | None = None,
    signature: bytes | None = None,
):
    """One visit of portal/demo/evidence.py's planted fakes, with the demo's usual answers.

    ``place`` holds the fix (latitude, longitude, accuracy_m) or nothing; the answers
    are drawn from the token, so the same fake reads the same every time.
    """
    rng = random.Random(sum(map(ord, token)) * 1_000_003)
    loan = operations.active_loan(borrower)
    answers = _answers(rng, visited_at, (), loan, visited_at.date())
    if observations is not None:
        answers = replace(answers, officer_observations=observations)
    return operations.sign_visit(
        borrower,
        loan,
        borrower.officer,
        replace(answers, **place),
        signature or _signature(rng.randint(0, 10**9)),
        token,
        recorded_at=signed_at,
        evidence=evidence,
    )


def _fell_behind(borrower_id: int) -> bool:
    # A few borrowers missed last month and wait for this month's visit: the
    # officer's "overdue from last month" list is never empty in the demo.
    return borrower_id % 7 == 3


def _risk(rng: random.Random) -> tuple:
    weights, choices = zip(*RISK_MIX, strict=True)
    return rng.choice(rng.choices(choices, weights=weights)[0])


def seed_visits(borrowers: list[Borrower], today: date | None = None) -> int:
    """Create the missing demo visits for ``borrowers``; return how many were created."""
    today = today or utcnow().astimezone(company_tz()).date()
    this_month = Month(today.year, today.month)
    # The red warnings fall in the month of yesterday, so they exist on the 1st of a month too.
    red_day = today - timedelta(days=1)
    red_month = Month(red_day.year, red_day.month)
    ids = [b.id for b in borrowers]
    by_id = {b.id: b for b in borrowers}
    existing = set(
        db.session.scalars(sa.select(Visit.idempotency_token).where(Visit.borrower_id.in_(ids)))
    )
    reds = [
        (i, loan)
        for i, loan in _owed_loans(ids, red_month).items()
        if loan.disbursed_on < red_month.first_day
    ]
    # On loans behind with their payments all that month, when there are some.
    reds.sort(key=lambda red: not _behind_all_month(red[1], red_month, red_day, today))
    reds = reds[:2]
    unseen = trouble_unseen(borrowers)
    created = 0
    for offset in range(MONTHS - 1, -1, -1):
        month = this_month.shift(-offset)
        for borrower_id, loan in _owed_loans(ids, month).items():
            rng = random.Random(SEED * 1_000_003 + borrower_id * 100 + offset)
            share = NOT_YET_SHARE if month == this_month else MISSED_SHARE
            skip = (
                rng.random() < share
                or (month == red_month and borrower_id in dict(reds))
                or (offset <= 1 and _fell_behind(borrower_id))
            )
            if skip or _token(borrower_id, month) in existing:
                continue
            day = _visit_day(rng, month, loan, today)
            if day is None:
                continue
            signals = _signals(rng, loan, day, today, borrower_id in unseen)
            if _sign(by_id[borrower_id], loan, month, day, signals, rng, today) is not None:
                created += 1
    created += _red_warnings(reds, by_id, red_month, today)
    db.session.flush()
    return created


def _red_warnings(reds, by_id, month: Month, today: date) -> int:
    """Two red visits; the first one's warning is already acknowledged by the head."""
    created = 0
    for index, (borrower_id, loan) in enumerate(reds):
        token = _token(borrower_id, month)
        visit = db.session.scalar(sa.select(Visit).where(Visit.idempotency_token == token))
        if visit is None:
            rng = random.Random(SEED + borrower_id)
            day = _visit_day(rng, month, loan, today)
            if day is not None:
                visit = _sign(by_id[borrower_id], loan, month, day, RED_SIGNALS, rng, today)
                created += visit is not None
        if visit is not None and index == 0:
            _acknowledge(visit)
    return created


def _behind_all_month(loan: Loan, month: Month, last_day: date, today: date) -> bool:
    return _overdue_on(loan, month.first_day, today) and _overdue_on(loan, last_day, today)


def _acknowledge(visit: Visit) -> None:
    warning = db.session.scalar(sa.select(VisitWarning).where(VisitWarning.visit_id == visit.id))
    head = db.session.scalar(
        sa.select(User).where(User.role == Role.HEAD, User.branch_id == visit.branch_id).limit(1)
    )
    if warning is not None and warning.is_open and head is not None:
        operations.acknowledge_warning(warning, head, ACKNOWLEDGED_ACTION)
