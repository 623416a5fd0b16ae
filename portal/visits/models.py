"""The signed follow-up visit, its signature, and the red-warning queue."""

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.core.calendar import last_day_before, local_date
from portal.database import UTCDateTime, enum_type, utcnow
from portal.extensions import db
from portal.loans.models import Loan
from portal.visits.questions import (  # noqa: F401 - the answers' vocabulary, imported from here
    BUSINESS_STATE_LABELS,
    COLLATERAL_STATUS_LABELS,
    FUNDS_USE_LABELS,
    GUARANTOR_STATUS_LABELS,
    QUESTIONS,
    REPAYMENT_STATE_LABELS,
    REVENUE_TREND_LABELS,
    SERVICE_NEED_LABELS,
    BusinessState,
    CollateralStatus,
    FundsUse,
    GuarantorStatus,
    RepaymentState,
    RevenueTrend,
    ServiceNeed,
)
from portal.visits.risk import RiskAssessment, RiskLevel, RiskSignal

# One column per declared question (portal/visits/questions.py), in a mixin.
AnswerColumns = type(
    "AnswerColumns",
    (),
    {
        "__doc__": "The answers of a visit: one column per question of the declaration.",
        **{question.name: question.column() for question in QUESTIONS},
    },
)


class Visit(AnswerColumns, db.Model):
    """One signed post-loan follow-up form (贷后跟踪调查表); frozen once written.

    Every row is signed when it is created (drafts live in the browser), and a
    guard in ``portal.visits.immutability`` refuses any later UPDATE or DELETE.
    A correction is a new row whose ``amends_id`` names the original.
    """

    __tablename__ = "visits"
    __table_args__ = (
        # The monthly rule asks "was this borrower visited in month M (an original,
        # not an amendment)" and "what was the latest risk"; tier suggestions count a
        # borrower's orange and red visits. The trailing columns answer all of it from
        # the index, without reading the (wide) visit rows.
        sa.Index(
            "ix_visits_borrower_visited", "borrower_id", "visited_at", "risk_level", "amends_id"
        ),
        sa.Index("ix_visits_officer_visited", "officer_id", "visited_at"),
        # Branch reports and satisfaction figures count a branch's visits of a period
        # by officer, risk level and satisfaction: from the index alone.
        sa.Index(
            "ix_visits_branch_figures",
            "branch_id",
            "visited_at",
            "officer_id",
            "risk_level",
            "satisfaction",
            "amends_id",
            "id",
        ),
        # Only the amendments, a few rows in a million: "is there a newer version of
        # this visit" is one probe of this index whatever the planner's statistics say.
        # A full index on amends_id was nearly all NULL, so with fresh statistics it
        # looked useless: SQLite read every later visit for each visit instead.
        sa.Index(
            "ix_visits_amendments",
            "amends_id",
            "id",
            sqlite_where=sa.text("amends_id IS NOT NULL"),
            postgresql_where=sa.text("amends_id IS NOT NULL"),
        ),
        # A borrower's records form one chain: no two follow the same record.
        sa.Index(
            "ix_visits_chain",
            "borrower_id",
            "previous_hash",
            unique=True,
            sqlite_where=sa.text("previous_hash IS NOT NULL"),
            postgresql_where=sa.text("previous_hash IS NOT NULL"),
        ),
        sa.CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id"))
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id"), index=True)
    officer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    # The borrower's branch when the visit was made, so branch reports need no join.
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branches.id"))
    amends_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visits.id"))
    # From a hidden form field: a form sent twice finds the first record.
    idempotency_token: Mapped[str] = mapped_column(sa.String(64), unique=True)

    visited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(sa.String(200))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    accuracy_m: Mapped[int | None]

    # The answers' columns come from AnswerColumns. ``risk_signals`` holds the codes of
    # the assessed signals (ticked plus implied by answers), most severe first.

    risk_level: Mapped[RiskLevel] = mapped_column(enum_type(RiskLevel, 8))
    # The stable code form, e.g. "red: repayment_overdue + business_suspended".
    risk_reason: Mapped[str] = mapped_column(sa.String(300))
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # The evidence of the visit (docs/visit-evidence.md); NULL on records signed before it.
    # When the form was opened: by the tablet's clock, and by the server's when it served
    # the form (online only).
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at_server: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The tablet's clock when the borrower signed; ``signed_at`` is the time the record
    # counts (the server's, or the tablet's when within bounds for the field kit).
    signed_at_device: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the server received the signed record.
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the tablet said of its position: "fix", "denied", "unavailable", "timeout",
    # "unsupported"; the officer's reason when the visit was not at the borrower's site.
    location_status: Mapped[str | None] = mapped_column(sa.String(16))
    place_note: Mapped[str | None] = mapped_column(sa.String(300))
    # The content hash of the borrower's previous signed record (the per-borrower chain);
    # GENESIS for the first record of a chain.
    previous_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # SHA-256 of the stored signature PNG, indexed: a copied signature image is found.
    signature_sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)

    borrower: Mapped[Borrower] = relationship()
    loan: Mapped[Loan] = relationship()
    officer: Mapped[User] = relationship()
    branch: Mapped[Branch] = relationship()
    amends: Mapped["Visit | None"] = relationship(remote_side=[id])
    # The photos signed with the record, in order (portal/visits/photos.py); read only:
    # they are stored once with the visit and never changed.
    photos: Mapped[list["VisitPhoto"]] = relationship(viewonly=True, order_by="VisitPhoto.position")
    # What the record signs of the photos the retention run erased (docs/privacy.md).
    erased_photos: Mapped[list["ErasedVisitPhoto"]] = relationship(
        viewonly=True, order_by="ErasedVisitPhoto.position"
    )

    @property
    def root_id(self) -> int:
        """The id of the original visit this record is, or amends."""
        return self.amends_id or self.id

    @property
    def assessment(self) -> RiskAssessment:
        return RiskAssessment(self.risk_level, tuple(RiskSignal(s) for s in self.risk_signals))

    def visible_to(self, user: User) -> bool:
        """Whoever sees the borrower sees the borrower's visits."""
        return self.borrower.visible_to(user)

    def can_amend(self, user: User) -> bool:
        """The borrower's officer and the branch head correct a visit by amending it."""
        return user.role in (Role.OFFICER, Role.HEAD) and self.visible_to(user)

    @staticmethod
    def visible_filter(user: User):
        """``visible_to`` as a WHERE clause; the query must join Borrower."""
        return Borrower.visible_filter(user)


