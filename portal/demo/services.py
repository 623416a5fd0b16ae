"""Demo service requests in every state, group sessions, complaints of each severity, ratings.

Built through the services and complaints operations, so the history, notices and
audit entries are the real ones. Each part is made once: running again finds its
records and creates nothing.
"""

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.complaints import operations as complaints
from portal.complaints.models import Complaint, ComplaintCategory, ComplaintSeverity
from portal.core.calendar import company_tz
from portal.database import utcnow
from portal.extensions import db
from portal.services import operations as services
from portal.services.models import (
    RequestSource,
    ServiceKind,
    ServiceRequest,
    ServiceSession,
    ServiceStatus,
)
from portal.visits.models import Visit

S = ServiceStatus
# (borrower number, kind, days ago, final status, what they wrote)
REQUESTS = [
    (1, "technique_training", 9, S.SUBMITTED, "母猪产后不吃食，想请技术员来看看"),
    (3, "legal_services", 0, S.SUBMITTED, "和饲料商的买卖合同有纠纷，想咨询一下"),
    (5, "financial_training", 4, S.ACCEPTED, "想学怎么记账，分清家里和猪场的钱"),
    (7, "computer_training", 12, S.COMPLETED, "想学用手机在网上卖鸭蛋"),
    (9, "wealth_management", 20, S.RATED, "卖猪的钱存哪里比较好"),
    (11, "marketing_training", 6, S.DECLINED, "想学直播卖货"),
    (2, "legal_services", 5, S.SUBMITTED, "土地流转合同快到期了，续签要注意什么"),
    (4, "technique_training", 3, S.ACCEPTED, "大棚黄瓜叶子发黄"),
    (6, "financial_training", 25, S.RATED, "想了解贷款利息怎么算"),
    (8, "other", 1, S.SUBMITTED, "想认识收购粮食的客户"),
]
RATINGS = {9: (5, "讲得很实在，已经存了定期"), 6: (3, "内容有用，时间有点短")}
DECLINE_REASON = "直播培训本季度没有开班，下季度开班时会优先通知您。"
# (title, branch borrower numbers, kind, days from today, organizer, attended)
SESSIONS = [
    ("生猪养殖技术培训班", (13, 15, 17), "technique_training", 10, "officer1", ()),
    ("蔬菜大棚种植技术培训", (19, 21, 23), "technique_training", -15, "officer2", (19, 21)),
]
# (borrower number, severity, category, days ago, subject, what happened, outcome)
COMPLAINTS = [
    (1, "general", "fees", 2, "利息多收了", "这个月的利息比合同上多了四十元。", "open"),
    (3, "serious", "process", 4, "放款拖了三周", "审批通过后迟迟不放款，耽误了买猪苗。", "open"),
    (
        5,
        "very_serious",
        "officer_conduct",
        1,
        "信贷员态度恶劣",
        "上门时大声呵斥我家老人。",
        "resolved",
    ),
    (7, "general", "service_attitude", 15, "电话没人接", "打网点电话好几次都没人接。", "closed"),
    (2, "general", "process", 10, "材料交了两遍", "同样的身份证复印件让我交了两次。", "reopened"),
    (4, "serious", "fees", 6, "提前还款收了手续费", "合同上没写提前还款要收费。", "resolved"),
]
RESOLUTIONS = {
    "resolved": "网点负责人已上门致歉，并对相关人员作了批评教育。",
    "closed": "已调整值班安排，工作时间保证有人接听。",
    "reopened": "材料已合并归档，以后不会再要求重复提交。",
}


def seed_services(borrowers: list[Borrower], today: date | None = None) -> None:
    """Requests, sessions and complaints for the demo borrowers (``borrowerN`` is index N-1)."""
    services.ensure_catalogue()
    now = _now(today)
    by_number = {index + 1: borrower for index, borrower in enumerate(borrowers)}
    if not _exists(ServiceRequest, ServiceRequest.source == RequestSource.PORTAL, by_number):
        for row in REQUESTS:
            _request(by_number, now, *row)
    for row in SESSIONS:
        _session(by_number, now, *row)
    if not _exists(Complaint, sa.true(), by_number):
        for row in COMPLAINTS:
            _complaint(by_number, now, *row)
    _follow_up_visit_needs(by_number, now)
    db.session.flush()


