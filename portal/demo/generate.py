"""``flask demo generate``: a company at scale, for the benchmarks.

Bulk inserts through SQLAlchemy Core in batches, with ids assigned here so no row
has to be read back. The same seed gives the same database. Shape (docs/product.md,
"Scale and speed budgets"): 200 borrowers per officer, 25 officers per branch, one 24-month loan
per borrower disbursed over the last months+24 months, a signed visit in 93% of
the months a loan owes one, and a few of those visits amended (as in real use:
``amends_id`` is NULL on nearly every row, which is what the planners' statistics
then say).

Repayments tell a story the visits saw coming, mostly (portal/demo/repaying.py): every
loan has its schedule (the three methods) and the payments made up to today, split by
``allocate`` as the portal splits them, each instalment with the day it was settled, the
loan's figures as its schedule gives them (on its closing day once closed). Most
borrowers pay on time; WARNED_TROUBLE of them fall behind after visits that saw
hardship coming in the weeks before (yellow, orange, now and then red), SILENT_TROUBLE
with every visit before green; SCARE show warning signs for a while and pay on all the
same. Once an instalment is late, the visits say so (orange or red). Of those who fall
behind some catch up, the others never pay again and are written off, some of those
loans closed since. A loan paid off is closed the day its last instalment was settled.

Visit evidence (docs/visit-evidence.md) at a realistic rate: the visits of the last
PHOTO_MONTHS months carry two to four photos each (tiny stand-in images with random
perceptual hashes, so the reuse search's band indexes hold as many rows as a year of
use), about one visit in fourteen carries flags (FLAG_MIX; their figures are drawn,
not worked out from the row), and most flagged visits of past months were checked by
the head. The evidence has its own random stream, so the rest of the company is the
same as without it.
"""

import hashlib
import io
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace

import sqlalchemy as sa
from flask import current_app
from PIL import Image, ImageDraw

from portal.accounts.models import Role, User
from portal.accounts.passwords import hash_password
from portal.borrowers.models import Borrower, OfficerAssignment
from portal.branches.models import Branch
from portal.care.sending import send_due
from portal.core.calendar import company_tz, deadline_after
from portal.demo.borrowers import borrower_fields, number_indexes
from portal.demo.people import PeopleGenerator
from portal.demo.repaying import Habit, Trouble, payments
from portal.evidence.models import ReviewAction, VisitFlag, VisitReview
from portal.extensions import db
from portal.loans.models import Loan, LoanInstalment, LoanStatus, Repayment, RepaymentStatus
from portal.loans.repayments import ZERO, Due, allocate
from portal.loans.schedule import RepaymentMethod, schedule
from portal.privacy.consents import TEXT_VERSION
from portal.privacy.models import Consent, ConsentEvent, ConsentMethod, Purpose
from portal.reports import warnings as warning_outcomes
from portal.services.models import ServiceKind, ServiceRequest
from portal.visits import counts
from portal.visits.models import Visit, VisitPhoto, VisitSignature, VisitWarning
from portal.visits.photos import BAND_COLUMNS, bands, photo_digest
from portal.visits.risk import RiskLevel, RiskSignal, assess
from portal.visits.signing import GENESIS, content_hash

