"""What the reports feature stores: the figures of "Do the warnings work?" for complete months.

``portal/reports/warnings.py`` builds them with the query the page runs, and the page
and the monthly branch report read them back (docs/risk.md, "Stored months").
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import UTCDateTime, enum_type, utcnow
from portal.extensions import db
from portal.visits.risk import RiskLevel


class WarningFigure(db.Model):
    """One row of the warnings query for a stored month and branch.

    With a level: the borrowers visited at that level (``visited``), those of them with
    a scheduled loan (``borrowers``) and those in trouble in the window. Without a level
    (NULL): the borrowers in trouble with no visit in the month (``in_trouble``).
    """

    __tablename__ = "warning_figures"
    __table_args__ = (sa.Index("ix_warning_figures_month_branch", "month", "branch_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(sa.String(7))  # "2026-07"
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branches.id"))
    risk_level: Mapped[RiskLevel | None] = mapped_column(enum_type(RiskLevel, 8))
    borrowers: Mapped[int] = mapped_column(default=0)
    in_trouble: Mapped[int] = mapped_column(default=0)
    visited: Mapped[int] = mapped_column(default=0)


class WarningMonth(db.Model):
    """A complete month whose figures are stored in ``warning_figures``."""

    __tablename__ = "warning_months"

    month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
