"""Building signed visits and drawn signatures for the visit tests."""

import base64
from datetime import datetime, timedelta
from io import BytesIO

import sqlalchemy as sa
from PIL import Image, ImageDraw

from portal.extensions import db
from portal.loans.models import Loan
from portal.visits.models import (
    BusinessState,
    CollateralStatus,
    FundsUse,
    GuarantorStatus,
    RepaymentState,
    RevenueTrend,
)
from portal.visits.operations import VisitAnswers, active_loan, sign_visit

_tokens = iter(range(10**9))


def signature_png(width: int = 700, height: int = 300, strokes: int = 3) -> bytes:
    """A transparent PNG with a few dark pen strokes, like signature.js produces."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    for i in range(strokes):
        y = 80 + 60 * i
        pen.line(
            [(40, y), (250, y + 40), (420, y - 30), (640, y + 20)], fill=(0, 0, 0, 255), width=5
        )
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def answers(visited_at: datetime, **overrides) -> VisitAnswers:
    """Answers of an uneventful (green) visit, with ``overrides``."""
    values = {
        "visited_at": visited_at,
        "place": "李庄村养殖场",
        "business_state": BusinessState.NORMAL,
        "revenue_trend": RevenueTrend.STABLE,
        "funds_use": FundsUse.AS_CONTRACTED,
        "repayment_status": RepaymentState.ON_TIME,
        "guarantor_status": GuarantorStatus.NORMAL,
        "collateral_status": CollateralStatus.INTACT,
        "officer_observations": "猪舍干净，存栏正常。",
        "satisfaction": 5,
    }
    return VisitAnswers(**(values | overrides))


def _latest_loan(borrower):
    # A visit made before the loan was closed (hand-built history).
    return db.session.scalars(
        sa.select(Loan).where(Loan.borrower_id == borrower.id).order_by(Loan.id.desc())
    ).first()


def make_visit(borrower, officer, visited_at: datetime, amends=None, **overrides):
    """A signed visit made at ``visited_at`` and signed an hour later."""
    loan = amends.loan if amends else (active_loan(borrower) or _latest_loan(borrower))
    visit = sign_visit(
        borrower,
        loan,
        officer,
        answers(visited_at, **overrides),
        signature_png(),
        token=f"test-token-{next(_tokens):012d}",
        amends=amends,
        recorded_at=visited_at + timedelta(hours=1),
    )
    db.session.flush()
    return visit