BORROWERS_PER_OFFICER = 200
OFFICERS_PER_BRANCH = 25
LOAN_TERM_MONTHS = 24
ANNUAL_RATE_PERCENT = Decimal("8.50")
METHODS = [  # (weight, method)
    (55, RepaymentMethod.EQUAL_INSTALMENTS),
    (25, RepaymentMethod.EQUAL_PRINCIPAL),
    (20, RepaymentMethod.INTEREST_ONLY),
]
# The repayment story (portal/demo/repaying.py), as shares of the borrowers.
WARNED_TROUBLE = 0.075  # fall behind after visits that saw it coming
SILENT_TROUBLE = 0.02  # fall behind with every visit before green
SCARE = 0.08  # warning signs for a while, and nothing comes of them
SLIP = 0.08  # of the others: one instalment paid a few days late
EARLY = 0.15  # of the others: pay a day or two before the due date
NEVER_CAUGHT_UP = 0.35  # of those in trouble: never pay again, written off
CAUGHT_UP_DAYS = (12, 150)  # the others pay their arrears this long after the first missed
WRITE_OFF_DAYS = (180, 240)  # after the first instalment missed
CLOSED_AFTER_WRITE_OFF_DAYS = (20, 90)
WARNING_DAYS = (35, 75)  # how long before the first instalment missed the visits see trouble
UNSEEN_WARNING = 0.3  # a visit in that time that still sees nothing
VISIT_RATE = 0.93
AMEND_RATE = 0.002  # about one visit in 500 is corrected by a signed amendment
REQUEST_WINDOW = timedelta(days=45)  # needs from recent visits still wait in the queue
BATCH = 5000
# The schedules and payments are most of the rows: PostgreSQL takes them by COPY, several
# times faster than one INSERT a row.
COPIED = (LoanInstalment, Repayment)
S = RiskSignal
# What a visit finds, as (weight, signals): most find nothing wrong; before trouble,
# hardship shows; while an instalment is late, the visit says so.
USUAL_SIGNALS = [
    (940, ()),
    (30, (S.MARKET_COLLAPSE,)),
    (10, (S.FAMILY_ILLNESS,)),
    (10, (S.FAMILY_ILLNESS, S.NATURAL_DISASTER)),
    (10, (S.NEW_LARGE_DEBTS,)),
]
WARNING_SIGNALS = [
    (25, (S.MARKET_COLLAPSE,)),
    (10, (S.GUARANTOR_PROBLEM,)),
    (20, (S.FAMILY_ILLNESS, S.NATURAL_DISASTER)),
    (20, (S.NEW_LARGE_DEBTS,)),
    (8, (S.DISPUTE_LAWSUIT,)),
    (10, (S.BUSINESS_SUSPENDED, S.NEW_LARGE_DEBTS)),
    (7, (S.FUNDS_DIVERTED, S.NEW_LARGE_DEBTS)),
]
LATE_SIGNALS = [
    (55, (S.REPAYMENT_OVERDUE,)),
    (10, (S.REPAYMENT_OVERDUE, S.FAMILY_ILLNESS)),
    (20, (S.REPAYMENT_OVERDUE, S.BUSINESS_SUSPENDED)),
    (15, (S.REPAYMENT_OVERDUE, S.NEW_LARGE_DEBTS)),
]
NEEDS = ["financial_training", "technique_training", "marketing_training", "legal_services"]
# Visit evidence: photos on the visits of the last PHOTO_MONTHS months, PHOTO_COUNTS of
# them a visit; FLAG_RATE of the visits flagged, once or (FLAG_TWICE of those) twice.
PHOTO_MONTHS = 6
PHOTO_COUNTS = (2, 3, 3, 4)
PHOTO_KINDS = ("business", "stock", "collateral", "guarantor")
FLAG_RATE = 0.07
FLAG_TWICE = 0.15
FLAG_MIX = [  # (weight, code): positions and times more often than copies
    (25, "no_fix"),
    (20, "far_from_site"),
    (15, "text_reused"),
    (12, "quick_signing"),
    (12, "outside_hours"),
    (6, "photo_reused"),
    (4, "old_photo"),
    (4, "impossible_travel"),
    (2, "signature_reused"),
]
# The head's checks of a flagged visit by then: (weight, actions), past months / this month.
CHECKED_PAST = [(75, ("confirmed",)), (8, ("asked",)), (5, ("asked", "answered")), (12, ())]
CHECKED_RECENT = [(25, ("confirmed",)), (10, ("asked",)), (65, ())]