def latest_version(visit=Visit):
    """WHERE clause: ``visit`` (the model or an alias of it) is the newest version of its original.

    An amendment replaces what it amends, a later amendment the earlier ones. Written
    so that the equality on ``amends_id`` lets both databases answer it from the
    partial index ``ix_visits_amendments`` (one probe per visit, docs/performance.md).
    """
    newer = aliased(Visit)
    return ~sa.exists().where(
        newer.amends_id == sa.func.coalesce(visit.amends_id, visit.id), newer.id > visit.id
    )


class VisitSignature(db.Model):
    """The borrower's drawn signature of one visit, as re-encoded PNG bytes.

    A table of its own, so that loading visits for a list never reads the image.
    """

    __tablename__ = "visit_signatures"

    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), primary_key=True)
    png: Mapped[bytes] = mapped_column(sa.LargeBinary)


class VisitWarning(db.Model):
    """A red visit waiting in the branch head's queue until someone records the action taken."""

    __tablename__ = "visit_warnings"
    __table_args__ = (
        # The menu badge counts the open warnings of one branch on every page.
        sa.Index("ix_visit_warnings_branch_open", "branch_id", "acknowledged_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), unique=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branches.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action_taken: Mapped[str] = mapped_column(sa.Text, default="")
    # The deadline to act and its escalation (docs/visits.md, "Warning deadlines"): set
    # from risk.py's WARNING_DEADLINES when raised; past ``act_by`` the branch head is
    # alerted, past ``admin_by`` the admin; each alert is stamped once.
    act_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    admin_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    head_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    admin_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    visit: Mapped[Visit] = relationship()
    acknowledged_by: Mapped[User | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    def is_late(self, now: datetime | None = None) -> bool:
        """Still open after its deadline to act."""
        return self.is_open and self.act_by is not None and self.act_by <= (now or utcnow())

    @property
    def last_day_to_act(self) -> date | None:
        """The deadline as pages show it: the last local day to record the action."""
        return last_day_before(self.act_by) if self.act_by else None

    @property
    def admin_day(self) -> date | None:
        """The local day from which the admin is alerted."""
        return local_date(self.admin_by) if self.admin_by else None

    @property
    def escalation_level(self) -> int:
        """0 in the queue; 1 the branch head was alerted; 2 the admin too."""
        return 2 if self.admin_alerted_at else 1 if self.head_alerted_at else 0

    def visible_to(self, user: User) -> bool:
        """The branch head of the visit's branch and admins."""
        return user.can_manage_branch(self.branch_id)


# What a visit's photo shows (the officer chooses one per photo), in the form's order.
PHOTO_KINDS = {
    "business": _l("The business"),
    "stock": _l("Stock or livestock"),
    "collateral": _l("The collateral"),
    "guarantor": _l("The guarantor"),
    "other": _l("Something else"),
}


class VisitPhoto(db.Model):
    """One photo of a signed visit, as the server re-encoded it (portal/visits/photos.py).

    Frozen like the visit: the record's hash signs its kind and digest. The perceptual
    hash is also kept split into four 16-bit bands, each indexed together with the
    hash, so "a photo like this one" is answered from the indexes alone. The images
    come last in the row and are deferred: lists and searches never read them.
    """

    __tablename__ = "visit_photos"
    __table_args__ = (
        sa.UniqueConstraint("visit_id", "position"),
        sa.CheckConstraint("position BETWEEN 0 AND 5", name="photo_position"),
        *(
            sa.Index(f"ix_visit_photos_band{band}", f"band{band}", "phash", "visit_id", "id")
            for band in range(4)
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"))
    position: Mapped[int]  # 0-5, the order on the form
    kind: Mapped[str] = mapped_column(sa.String(16))  # photos.PHOTO_KINDS
    # photos.photo_digest of the two stored images, as the record signs it.
    sha256: Mapped[str] = mapped_column(sa.String(64))
    width: Mapped[int]
    height: Mapped[int]
    # Facts read from the upload's EXIF before it was dropped; NULL when it had none.
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    phash: Mapped[str] = mapped_column(sa.String(16))  # 64-bit pHash, hex
    band0: Mapped[int]
    band1: Mapped[int]
    band2: Mapped[int]
    band3: Mapped[int]
    jpeg: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    thumb_jpeg: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)

    visit: Mapped[Visit] = relationship(viewonly=True)

    @property
    def kind_label(self) -> str:
        return str(PHOTO_KINDS.get(self.kind, self.kind))

    def visible_to(self, user: User) -> bool:
        """Whoever sees the visit sees its photos."""
        return self.visit.visible_to(user)


class ErasedVisitPhoto(db.Model):
    """What the signed record says of a photo whose images were deleted (docs/privacy.md).

    The retention run deletes the photos of a borrower who withdrew the consent to
    photos, or whose relationship ended (portal/retention/schedule.py). The record signs
    each photo as its kind and digest, so both are kept here, at the photo's position:
    the chain check (portal/visits/chain.py) takes the photo as erased, not missing,
    while a photo removed any other way still breaks the chain. Frozen like the visit.
    """

    __tablename__ = "erased_visit_photos"

    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(sa.String(16))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignedVisitError(Exception):
    """Something tried to change or delete a signed visit; correct it by an amendment."""

    message = _l("A signed visit cannot be changed. Record an amendment instead.")


# The last line of defence behind the operations, which never update a visit:
# whatever code path tries, a signed record and its signature stay as signed.
_FROZEN = (Visit, VisitSignature, VisitPhoto, ErasedVisitPhoto)
# The one change allowed: a bulk DELETE of photos carrying this execution option, made
# by ``portal.visits.photos.erase`` after it kept what the record signs of them.
ERASING_PHOTOS = "erasing_visit_photos"


def _changed(obj) -> bool:
    # Relationships too: before the flush, ``visit.loan = other`` has not yet
    # reached the loan_id column.
    state = sa.inspect(obj)
    return any(attribute.history.has_changes() for attribute in state.attrs)


@sa.event.listens_for(sa.orm.Session, "before_flush")
def _refuse_changes_to_signed_visits(session, flush_context, instances) -> None:
    for obj in session.deleted:
        if isinstance(obj, _FROZEN):
            raise SignedVisitError(f"refused: deleting {type(obj).__name__}")
    for obj in session.dirty:
        if isinstance(obj, _FROZEN) and _changed(obj):
            raise SignedVisitError(f"refused: updating {type(obj).__name__}")


@sa.event.listens_for(sa.orm.Session, "do_orm_execute")
def _refuse_bulk_changes_to_signed_visits(state) -> None:
    if (
        state.is_delete
        and state.execution_options.get(ERASING_PHOTOS)
        and all(mapper.class_ is VisitPhoto for mapper in state.all_mappers)
    ):
        return
    if (state.is_update or state.is_delete) and any(
        mapper.class_ in _FROZEN for mapper in state.all_mappers
    ):
        raise SignedVisitError("refused: bulk UPDATE/DELETE of signed visits")


class ComplianceCount(db.Model):
    """How many borrowers owed an officer a visit in a month, and how many were visited.

    Kept by ``portal/visits/counts.py`` in the transaction of every write that changes
    them, for the months listed in ``ComplianceMonth``; read by the head's compliance
    page, its six-month trend and the monthly branch report.
    """

    __tablename__ = "compliance_counts"

    month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)  # "2026-11"
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branches.id"), primary_key=True)
    officer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    owed: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)


class ComplianceMonth(db.Model):
    """A month whose counts are built: from then on every write keeps them."""

    __tablename__ = "compliance_months"

    month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