def _follow_up_visit_needs(by_number, now: datetime) -> None:
    """Open the requests of the demo visits' needs, and settle those older than three weeks.

    The visits' own signal opens them when the catalogue already exists; opening
    again here is harmless (one request per visit and kind) and covers a database
    whose catalogue was created only now.
    """
    ids = [borrower.id for borrower in by_number.values()]
    for visit in db.session.scalars(
        sa.select(Visit).where(Visit.borrower_id.in_(ids)).order_by(Visit.id)
    ):
        if visit.services_needed:
            services.open_requests_from_visit(visit)
    db.session.flush()
    old = db.session.scalars(
        sa.select(ServiceRequest)
        .where(
            ServiceRequest.borrower_id.in_(ids),
            ServiceRequest.source == RequestSource.VISIT,
            ServiceRequest.status == S.SUBMITTED,
            ServiceRequest.submitted_at < now - timedelta(days=21),
        )
        .order_by(ServiceRequest.id)
    ).all()
    for index, request in enumerate(old):
        _settle(request, index)


def _settle(request: ServiceRequest, index: int) -> None:
    borrower = request.borrower
    head = _head_of(borrower)
    if index % 6 == 5:
        services.decline(request, DECLINE_REASON, head)
        return
    planned = request.submitted_at.astimezone(company_tz()).date() + timedelta(days=7)
    services.assign(request, borrower.officer, planned, head)
    services.complete(request, "已上门讲解，并留下了资料和联系电话。", borrower.officer)
    if index % 4 != 3:  # a few still wait for the borrower's rating
        services.rate(request, 3 + index % 3, "", borrower.user)


def _now(today: date | None) -> datetime:
    if today is None:
        return utcnow()
    return datetime.combine(today, time(10, 0), tzinfo=company_tz()).astimezone(UTC)


def _exists(model, condition, by_number) -> bool:
    ids = [borrower.id for borrower in by_number.values()]
    return (
        db.session.scalar(
            sa.select(sa.func.count(model.id)).where(condition, model.borrower_id.in_(ids))
        )
        > 0
    )


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def _head_of(borrower: Borrower) -> User:
    return _user("head1" if borrower.branch.code == "SY01" else "head2")


def _request(by_number, now, number, kind, days_ago, status, description) -> ServiceRequest:
    borrower = by_number[number]
    request = services.submit_request(
        borrower,
        db.session.get(ServiceKind, kind),
        description,
        "上午" if number % 2 else "下午",
        actor=borrower.user,
        now=now - timedelta(days=days_ago, hours=2),
    )
    db.session.flush()
    head = _head_of(borrower)
    if status == S.DECLINED:
        services.decline(request, DECLINE_REASON, head)
        return request
    if status == S.SUBMITTED:
        return request
    planned = (now + timedelta(days=5)).date() if status == S.ACCEPTED else now.date()
    services.assign(request, borrower.officer, planned, head)
    if status in (S.COMPLETED, S.RATED):
        services.complete(request, "已上门讲解，并留下了资料和联系电话。", borrower.officer)
    if status == S.RATED:
        rating, comment = RATINGS[number]
        services.rate(request, rating, comment, borrower.user)
    return request


def _session(by_number, now, title, numbers, kind, days, organizer, attended) -> None:
    branch_id = by_number[numbers[0]].branch_id
    found = db.session.scalar(
        sa.select(ServiceSession.id).where(
            ServiceSession.title == title, ServiceSession.branch_id == branch_id
        )
    )
    if found is not None:
        return
    head = _head_of(by_number[numbers[0]])
    session = services.create_session(
        branch_id=branch_id,
        kind=db.session.get(ServiceKind, kind),
        title=title,
        held_on=(now + timedelta(days=days)).date(),
        place="众兴镇农技站" if days > 0 else "来龙镇蔬菜合作社",
        trainer="王技术员" if days > 0 else "李农艺师",
        organizer=_user(organizer),
        actor=head,
    )
    db.session.flush()
    requests = [
        _request(by_number, now, n, kind, 20 - n % 5, S.SUBMITTED, "想参加集体培训")
        for n in numbers
    ]
    services.add_to_session(session, requests, head)
    if attended:
        attended_ids = {r.id for r, n in zip(requests, numbers, strict=True) if n in attended}
        services.record_attendance(session, attended_ids)
        services.complete_session(session, session.organizer)
        services.rate(requests[0], 4, "讲得很细，回去就用上了", requests[0].borrower.user)


def _complaint(by_number, now, number, severity, category, days_ago, subject, text, outcome):
    borrower = by_number[number]
    complaint = complaints.file_complaint(
        borrower,
        category=ComplaintCategory(category),
        severity=ComplaintSeverity(severity),
        subject=subject,
        description=text,
        actor=borrower.user,
        now=now - timedelta(days=days_ago),
    )
    db.session.flush()
    if outcome == "open":
        return
    handler = _head_of(borrower) if complaint.escalated else borrower.officer
    complaints.resolve(complaint, RESOLUTIONS.get(outcome, RESOLUTIONS["resolved"]), handler)
    if outcome == "closed":
        complaints.accept_resolution(complaint, borrower.user)
    elif outcome == "reopened":
        complaints.reopen(complaint, "原件还没退给我。", borrower.user, now=now)