@dataclass(frozen=True)
class Shape:
    """How many of everything a generated company has."""

    borrowers: int
    months: int
    today: date
    # Smaller than docs/product.md's for a test that wants twenty branches from a few hundred.
    per_officer: int = BORROWERS_PER_OFFICER
    per_branch: int = OFFICERS_PER_BRANCH

    @property
    def officers(self) -> int:
        return max(1, -(-self.borrowers // self.per_officer))

    @property
    def branches(self) -> int:
        return max(1, -(-self.officers // self.per_branch))


@dataclass(frozen=True)
class Course:
    """What the visits of one loan find: when an instalment was late, and whether trouble
    showed beforehand."""

    late: tuple[tuple[date, date | None], ...] = ()  # (due, settled) of those paid late
    warning: tuple[date, date] | None = None  # visits from the first day to before the second
    calm_until: date | None = None  # visits before this day find nothing (trouble unseen)

    def late_on(self, day: date) -> bool:
        """An instalment was late on ``day`` (docs/lifecycle.md)."""
        return any(due < day and (settled is None or settled > day) for due, settled in self.late)

    def warned_on(self, day: date) -> bool:
        return self.warning is not None and self.warning[0] <= day < self.warning[1]


def _weighted(mix: list[tuple[int, tuple]]) -> tuple[list, list]:
    """The choices of a (weight, choice) mix and their cumulative weights."""
    total, cumulative = 0, []
    for weight, _ in mix:
        total += weight
        cumulative.append(total)
    return [choice for _, choice in mix], cumulative


def _month_start(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _add_months(day: date, months: int) -> date:
    start = _month_start(day, -months)
    return start.replace(day=min(day.day, 28))


def _signature_png() -> bytes:
    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    ImageDraw.Draw(image).line(
        [(20, 70), (80, 30), (140, 75), (210, 25), (280, 60)], fill="black", width=4
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _tiny_jpeg() -> bytes:
    """The stand-in for every generated photo: 8x8 pixels (the search reads only the hashes)."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (120, 140, 90)).save(buffer, format="JPEG", quality=50)
    return buffer.getvalue()


def _insert(model, rows: list[dict]) -> None:
    if rows and model in COPIED and db.engine.dialect.name == "postgresql":
        _copy(model.__table__, rows)
        return
    for start in range(0, len(rows), BATCH):
        db.session.execute(sa.insert(model.__table__), rows[start : start + BATCH])


def _copy(table: sa.Table, rows: list[dict]) -> None:
    """``rows`` into ``table`` by PostgreSQL's COPY (its text format), each value bound as
    its column binds it."""
    names = list(rows[0])
    binds = [table.c[name].type.bind_processor(db.engine.dialect) for name in names]
    lines = []
    for row in rows:
        values = (row[name] for name in names)
        bound = (bind(v) if bind else v for v, bind in zip(values, binds, strict=True))
        lines.append("\t".join(_copy_text(value) for value in bound))
    cursor = db.session.connection().connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        copy.write("\n".join(lines) + "\n")


def _copy_text(value) -> str:
    """A value as COPY's text format writes it: dates, numbers and plain words."""
    if value is None:
        return "\\N"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _next_id(model) -> int:
    return (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1


class Generator:
    """Builds the rows of one company; ``run`` writes them."""

    def __init__(self, shape: Shape, seed: int):
        self.shape = shape
        self.rng = random.Random(seed)
        self.people = PeopleGenerator(seed, shape.today)
        self.zone = company_tz()
        self.signature = _signature_png()
        self.signature_sha256 = hashlib.sha256(self.signature).hexdigest()
        # Each borrower's newest record hash: every visit signs the one before (the chain).
        self.chain: dict[int, str] = {}
        # Visit evidence, from a stream of its own (the company stays the same without it).
        self.evidence = random.Random(seed + 1)
        self.jpeg = _tiny_jpeg()
        self.photo_sha256 = photo_digest(self.jpeg, self.jpeg)
        self.photos_since = datetime.combine(
            _month_start(shape.today, PHOTO_MONTHS - 1), time(0), tzinfo=self.zone
        )
        self.this_month = datetime.combine(_month_start(shape.today, 0), time(0), tzinfo=self.zone)
        self.pending_photos: dict[int, list[dict]] = {}
        self.heads: dict[int, int] = {}  # branch id → its head's user id
        self.added_photos: list[dict] = []  # the photos of the visit added last
        self.last_photo: dict | None = None
        self.officer_last_visit: dict[int, int] = {}
        self.photo_id = 0
        self.now = datetime.now(UTC)
        self.methods = _weighted(METHODS)
        self.usual_signals = _weighted(USUAL_SIGNALS)
        self.warning_signals = _weighted(WARNING_SIGNALS)
        self.late_signals = _weighted(LATE_SIGNALS)
        self.response_days = dict(
            db.session.execute(sa.select(ServiceKind.code, ServiceKind.response_days)).all()
        )

    def staff(self) -> tuple[list[int], dict[int, int]]:
        """Branches, heads and officers; returns officer ids and each one's branch."""
        branch_id, user_id = _next_id(Branch), _next_id(User)
        password = hash_password(current_app.config["DEMO_PASSWORD"])
        branches, users, officers, branch_of = [], [], [], {}
        for b in range(self.shape.branches):
            code = f"G{b + 1:02d}"
            branches.append(
                {
                    "id": branch_id + b,
                    "code": code,
                    "name": f"第{b + 1}网点",
                    "region": f"地区{b // 5 + 1}",
                    "address": "",
                    "phone": "",
                    "active": True,
                    "created_at": self.now,
                }
            )
            users.append(
                self._user(user_id, f"head-{code.lower()}", Role.HEAD, branch_id + b, password)
            )
            self.heads[branch_id + b] = user_id
            user_id += 1
        for o in range(self.shape.officers):
            branch = branch_id + o // self.shape.per_branch
            users.append(
                self._user(user_id, f"officer-{o + 1:04d}", Role.OFFICER, branch, password)
            )
            officers.append(user_id)
            branch_of[user_id] = branch
            user_id += 1
        _insert(Branch, branches)
        _insert(User, users)
        return officers, branch_of

    def _user(self, user_id, username, role, branch_id, password) -> dict:
        return {
            "id": user_id,
            "username": username,
            "display_name": username,
            "password_hash": password,
            "role": role.value,
            "branch_id": branch_id,
            "locale": "zh",
            "active": True,
            "must_change_password": False,
            "created_at": self.now,
        }

    def disbursed_on(self) -> date:
        """Some day over the last months+term, not after today."""
        today = self.shape.today
        back = self.rng.randrange(self.shape.months + LOAN_TERM_MONTHS)
        days = self.rng.randrange(28 if back else min(28, today.day))
        return _month_start(today, back) + timedelta(days=days)

    def borrowers(self, officers: list[int], branch_of: dict[int, int]) -> None:
        """Borrowers, their loans and visits, written in chunks to bound memory."""
        borrower_id, loan_id, visit_id = _next_id(Borrower), _next_id(Loan), _next_id(Visit)
        self.photo_id = _next_id(VisitPhoto)
        for start in range(0, self.shape.borrowers, BATCH):
            rows = {
                "borrowers": [],
                "assignments": [],
                "consents": [],
                "consent_events": [],
                "loans": [],
                "visits": [],
                "signatures": [],
                "photos": [],
                "flags": [],
                "reviews": [],
                "warnings": [],
                "requests": [],
                "instalments": [],
                "repayments": [],
            }
            for index in range(start, min(start + BATCH, self.shape.borrowers)):
                officer = officers[index % len(officers)]
                person = self.people.person(index)
                rows["borrowers"].append(
                    {
                        "id": borrower_id,
                        "branch_id": branch_of[officer],
                        "officer_id": officer,
                        "user_id": None,
                        "tier": "general",
                        "created_at": self.now,
                        "birthday_calendar": "gregorian",
                        "version": 1,
                        **_plain(borrower_fields(person)),
                        **number_indexes(person),
                    }
                )
                for purpose in Purpose:
                    consent = {
                        "borrower_id": borrower_id,
                        "purpose": purpose.value,
                        "given": True,
                        "text_version": TEXT_VERSION,
                        "method": ConsentMethod.PAPER.value,
                        "decided_at": self.now,
                        "decided_by_id": officer,
                    }
                    rows["consents"].append(consent)
                    rows["consent_events"].append(consent)
                rows["assignments"].append(
                    {
                        "borrower_id": borrower_id,
                        "officer_id": officer,
                        "started_at": self.now,
                        "reason": "",
                    }
                )
                loan, course = self._loan(rows, loan_id, borrower_id, branch_of[officer], officer)
                rows["loans"].append(loan)
                visit_id = self._visits(rows, loan, course, officer, visit_id)
                borrower_id, loan_id = borrower_id + 1, loan_id + 1
            for model, key in (
                (Borrower, "borrowers"),
                (OfficerAssignment, "assignments"),
                (Consent, "consents"),
                (ConsentEvent, "consent_events"),
                (Loan, "loans"),
                (LoanInstalment, "instalments"),
                (Repayment, "repayments"),
                (Visit, "visits"),
                (VisitSignature, "signatures"),
                (VisitPhoto, "photos"),
                (VisitFlag, "flags"),
                (VisitReview, "reviews"),
                (VisitWarning, "warnings"),
                (ServiceRequest, "requests"),
            ):
                _insert(model, rows[key])
            db.session.commit()

    def _loan(
        self, rows: dict, loan_id: int, borrower_id: int, branch_id: int, officer: int
    ) -> tuple[dict, Course]:
        """The loan, its schedule and its payments up to today (into ``rows``), and what
        its visits will find."""
        disbursed = self.disbursed_on()
        amount = Decimal(self.rng.choice([20000, 30000, 50000, 80000, 100000, 150000]))
        method = self.rng.choices(self.methods[0], cum_weights=self.methods[1])[0]
        instalments = schedule(amount, ANNUAL_RATE_PERCENT, LOAN_TERM_MONTHS, method, disbursed)
        dues = [Due(i.number, i.due_on, i.principal, i.interest) for i in instalments]
        habit, course = self._habit(disbursed, dues)
        paid = payments(dues, habit, self.shape.today)
        allocation = allocate(dues, paid)
        written_off, closed = self._ending(dues, habit, allocation)
        rows["instalments"] += [
            {
                "loan_id": loan_id,
                "number": i.number,
                "due_on": i.due_on,
                "principal": i.principal,
                "interest": i.interest,
                "balance_after": i.balance_after,
                "settled_on": allocation.settled_on[i.number],
            }
            for i in instalments
        ]
        rows["repayments"] += self._repayments(loan_id, officer, paid, allocation)
        loan = {
            "id": loan_id,
            "borrower_id": borrower_id,
            "branch_id": branch_id,
            "status": (LoanStatus.CLOSED if closed else LoanStatus.ACTIVE).value,
            "amount_requested": amount,
            "term_months_requested": LOAN_TERM_MONTHS,
            "purpose": "扩大经营",
            "annual_rate_percent": ANNUAL_RATE_PERCENT,
            "applied_on": disbursed - timedelta(days=20),
            "decision_date": disbursed - timedelta(days=14),
            "decided_by_id": self.heads[branch_id],
            "approved_amount": amount,
            "approved_term_months": LOAN_TERM_MONTHS,
            "decision_note": "",
            "repayment_method": method.value,
            "contract_number": f"G-{loan_id:08d}",
            "contract_signed_on": disbursed - timedelta(days=3),
            "disbursed_on": disbursed,
            "disbursement_recorded_by_id": officer,
            "disbursement_confirmed_by_id": self.heads[branch_id],
            "closed_on": closed,
            "written_off": written_off is not None,
            "written_off_on": written_off,
            "created_at": self.now,
            "version": 1,
            **_figures(amount, dues, paid, allocation, closed or self.shape.today),
        }
        return loan, Course(_ever_late(dues, allocation, self.shape.today), *course)

    def _ending(self, dues: list[Due], habit: Habit, allocation) -> tuple[date | None, date | None]:
        """The write-off's day (a borrower who never paid again) and the closing day: the
        day the last instalment was settled, or some time after a write-off."""
        trouble = habit.trouble
        if trouble is None or trouble.caught_up_after is not None:
            return None, allocation.settled_on[LOAN_TERM_MONTHS]
        written_off = self._after(dues[trouble.first - 1].due_on, WRITE_OFF_DAYS)
        return written_off, written_off and self._after(written_off, CLOSED_AFTER_WRITE_OFF_DAYS)

    def _repayments(self, loan_id: int, officer: int, paid: list, allocation) -> list[dict]:
        """The payments as the officer recorded them, each with its split."""
        rows = []
        for (day, amount), (principal, interest) in zip(paid, allocation.splits, strict=True):
            recorded = datetime.combine(day, time(10), self.zone)
            rows.append(
                {
                    "loan_id": loan_id,
                    "paid_on": day,
                    "amount": amount,
                    "principal": principal,
                    "interest": interest,
                    "source": "officer",
                    "reference": None,
                    "recorded_by_id": officer,
                    "recorded_at": min(recorded, self.now),
                }
            )
        return rows

    def _after(self, day: date, days: tuple[int, int]) -> date | None:
        """Some ``days`` after ``day``, or None when that is still to come."""
        later = day + timedelta(days=self.rng.randint(*days))
        return later if later <= self.shape.today else None

    def _habit(self, disbursed: date, dues: list[Due]) -> tuple[Habit, tuple]:
        """How the borrower pays, and when the visits see trouble coming (warning days,
        or the day up to which they see nothing)."""
        rng, draw = self.rng, self.rng.random()
        if draw < WARNED_TROUBLE + SILENT_TROUBLE:
            first = rng.randint(2, LOAN_TERM_MONTHS)
            caught_up = None if rng.random() < NEVER_CAUGHT_UP else rng.randint(*CAUGHT_UP_DAYS)
            trouble = Trouble(first, caught_up, partial=rng.random() < 0.3)
            falls_due = dues[first - 1].due_on
            if draw < WARNED_TROUBLE:
                since = falls_due - timedelta(days=rng.randint(*WARNING_DAYS))
                return Habit(trouble=trouble), ((since, falls_due), None)
            return Habit(trouble=trouble), (None, falls_due)
        if draw < WARNED_TROUBLE + SILENT_TROUBLE + SCARE:
            since = disbursed + timedelta(days=rng.randint(30, 30 * LOAN_TERM_MONTHS - 60))
            return Habit(), ((since, since + timedelta(days=60)), None)
        early = rng.choice((1, 2)) if rng.random() < EARLY else 0
        slip = None
        if rng.random() < SLIP:
            slip = (rng.randint(1, LOAN_TERM_MONTHS), rng.randint(2, 20))
        return Habit(early_days=early, slip=slip), (None, None)

    def _visits(self, rows: dict, loan: dict, course: Course, officer: int, visit_id: int) -> int:
        for back in range(self.shape.months - 1, -1, -1):
            month = _month_start(self.shape.today, back)
            if not self._owes(loan, month) or self.rng.random() > VISIT_RATE:
                continue
            day = month + timedelta(days=self.rng.randrange(28))
            visited = self._visit_time(day)
            if visited is None:
                continue
            visit = self._visit(visit_id, loan, officer, visited, self._signals(course, day))
            self._add_visit(rows, visit)
            self._flag(rows, visit)
            if visit["services_needed"] and self.now - visited < REQUEST_WINDOW:
                rows["requests"].append(self._request(visit))
            visit_id += 1
            corrected_at = visit["signed_at"] + timedelta(hours=2)
            if self.rng.random() < AMEND_RATE and corrected_at < self.now:
                self._add_visit(rows, self._amendment(visit, visit_id, corrected_at))
                visit_id += 1
        return visit_id

    def _add_visit(self, rows: dict, visit: dict) -> None:
        rows["visits"].append(visit)
        rows["signatures"].append({"visit_id": visit["id"], "png": self.signature})
        self.added_photos = self.pending_photos.pop(visit["id"], [])
        rows["photos"].extend(self.added_photos)
        if visit["risk_level"] == RiskLevel.RED.value:
            rows["warnings"].append(
                {
                    "visit_id": visit["id"],
                    "branch_id": visit["branch_id"],
                    "raised_at": visit["signed_at"],
                    "action_taken": "",
                }
            )

    def _amendment(self, original: dict, visit_id: int, signed_at: datetime) -> dict:
        """A signed correction of ``original``: same month, signed again a little later."""
        row = original | {
            "id": visit_id,
            "amends_id": original["id"],
            "idempotency_token": f"gen-{visit_id}",
            "officer_observations": original["officer_observations"] + "（更正：补充记录）",
            "satisfaction": self.rng.choice([3, 4, 5]),
            "signed_at": signed_at,
            "received_at": signed_at,
        }
        return self._signed(row)

    @staticmethod
    def _owes(loan: dict, month: date) -> bool:
        reference = _add_months(month, 1) - timedelta(days=1)
        closed = loan["closed_on"]
        return loan["disbursed_on"] <= reference and (closed is None or closed > reference)

    def _visit_time(self, day: date) -> datetime | None:
        local = datetime.combine(
            day, time(self.rng.randrange(8, 18), self.rng.randrange(60)), tzinfo=self.zone
        )
        moment = local.astimezone(UTC)
        return moment if moment < self.now else None

    def _signals(self, course: Course, day: date) -> tuple:
        """What a visit on ``day`` finds: lateness, else trouble coming, else mostly nothing."""
        if course.late_on(day):
            mix = self.late_signals
        elif course.calm_until is not None and day < course.calm_until:
            return ()
        elif course.warned_on(day) and self.rng.random() >= UNSEEN_WARNING:
            mix = self.warning_signals
        else:
            mix = self.usual_signals
        return self.rng.choices(mix[0], cum_weights=mix[1])[0]

    def _visit(
        self, visit_id: int, loan: dict, officer: int, visited: datetime, signals: tuple
    ) -> dict:
        assessment = assess(signals)
        overdue = RiskSignal.REPAYMENT_OVERDUE in signals
        suspended = RiskSignal.BUSINESS_SUSPENDED in signals
        row = {
            "id": visit_id,
            "borrower_id": loan["borrower_id"],
            "loan_id": loan["id"],
            "officer_id": officer,
            "branch_id": loan["branch_id"],
            "amends_id": None,
            "idempotency_token": f"gen-{visit_id}",
            "visited_at": visited,
            "place": "借款人经营场所",
            "latitude": None,
            "longitude": None,
            "accuracy_m": None,
            "business_state": "suspended" if suspended else "normal",
            "revenue_trend": "falling" if signals else "stable",
            "funds_use": "diverted" if RiskSignal.FUNDS_DIVERTED in signals else "as_contracted",
            "repayment_status": "overdue" if overdue else "on_time",
            "guarantor_status": "problem" if RiskSignal.GUARANTOR_PROBLEM in signals else "normal",
            "collateral_status": "intact",
            "household_changes": "",
            "risk_signals": [str(s) for s in assessment.signals],
            "officer_observations": _observations(signals),
            "borrower_opinions": "",
            "services_other": "",
            "services_needed": [self.rng.choice(NEEDS)] if self.rng.random() < 0.05 else [],
            "satisfaction": self.rng.choices([3, 4, 5], weights=[1, 3, 6])[0],
            "risk_level": assessment.level.value,
            "risk_reason": assessment.reason,
            "signed_at": visited + timedelta(minutes=25),
            "opened_at": visited,
            "opened_at_server": visited,
            "signed_at_device": visited + timedelta(minutes=25),
            "received_at": visited + timedelta(minutes=25),
            "location_status": None,
            "place_note": "",
        }
        if visited >= self.photos_since:
            self.pending_photos[visit_id] = self._photos(visit_id, visited)
        return self._signed(row)

    def _signed(self, row: dict) -> dict:
        """``row`` sealed as the newest record of its borrower's chain, with its photos."""
        row["previous_hash"] = self.chain.get(row["borrower_id"], GENESIS)
        row["signature_sha256"] = self.signature_sha256
        photos = [(p["kind"], p["sha256"]) for p in self.pending_photos.get(row["id"], [])]
        row["content_hash"] = content_hash(SimpleNamespace(**row), self.signature, photos=photos)
        self.chain[row["borrower_id"]] = row["content_hash"]
        return row

    # --- Visit evidence ------------------------------------------------------------------

    def _photos(self, visit_id: int, visited: datetime) -> list[dict]:
        """The visit's photos: stand-in images, each with a random 64-bit perceptual hash."""
        rng = self.evidence
        photos = []
        for position in range(rng.choice(PHOTO_COUNTS)):
            phash = f"{rng.getrandbits(64):016x}"
            photos.append(
                {
                    "id": self.photo_id,
                    "visit_id": visit_id,
                    "position": position,
                    "kind": PHOTO_KINDS[position],
                    "sha256": self.photo_sha256,
                    "width": 8,
                    "height": 8,
                    "taken_at": visited + timedelta(minutes=position + 1),
                    "latitude": None,
                    "longitude": None,
                    "phash": phash,
                    **dict(zip(BAND_COLUMNS, bands(phash), strict=True)),
                    "jpeg": self.jpeg,
                    "thumb_jpeg": self.jpeg,
                }
            )
            self.photo_id += 1
        return photos

    def _flag(self, rows: dict, visit: dict) -> None:
        """Flags on about one visit in fourteen, and the head's checks of them."""
        rng = self.evidence
        officer = visit["officer_id"]
        earlier = self.officer_last_visit.get(officer)
        self.officer_last_visit[officer] = visit["id"]
        photos = self.added_photos
        if rng.random() >= FLAG_RATE:
            if photos:
                self.last_photo = photos[0]
            return
        weights, codes = zip(*FLAG_MIX, strict=True)
        count = 2 if rng.random() < FLAG_TWICE else 1
        chosen = dict.fromkeys(rng.choices(codes, weights=weights, k=count))
        details = [(code, self._detail(code, visit, earlier, photos)) for code in chosen]
        for code, detail in details:
            if detail is None:
                continue
            rows["flags"].append(
                {
                    "visit_id": visit["id"],
                    "branch_id": visit["branch_id"],
                    "officer_id": officer,
                    "visited_at": visit["visited_at"],
                    "code": code,
                    "detail": detail,
                    "raised_at": visit["received_at"],
                }
            )
        if any(detail is not None for _, detail in details):
            self._checks(rows, visit)
        if photos:
            self.last_photo = photos[0]

    def _detail(self, code: str, visit: dict, earlier: int | None, photos: list) -> dict | None:
        """The figures of one flag (None when this visit cannot carry it)."""
        rng = self.evidence
        other = earlier or visit["id"]
        if code == "no_fix":
            return {"location_status": rng.choice(["denied", "unavailable", "timeout"])}
        if code == "far_from_site":
            return {
                "distance_m": rng.randint(1200, 15000),
                "accuracy_m": rng.randint(5, 60),
                "site": "visits",
            }
        if code == "text_reused":
            return {"other_visit_id": other, "similarity": round(rng.uniform(0.9, 1.0), 3)}
        if code == "quick_signing":
            return {"seconds": rng.randint(15, 170)}
        if code == "outside_hours":
            return {
                "local_time": f"{rng.choice([5, 6, 20, 21, 22, 23]):02d}:{rng.randrange(60):02d}"
            }
        if code == "impossible_travel":
            distance, minutes = rng.randint(6000, 40000), rng.randint(5, 40)
            return {
                "other_visit_id": other,
                "distance_m": distance,
                "minutes": minutes,
                "speed_kmh": round(distance / 1000 / (minutes / 60)),
            }
        if code == "signature_reused":
            return {"other_visit_id": other}
        if not photos:
            return None
        if code == "photo_reused":
            if self.last_photo is None:
                return None
            return {
                "photo_id": photos[0]["id"],
                "other_photo_id": self.last_photo["id"],
                "other_visit_id": self.last_photo["visit_id"],
                "bits": rng.randint(0, 8),
            }
        days = rng.randint(31, 400)
        return {
            "photo_id": photos[-1]["id"],
            "taken_at": (visit["visited_at"] - timedelta(days=days)).isoformat(),
            "days": days,
        }

    def _checks(self, rows: dict, visit: dict) -> None:
        """What the branch head did about a flagged visit by now (the newest is its state)."""
        rng = self.evidence
        recent = visit["visited_at"] >= self.this_month
        mix = CHECKED_RECENT if recent else CHECKED_PAST
        actions = rng.choices([a for _, a in mix], weights=[w for w, _ in mix])[0]
        when = visit["received_at"]
        for action in actions:
            when = min(when + timedelta(days=rng.randint(1, 5)), self.now)
            rows["reviews"].append(
                {
                    "visit_id": visit["id"],
                    "branch_id": visit["branch_id"],
                    "action": action,
                    "note": "已核实" if action == ReviewAction.CONFIRMED else "请说明情况",
                    # The head of the branch checks; the officer answers.
                    "reviewed_by_id": visit["officer_id"]
                    if action == ReviewAction.ANSWERED
                    else self.heads[visit["branch_id"]],
                    "reviewed_at": when,
                }
            )

    def _request(self, visit: dict) -> dict:
        """The request a need ticked on ``visit`` opened, still waiting for an answer."""
        kind = visit["services_needed"][0]
        return {
            "borrower_id": visit["borrower_id"],
            "branch_id": visit["branch_id"],
            "kind_code": kind,
            "description": "回访时提出的需要",
            "preferred_time": "",
            "source": "visit",
            "source_visit_id": visit["id"],
            "source_visit_root_id": visit["id"],
            "status": "submitted",
            "submitted_at": visit["signed_at"],
            "respond_by": deadline_after(visit["signed_at"], self.response_days[kind]),
            "created_by_id": visit["officer_id"],
            "completion_notes": "",
            "rating_comment": "",
        }


def _figures(amount: Decimal, dues: list[Due], paid: list, allocation, as_of: date) -> dict:
    """The loan's stored figures as its schedule and payments give them on ``as_of``."""
    settled = allocation.settled_on
    late = [
        due.due_on
        for due in dues
        if due.due_on < as_of and (settled[due.number] is None or settled[due.number] > as_of)
    ]
    splits = zip(paid, allocation.splits, strict=True)
    repaid = sum((principal for (day, _), (principal, _) in splits if day <= as_of), ZERO)
    return {
        "outstanding_balance": amount - repaid,
        "overdue_days": (as_of - late[0]).days if late else 0,
        "repayment_status": (RepaymentStatus.OVERDUE if late else RepaymentStatus.ON_TIME).value,
    }


def _ever_late(dues: list[Due], allocation, today: date) -> tuple:
    """(due, settled) of each instalment late on some day up to today."""
    settled = allocation.settled_on
    return tuple(
        (due.due_on, settled[due.number])
        for due in dues
        if due.due_on < today and (settled[due.number] is None or settled[due.number] > due.due_on)
    )


def _observations(signals: tuple) -> str:
    if RiskSignal.REPAYMENT_OVERDUE in signals:
        return "本期还款逾期，已催收。"
    return "需持续关注。" if signals else "经营正常，按合同用款。"


def _plain(fields: dict) -> dict:
    """Enum members as their stored strings, for Core inserts."""
    return {key: getattr(value, "value", value) for key, value in fields.items()}


def reset_sequences() -> None:
    """PostgreSQL's id sequences must continue after the ids we chose."""
    if db.engine.dialect.name != "postgresql":
        return
    for model in (
        Branch,
        User,
        Borrower,
        OfficerAssignment,
        Loan,
        Visit,
        VisitPhoto,
        VisitFlag,
        VisitReview,
        VisitWarning,
        ServiceRequest,
    ):
        table = model.__tablename__
        db.session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - our names
                f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
            )
        )


def analyze() -> None:
    """Fresh statistics, or the planners guess at tables that grew a million rows.

    PostgreSQL also vacuums, as autovacuum soon would after a bulk load: index-only
    scans need the visibility map it writes.
    """
    if db.engine.dialect.name != "postgresql":
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")


def generate(
    borrowers: int,
    months: int,
    seed: int,
    today: date | None = None,
    per_officer: int = BORROWERS_PER_OFFICER,
    per_branch: int = OFFICERS_PER_BRANCH,
) -> Shape:
    """Fill the database with a company of ``borrowers`` and ``months`` of visits."""
    shape = Shape(
        borrowers,
        months,
        today or datetime.now(company_tz()).date(),
        per_officer,
        per_branch,
    )
    generator = Generator(shape, seed)
    officers, branch_of = generator.staff()
    db.session.commit()
    generator.borrowers(officers, branch_of)
    reset_sequences()
    db.session.commit()
    # Inserted in bulk, past the session's hooks: the compliance counts from scratch.
    counts.rebuild()
    db.session.commit()
    # Statistics first: without them PostgreSQL plans the warnings' windows over the
    # freshly loaded visits and instalments as if they were empty (minutes, not seconds).
    analyze()
    warning_outcomes.rebuild()  # "Do the warnings work?" of the complete months, stored
    db.session.commit()
    send_due(shape.today)  # today's greetings, through the real daily job
    db.session.commit()
    return shape
