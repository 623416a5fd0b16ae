"""Demo care data: business profiles that match, a past networking event, tiers, greetings.

Everything is created only when missing, so ``flask demo load`` can run again.
"""

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower, BusinessType, Tier
from portal.branches.models import Branch
from portal.care import operations as care
from portal.care.gateways import LogGateway, SendResult
from portal.care.models import OutboxMessage, OutboxStatus
from portal.database import utcnow
from portal.extensions import db
from portal.networking import operations as networking
from portal.networking.models import NetworkingEvent, Outcome, ProfileEntry
from portal.networking.vocabulary import ensure_default_tags
from portal.tiers.models import TierChange
from portal.tiers.operations import decide_tier
from portal.tiers.queries import suggestions

# What each kind of business typically offers and needs, as vocabulary codes.
PROFILES = {
    BusinessType.PIG_FARMING: (("hogs", "manure"), ("feed", "veterinary")),
    BusinessType.DUCK_FARMING: (("ducks", "eggs"), ("feed",)),
    BusinessType.POULTRY: (("poultry", "eggs"), ("feed", "veterinary")),
    BusinessType.VEGETABLES: (("vegetables",), ("fertiliser", "seeds", "transport")),
    BusinessType.FRUIT: (("fruit",), ("transport", "cold_storage", "labour")),
    BusinessType.GRAIN: (("grain",), ("fertiliser", "farm_machinery")),
    BusinessType.FEED_SUPPLY: (("feed", "veterinary"), ("grain",)),
    BusinessType.FARM_MACHINERY: (("farm_machinery",), ()),
    BusinessType.TRANSPORT: (("transport",), ()),
    BusinessType.RETAIL_SHOP: (("fertiliser", "seeds"), ("eggs",)),
    BusinessType.RESTAURANT: (("catering",), ("ducks", "vegetables", "eggs")),
    BusinessType.HANDICRAFT: ((), ("transport",)),
    BusinessType.OTHER: ((), ()),
}
# Free tags, typed as an officer would, for two demo borrowers (by login number).
FREE_TAGS = {25: (["木工"], []), 1: ([], ["木工"])}
EVENT_TITLE = "泗阳春季产销对接会"
# (supplier, buyer, topic, outcome, amount) by borrower login number.
INTRODUCTIONS = (
    (31, 1, "饲料", Outcome.DEAL, Decimal("38000.00")),
    (11, 5, "鸭子", Outcome.DEAL, Decimal("12000.00")),
    (9, 13, "蔬菜", Outcome.NO_DEAL, None),
)
EVENT_GUESTS = (1, 5, 9, 11, 13, 31, 2, 24)
TIER_OVERRIDES = {
    1: (Tier.STRATEGIC, "合作多年的生猪养殖大户，带动周边农户"),
    31: (Tier.STRATEGIC, "本地主要饲料经销商，联系众多养殖户"),
    11: (Tier.KEY, "养鸭规模扩大中，计划增贷"),
}
GREETING_DAYS = 30


def _by_number(borrowers: list[Borrower]) -> dict[int, Borrower]:
    return {index + 1: borrower for index, borrower in enumerate(borrowers)}


def _seed_profiles(borrowers: dict[int, Borrower]) -> None:
    tags = ensure_default_tags()
    has_profile = set(db.session.scalars(sa.select(ProfileEntry.borrower_id).distinct()))
    for number, borrower in borrowers.items():
        if borrower.id in has_profile:
            continue
        offers, needs = PROFILES[borrower.business_type]
        free_offers, free_needs = FREE_TAGS.get(number, ([], []))
        networking.set_profile(
            borrower,
            offer_tag_ids=[tags[code].id for code in offers],
            need_tag_ids=[tags[code].id for code in needs],
            free_offers=free_offers,
            free_needs=free_needs,
        )
    db.session.flush()


def _seed_event(borrowers: dict[int, Borrower], head: User, today: date) -> None:
    if db.session.scalar(sa.select(NetworkingEvent.id).where(NetworkingEvent.title == EVENT_TITLE)):
        return
    event = networking.create_event(
        head.branch_id,
        head,
        title=EVENT_TITLE,
        held_on=today - timedelta(days=60),
        place="众兴镇农技推广站会议室",
        description="请饲料、养殖和餐饮客户面对面对接供需，互通有无。",
    )
    db.session.flush()
    networking.invite(event, [borrowers[n].id for n in EVENT_GUESTS], head)
    attended = {borrowers[n].id for n in EVENT_GUESTS if n != 24}
    networking.set_attendance(event, attended, today)
    for supplier, buyer, topic, outcome, amount in INTRODUCTIONS:
        introduction = networking.add_introduction(
            event, borrowers[supplier].id, borrowers[buyer].id, topic, head
        )
        networking.set_outcome(introduction, outcome, amount)


def _seed_tiers(borrowers: dict[int, Borrower], heads: dict[int, User], today: date) -> None:
    decided = set(db.session.scalars(sa.select(TierChange.borrower_id).distinct()))
    for number, (tier, reason) in TIER_OVERRIDES.items():
        borrower = borrowers[number]
        if borrower.id in decided:
            continue
        decide_tier(
            borrower,
            tier,
            suggested=suggestions([borrower.id], today)[borrower.id].tier,
            reason=reason,
            period=str(today.year),
            decided_by=heads[borrower.branch_id],
        )


def _seed_greetings(today: date) -> None:
    """The outbox as if the daily job had run for the last month, with one failure."""
    gateway = LogGateway()
    for offset in range(GREETING_DAYS, -1, -1):
        care.queue_day(today - timedelta(days=offset))
    pending = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .order_by(OutboxMessage.id)
    ).all()
    for index, message in enumerate(pending):
        # The newest greeting "failed" so the outbox shows a failure and its resend button.
        failed = index == len(pending) - 1
        result = SendResult(False, "HTTP 502: Bad Gateway") if failed else SendResult(True)
        message.gateway = "webhook" if failed else gateway.name
        care.record_result(message, result, utcnow(), max_attempts=1, retry_base_seconds=300)


def seed_care(borrowers: list[Borrower], today: date | None = None) -> None:
    """Profiles, a past event with introductions, some tier decisions and greetings."""
    from portal.core.calendar import local_today

    today = today or local_today()
    numbered = _by_number(borrowers)
    heads = {
        user.branch_id: user
        for user in db.session.scalars(
            sa.select(User).join(Branch, User.branch_id == Branch.id).where(User.username.in_(("head1", "head2")))
        )
    }  # fmt: skip
    _seed_profiles(numbered)
    _seed_event(numbered, heads[numbered[1].branch_id], today)
    _seed_tiers(numbered, heads, today)
    _seed_greetings(today)
    db.session.flush()
