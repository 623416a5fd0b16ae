"""Demo loans in every state of the lifecycle, and the first training-material version.

``seed_loans`` gives each demo borrower without a loan one or two loans, spread
over applied, approved, rejected, trained, contracted, disbursement to confirm, active
and closed, with consistent dates, the loan events, and drawn signatures on the
training sign-offs. Disbursed loans have their schedule and the payments of their
story (portal/demo/repaying.py): most paid on time, one instalment now and then a few
days late; some borrowers fell behind after visits that saw trouble coming (one caught
up since, one written off), some with every visit before green (``trouble_unseen``;
portal/demo/visits.py reads it). Rows are built directly (as stored history, dated in
the past), not through the request-time operations, which stamp "now"; the payments
are split by the portal's own ``reallocate``. Running it again creates nothing for
borrowers that already have loans.
"""

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from PIL import Image, ImageDraw

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower, BusinessType
from portal.core.calendar import company_tz, local_today
from portal.database import utcnow
from portal.demo.repaying import Habit, Trouble, payments
from portal.extensions import db
from portal.loans.lifecycle import reallocate, standing_of, store_schedule
from portal.loans.models import Loan, LoanEvent, LoanStatus, Repayment, RepaymentStatus
from portal.loans.repayments import Due
from portal.loans.schedule import RepaymentMethod, due_date
from portal.training.models import (
    TrainingMaterial,
    TrainingQuestion,
    TrainingSection,
    TrainingSignoff,
)
from portal.training.operations import content_hash

# --- the first version of the integrity-training material (诚信培训) ---------

TITLE_ZH = "借款人诚信培训"
TITLE_EN = "Integrity training for borrowers"
PASS_MARK_PERCENT = 80

SECTIONS = [
    {
        "heading_zh": "什么是诚信",
        "heading_en": "What integrity is",
        "body_zh": (
            "诚信就是诚实守信：说真话，不隐瞒，不欺骗；答应的事情一定做到，签了字的约定一定遵守。\n"
            "在借款这件事上，诚信从申请时就开始了：如实告诉我们您的家庭、收入、经营和负债情况，不借用别人的名义，也不让别人借用您的名义。\n"
            "诚信不是只在别人看得见的时候才讲，而是在没有人监督的时候也一样守信。"
        ),
        "body_en": (
            "Integrity means being honest and keeping your word: telling the truth, hiding nothing, "
            "deceiving no one; doing what you promised and keeping every agreement you have signed.\n"
            "With a loan, integrity starts with the application: tell us truthfully about your "
            "household, income, business and debts; do not borrow in someone else's name and do not "
            "let anyone borrow in yours.\n"
            "Integrity is not only for when others are watching; it holds just the same when nobody checks."
        ),
    },
    {
        "heading_zh": "诚信与道德",
        "heading_en": "Integrity and ethics",
        "body_zh": (
            "“人无信不立。”诚信是做人的根本，也是中华民族的传统美德。\n"
            "我们发放的每一笔贷款，都来自公司的资本和信任。按时还款，是对信任您的公司和担保人负责，也是对自己的家庭和名誉负责。\n"
            "您的担保人是因为相信您才愿意为您担保；如果不还款，首先受到伤害的就是这些信任您的亲友。"
        ),
        "body_en": (
            "“Without trust a person cannot stand.” Integrity is the root of a good life and a "
            "traditional virtue of the Chinese people.\n"
            "Every loan we make comes from the company's capital and its trust in you. Repaying on "
            "time is your responsibility towards the company and your guarantor, and towards your "
            "own family and good name.\n"
            "Your guarantor vouches for you because they trust you; if the loan is not repaid, the "
            "first people hurt are the relatives and friends who believed in you."
        ),
    },
    {
        "heading_zh": "诚信与成功",
        "heading_en": "Integrity and success",
        "body_zh": (
            "生意做得长久，靠的是信用。守信的养殖户、种植户和店主，更容易得到供货商的赊账、客户的回头和合作社的信任。\n"
            "按时还清一笔贷款，就为下一笔更大、利率更优惠的贷款打下了基础。我们的很多客户正是一步一步这样把生意做大的。\n"
            "经营中遇到困难很正常。诚信的人会及早说明情况、一起想办法，而不是躲避。"
        ),
        "body_en": (
            "A business lasts on its good name. Farmers and shopkeepers who keep their word find it "
            "easier to get credit from suppliers, repeat buyers, and the trust of co-operatives.\n"
            "Repaying one loan on time lays the ground for a larger loan at a better rate. Many of "
            "our borrowers have grown their business exactly like this, step by step.\n"
            "Hard times happen in every business. A person of integrity explains the situation early "
            "and looks for a solution together with us instead of hiding."
        ),
    },
    {
        "heading_zh": "借款合同中的义务",
        "heading_en": "Your duties under the loan contract",
        "body_zh": (
            "按合同约定的用途使用借款，不挪作他用，不转借给他人。\n"
            "按合同约定的日期和金额按时足额还款。\n"
            "家庭住址、联系电话、经营状况、担保人情况等发生重大变化时，及时告诉您的信贷员。\n"
            "配合信贷员每月的回访，如实填写并亲笔签署《贷后跟踪调查表》。\n"
            "如果预计不能按时还款，请尽早主动联系信贷员，共同商量解决办法。"
        ),
        "body_en": (
            "Use the money only for the purpose written in the contract; do not spend it on "
            "anything else and do not lend it on to others.\n"
            "Repay the amounts the contract sets, in full and on the dates it sets.\n"
            "Tell your loan officer promptly when your address, phone number, business or "
            "guarantor changes in an important way.\n"
            "Take part in your loan officer's monthly visit, and fill in and sign the post-loan "
            "follow-up form truthfully and in your own hand.\n"
            "If you expect that you cannot repay on time, contact your loan officer as early as "
            "possible so that together we can find a solution."
        ),
    },
    {
        "heading_zh": "违约对信用记录的影响",
        "heading_en": "What default does to your credit record",
        "body_zh": (
            "逾期还款会被记入您的个人信用记录（征信报告）。不良记录在欠款还清后仍会保留五年。\n"
            "有了不良记录，今后向银行和其他机构申请贷款、办理信用卡都会很困难，有时还会影响家人办理贷款。\n"
            "长期拖欠，公司将依法追收，担保人也要承担还款责任；法院判决后仍不履行的，可能被列入失信被执行人名单，乘坐飞机、高铁等消费会受到限制。"
        ),
        "body_en": (
            "Late repayment is entered in your personal credit record (the credit report). A "
            "negative entry stays there for five years after the debt has been repaid.\n"
            "With a negative entry, it becomes hard to borrow from banks and others or to get a "
            "credit card later, and it can also make it harder for your family to borrow.\n"
            "If a debt stays unpaid, the company will recover it by legal means and the guarantor "
            "must repay as well; whoever does not obey a court judgment may be listed as a "
            "dishonest judgment debtor, which restricts flights, high-speed trains and other spending."
        ),
    },
]

QUESTIONS = [
    {
        "text_zh": "借到的钱可以用在什么地方？",
        "text_en": "What may the borrowed money be used for?",
        "options": [
            {"zh": "合同约定的用途", "en": "The purpose written in the contract"},
            {"zh": "任何自己想用的地方", "en": "Anything I like"},
            {
                "zh": "转借给亲戚朋友赚利息",
                "en": "Lending it on to relatives and friends for interest",
            },
        ],
        "correct_option": 0,
    },
    {
        "text_zh": "如果预计下个月不能按时还款，应该怎么做？",
        "text_en": "You expect that you cannot repay on time next month. What should you do?",
        "options": [
            {"zh": "等逾期了再说", "en": "Wait until the payment is late"},
            {
                "zh": "尽早主动告诉信贷员，一起商量办法",
                "en": "Tell the loan officer early and look for a solution together",
            },
            {"zh": "换个手机号，避免被联系", "en": "Change phone number to avoid being contacted"},
        ],
        "correct_option": 1,
    },
    {
        "text_zh": "逾期还款会对信用记录产生什么影响？",
        "text_en": "What does late repayment do to your credit record?",
        "options": [
            {"zh": "没有影响，只有公司内部知道", "en": "Nothing; only the company knows"},
            {"zh": "还清以后马上消失", "en": "It disappears as soon as the debt is repaid"},
            {
                "zh": "记入征信报告，还清后仍保留五年，影响今后借款",
                "en": "It goes into the credit report, stays five years after repayment and makes future borrowing hard",
            },
        ],
        "correct_option": 2,
    },
    {
        "text_zh": "家庭住址或电话号码变了，应该：",
        "text_en": "Your address or phone number has changed. You should:",
        "options": [
            {"zh": "及时告诉信贷员", "en": "Tell the loan officer promptly"},
            {"zh": "不用告诉任何人", "en": "Tell nobody"},
            {"zh": "等贷款还清以后再说", "en": "Wait until the loan is repaid"},
        ],
        "correct_option": 0,
    },
    {
        "text_zh": "下面哪一种做法体现了诚信？",
        "text_en": "Which of these shows integrity?",
        "options": [
            {"zh": "只在别人监督时守约", "en": "Keeping agreements only when someone is watching"},
            {
                "zh": "说真话、守承诺，签了字的约定一定遵守",
                "en": "Telling the truth, keeping promises and every agreement signed",
            },
            {"zh": "只对熟人讲信用", "en": "Keeping one's word only with people one knows"},
        ],
        "correct_option": 1,
    },
]


# --- loans --------------------------------------------------------------------

SEED = 20261122
# Borrowers 2k and 2k+1 (one in each demo branch) share plan[k], so both branches
# show every state.
PLAN = (
    "active",
    "applied",
    "overdue",  # behind for a month or two, after visits that saw trouble coming
    "approved",
    "closed",
    "trained",
    "active",
    "contracted",
    "rejected",
    "closed_then_active",
    "active",
    "failed_training",
    "overdue_unseen",  # behind for a month or two, every visit before it green
    "applied",
    "trained",
    "caught_up",  # a month and more behind after warnings, then paid it all
    "closed",
    "written_off",  # never paid again after warnings
    "disbursing",
    "active",
)
# How long before today each plan's application was made, in days.
APPLIED_DAYS_AGO = {
    "applied": (1, 8),
    "approved": (10, 20),
    "failed_training": (10, 20),
    "rejected": (8, 25),
    "trained": (12, 25),
    "contracted": (15, 30),
    "disbursing": (15, 30),
    "active": (60, 330),
    "overdue": (150, 330),
    "overdue_unseen": (150, 330),
    "caught_up": (240, 330),
    "written_off": (200, 330),
    "closed": (420, 640),
}
# The step each plan's loan has reached.
STEP_OF = {
    "failed_training": "approved",
    "overdue": "active",
    "overdue_unseen": "active",
    "caught_up": "active",
    "written_off": "active",
}
# The borrowers who fall behind miss the last instalment due at least this many days ago.
BEHIND_DAYS = {"overdue": 30, "overdue_unseen": 30, "written_off": 90, "caught_up": 120}
AMOUNTS = (20000, 30000, 50000, 50000, 80000, 100000, 150000, 200000)
TERMS = (6, 12, 12, 18, 24, 36)
RATES = ("7.20", "8.50", "8.50", "9.60", "10.80")
PURPOSES = {
    BusinessType.PIG_FARMING: "购买仔猪和饲料，扩建猪舍",
    BusinessType.DUCK_FARMING: "购买鸭苗和饲料",
    BusinessType.POULTRY: "购买鸡苗、疫苗和饲料",
    BusinessType.VEGETABLES: "搭建蔬菜大棚，购买种子和化肥",
    BusinessType.FRUIT: "果园施肥、修剪和采摘用工",
    BusinessType.GRAIN: "流转土地，购买种子化肥",
    BusinessType.FEED_SUPPLY: "增加饲料库存",
    BusinessType.FARM_MACHINERY: "购买一台收割机",
    BusinessType.TRANSPORT: "购买一辆小型货车",
    BusinessType.RETAIL_SHOP: "小超市进货周转",
    BusinessType.RESTAURANT: "饭店装修和添置厨具",
    BusinessType.HANDICRAFT: "购买原材料，承接订单",
    BusinessType.OTHER: "经营周转",
}
REJECTION_REASONS = (
    "月收入扣除家庭支出后，不足以承担每月还款。",
    "经营时间不足一年，且担保人不符合要求。",
    "现有负债较高，建议先还清现有借款后再申请。",
)
APPROVAL_NOTES = ("", "同意。", "同意，按核定金额发放，信贷员每月回访。")
REPAYMENT_NOTES = ("", "", "按期还款。", "已电话提醒还款日期。")
PARTIAL_NOTES = (
    "生猪价格下跌，资金周转困难，先还一部分，承诺下月补还。",
    "外出务工，家人代还一部分。",
)
CAUGHT_UP_NOTE = "拖欠的本息一次还清。"
WRITE_OFF_NOTE = "借款人外出失联，担保人无力代偿，经贷审会同意核销。"


@dataclass
class _Story:
    """The dated steps of one demo loan, as far as it has gone."""

    applied: date
    decided: date | None = None
    trained: date | None = None
    contracted: date | None = None
    disbursed: date | None = None
    closed: date | None = None


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment on ``day`` in the company's time zone (stored as UTC)."""
    return datetime.combine(day, time(hour, minute), company_tz())


def signature_png(seed: int) -> bytes:
    """A hand-drawn-looking signature: dark strokes on a transparent 700×300 canvas."""
    rng = random.Random(seed)
    image = Image.new("RGBA", (700, 300), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    x = rng.randint(40, 90)
    for _ in range(rng.randint(2, 4)):
        turns, amplitude, step = rng.uniform(2, 4), rng.uniform(30, 70), rng.uniform(2.2, 3.4)
        points = [
            (
                x + t * step,
                150 + math.sin(t / 39 * math.pi * turns) * amplitude + rng.uniform(-5, 5),
            )
            for t in range(40)
        ]
        draw.line(points, fill=(25, 25, 25, 255), width=5, joint="curve")
        x = int(points[-1][0]) + rng.randint(15, 45)
        if x > 560:
            break
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def ensure_training_material(today: date) -> TrainingMaterial:
    """The current training material; version 1 is created and published when none exists."""
    current = db.session.scalar(
        sa.select(TrainingMaterial)
        .where(TrainingMaterial.published_at.is_not(None))
        .order_by(TrainingMaterial.version.desc())
        .limit(1)
    )
    if current is not None:
        return current
    if db.session.scalar(sa.select(TrainingMaterial.id).where(TrainingMaterial.version == 1)):
        raise RuntimeError("Publish the draft training material first, or delete it.")
    admin = db.session.scalar(sa.select(User).where(User.role == Role.ADMIN).limit(1))
    published = _at(today - timedelta(days=900), 9)
    material = TrainingMaterial(
        version=1,
        title_zh=TITLE_ZH,
        title_en=TITLE_EN,
        pass_mark_percent=PASS_MARK_PERCENT,
        created_by_id=admin.id if admin else None,
        created_at=published,
        published_at=published,
        sections=[TrainingSection(position=i, **s) for i, s in enumerate(SECTIONS, 1)],
        questions=[TrainingQuestion(position=i, **q) for i, q in enumerate(QUESTIONS, 1)],
    )
    db.session.add(material)
    db.session.flush()
    return material


def _head_of(branch_id: int) -> User | None:
    return db.session.scalar(
        sa.select(User).where(User.role == Role.HEAD, User.branch_id == branch_id).limit(1)
    )


def _story(rng: random.Random, stage: str, applied: date, today: date, term: int) -> _Story:
    """Dates for each step up to ``stage``, a few days apart, none after today; a closed
    loan closes the day its last instalment falls due (or a few days ago, paid off early)."""
    story = _Story(applied=applied)
    if stage == "applied":
        return story
    story.decided = applied + timedelta(days=rng.randint(2, 5))
    if stage in ("approved", "rejected"):
        return story
    story.trained = story.decided + timedelta(days=rng.randint(1, 4))
    if stage == "trained":
        return story
    story.contracted = story.trained + timedelta(days=rng.randint(1, 3))
    if stage == "contracted":
        return story
    story.disbursed = story.contracted + timedelta(days=rng.randint(1, 3))
    if stage == "closed":
        story.closed = min(due_date(story.disbursed, term), today - timedelta(days=3))
    return story


def _method(amount: Decimal, term: int) -> RepaymentMethod:
    """How a demo loan is repaid: short loans interest first, large ones equal principal."""
    if term <= 6:
        return RepaymentMethod.INTEREST_ONLY
    if amount >= Decimal("100000"):
        return RepaymentMethod.EQUAL_PRINCIPAL
    return RepaymentMethod.EQUAL_INSTALMENTS


def _money(value) -> Decimal:
    """Round to whole hundreds of yuan, as a two-place decimal."""
    hundreds = (Decimal(value) / 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return (hundreds * 100).quantize(Decimal("0.01"))


class _LoanBuilder:
    """Builds one loan with its events and sign-offs, step by step."""

    def __init__(self, borrower: Borrower, head: User | None, material, rng, number: str):
        self.borrower, self.head, self.material, self.rng = borrower, head, material, rng
        self.officer = borrower.officer
        self.number = number
        self.events: list[LoanEvent] = []

    def build(self, stage: str, story: _Story, today: date):
        rng = self.rng
        requested = Decimal(rng.choice(AMOUNTS)).quantize(Decimal("0.01"))
        term = 12 if stage == "closed" else rng.choice(TERMS)  # _story closes after 12 months
        loan = Loan(
            borrower_id=self.borrower.id,
            branch_id=self.borrower.branch_id,
            status=LoanStatus.APPLIED,
            amount_requested=requested,
            term_months_requested=term,
            purpose=PURPOSES[self.borrower.business_type],
            annual_rate_percent=Decimal(rng.choice(RATES)),
            applied_on=story.applied,
            created_at=_at(story.applied, 9),
            created_by_id=self.officer.id,
        )
        db.session.add(loan)
        db.session.flush()
        self.loan = loan
        self._event("apply", None, story.applied, self.officer, amount=requested, term_months=term)
        if story.decided:
            self._decide(stage, story.decided, requested, term)
        if stage == "failed_training":
            self._sign(story.decided + timedelta(days=2), passed=False)
        if story.trained:
            self._sign(story.trained, passed=True)
        if story.contracted:
            self._contract(story.contracted)
        if story.disbursed:
            self._disburse(stage, story)
        if story.disbursed and stage != "disbursing":
            self._repay(stage, story, today)
        return loan

    def _event(self, action, to_status, day, actor, note="", hour=10, **details):
        from_status = self.loan.status if action != "apply" else None
        if to_status is not None:
            self.loan.status = to_status
        event = LoanEvent(
            loan_id=self.loan.id,
            from_status=from_status,
            to_status=self.loan.status,
            happened_at=min(_at(day, hour, self.rng.randint(0, 59)), utcnow()),
            actor_id=actor.id if actor else None,
            action=action,
            details={k: (f"{v:.2f}" if isinstance(v, Decimal) else v) for k, v in details.items()},
            note=note,
        )
        db.session.add(event)

    def _decide(self, stage: str, day: date, requested: Decimal, term: int) -> None:
        loan = self.loan
        loan.decision_date, loan.decided_by_id = day, self.head.id if self.head else None
        if stage == "rejected":
            loan.decision_note = self.rng.choice(REJECTION_REASONS)
            self._event("reject", LoanStatus.REJECTED, day, self.head, loan.decision_note, 15)
            return
        cut = self.rng.random() < 0.25
        loan.approved_amount = _money(requested * Decimal("0.8")) if cut else requested
        loan.approved_term_months = term
        loan.repayment_method = _method(loan.approved_amount, term)
        loan.decision_note = self.rng.choice(APPROVAL_NOTES)
        self._event(
            "approve",
            LoanStatus.APPROVED,
            day,
            self.head,
            loan.decision_note,
            15,
            decided_on=day.isoformat(),
            amount=loan.approved_amount,
            term_months=term,
        )

    def _sign(self, day: date, *, passed: bool) -> None:
        questions = self.material.questions
        wrong = self._wrong_answers(len(questions), passed)
        answers = [
            {
                "question_id": q.id,
                "chosen": q.correct_option
                if i >= wrong
                else (q.correct_option + 1) % len(q.options),
                "correct": i >= wrong,
            }
            for i, q in enumerate(questions)
        ]
        signoff = TrainingSignoff(
            borrower_id=self.borrower.id,
            material_id=self.material.id,
            officer_id=self.officer.id,
            signed_at=_at(day, 10, 30).astimezone(ZoneInfo("UTC")),
            answers=answers,
            score_percent=round(100 * (len(questions) - wrong) / len(questions)),
            passed=passed,
            signature_png=signature_png(self.rng.randint(0, 10**9)),
        )
        signoff.content_hash = content_hash(signoff, self.material.version)
        db.session.add(signoff)
        db.session.flush()
        facts = {"signoff_id": signoff.id, "score": signoff.score_percent}
        if passed:
            self.loan.training_signoff_id = signoff.id
            self._event("train", LoanStatus.TRAINED, day, self.officer, hour=11, **facts)
        else:
            self._event("train_failed", None, day, self.officer, hour=11, **facts)

    def _wrong_answers(self, count: int, passed: bool) -> int:
        """Some passing borrowers miss one question; failing ones miss enough to fail."""
        mark = self.material.pass_mark_percent
        if passed:
            one_wrong = self.rng.random() < 0.3 and 100 * (count - 1) / count >= mark
            return 1 if one_wrong else 0
        return next(w for w in range(1, count + 1) if 100 * (count - w) / count < mark)

    def _contract(self, day: date) -> None:
        self.loan.contract_number = self.number
        self.loan.contract_signed_on = day
        self._event(
            "contract",
            LoanStatus.CONTRACTED,
            day,
            self.officer,
            contract_number=self.number,
            signed_on=day.isoformat(),
        )

    def _disburse(self, stage: str, story: _Story) -> None:
        """The officer records the payout; the head confirms it the same day (four eyes),
        and the loan stores its schedule. A loan still to be confirmed stops there."""
        loan, day = self.loan, story.disbursed
        loan.disbursed_on, loan.disbursement_recorded_by_id = day, self.officer.id
        self._event(
            "disburse",
            LoanStatus.DISBURSING,
            day,
            self.officer,
            disbursed_on=day.isoformat(),
            amount=loan.approved_amount,
        )
        if stage == "disbursing":
            return
        loan.disbursement_confirmed_by_id = self.head.id if self.head else None
        loan.outstanding_balance = loan.approved_amount
        store_schedule(loan)
        self._event(
            "confirm_disbursement",
            LoanStatus.ACTIVE,
            day,
            self.head,
            hour=15,
            disbursed_on=day.isoformat(),
            balance=loan.approved_amount,
            recorded_by=self.officer.id,
        )

    def _repay(self, stage: str, story: _Story, today: date) -> None:
        """The payments of the loan's story up to today (or its closing), split as the
        portal splits them; the loan's figures as its schedule gives them on that day."""
        loan, end = self.loan, story.closed or today
        dues = [Due(i.number, i.due_on, i.principal, i.interest) for i in loan.instalments]
        for day, amount in payments(dues, self._habit(stage, story, dues, end), end):
            loan.repayments.append(
                Repayment(
                    paid_on=day,
                    amount=amount,
                    principal=Decimal("0.00"),
                    interest=Decimal("0.00"),
                    recorded_by_id=self.officer.id,
                    recorded_at=min(_at(day, 14), utcnow()),
                )
            )
        reallocate(loan)
        self._payment_events()
        now = standing_of(loan, end)
        loan.outstanding_balance = now.principal_outstanding
        loan.overdue_days = now.overdue_days
        loan.repayment_status = (
            RepaymentStatus.OVERDUE if now.overdue_days else RepaymentStatus.ON_TIME
        )
        self._end(stage, story, end)

    def _end(self, stage: str, story: _Story, end: date) -> None:
        """A borrower who never paid again is written off; a closed loan closes."""
        loan = self.loan
        if stage == "written_off":
            loan.written_off, loan.written_off_on = True, end
            self._event(
                "write_off",
                None,
                end,
                self.head,
                WRITE_OFF_NOTE,
                16,
                balance=loan.outstanding_balance,
            )
        if story.closed:
            loan.closed_on = story.closed
            self._event(
                "close",
                LoanStatus.CLOSED,
                story.closed,
                self.officer,
                hour=16,
                closed_on=story.closed.isoformat(),
                balance=loan.outstanding_balance,
            )

    def _habit(self, stage: str, story: _Story, dues: list[Due], end: date) -> Habit:
        """How the borrower of ``stage`` pays: on time, one instalment now and then a
        few days late; or falling behind ``BEHIND_DAYS`` before ``end``."""
        rng = self.rng
        if stage in BEHIND_DAYS:
            behind = end - timedelta(days=BEHIND_DAYS[stage])
            first = max(d.number for d in dues if d.due_on <= behind)
            caught_up = rng.randint(35, 50) if stage == "caught_up" else None
            return Habit(trouble=Trouble(first, caught_up, partial=stage == "overdue"))
        if stage == "closed":
            last = dues[-1].due_on
            return Habit(paid_off_on=story.closed if story.closed < last else None)
        early = rng.choice((0, 0, 1, 2))
        slipping = [d.number for d in dues if d.due_on + timedelta(days=12) < end]
        slip = (
            (rng.choice(slipping), rng.randint(3, 12)) if slipping and rng.random() < 0.4 else None
        )
        return Habit(early_days=early, slip=slip)

    def _payment_events(self) -> None:
        """One "payment" event a payment, as the payment step writes it."""
        for repayment in self.loan.repayments:
            settled = [i for i in self.loan.instalments if i.settled_on == repayment.paid_on]
            if not settled:
                note = self.rng.choice(PARTIAL_NOTES)
            elif sum(i.due_on < repayment.paid_on for i in settled) > 1:
                note = CAUGHT_UP_NOTE
            else:
                note = self.rng.choice(REPAYMENT_NOTES)
            self._event(
                "payment",
                None,
                repayment.paid_on,
                self.officer,
                note,
                14,
                paid_on=repayment.paid_on.isoformat(),
                amount=repayment.amount,
                principal=repayment.principal,
            )


def _plan_loans(builder_for, stage: str, rng: random.Random, today: date) -> int:
    """Build the loans of one borrower for ``stage``; return how many."""
    if stage == "closed_then_active":
        closed = _story(rng, "closed", today - timedelta(days=rng.randint(560, 700)), today, 12)
        builder_for(0).build("closed", closed, today)
        applied = closed.closed + timedelta(days=rng.randint(10, 40))
        builder_for(1).build("active", _story(rng, "active", applied, today, 12), today)
        return 2
    applied = today - timedelta(days=rng.randint(*APPLIED_DAYS_AGO[stage]))
    story = _story(rng, STEP_OF.get(stage, stage), applied, today, 12)
    builder_for(0).build(stage, story, today)
    return 1


def plan_of(index: int) -> str:
    """The plan of the demo borrower at ``index`` in the demo's list."""
    return PLAN[(index // 2) % len(PLAN)]


def trouble_unseen(borrowers: list[Borrower]) -> set[int]:
    """The borrowers (ids) who fell behind with every visit before it green."""
    return {b.id for index, b in enumerate(borrowers) if plan_of(index) == "overdue_unseen"}


def seed_loans(borrowers: list[Borrower], today: date | None = None) -> int:
    """Give every demo borrower without a loan the loans of its plan; return how many."""
    today = today or local_today()
    material = ensure_training_material(today)
    created = 0
    for index, borrower in enumerate(borrowers):
        has_loan = db.session.scalar(sa.select(Loan.id).where(Loan.borrower_id == borrower.id))
        if has_loan is not None:
            continue
        rng = random.Random(SEED * 1000 + index)
        head = _head_of(borrower.branch_id)
        code = borrower.branch.code

        def builder_for(k, borrower=borrower, head=head, rng=rng, code=code):
            number = f"JK-{code}-{borrower.id:05d}{k}"
            return _LoanBuilder(borrower, head, material, rng, number)

        created += _plan_loans(builder_for, plan_of(index), rng, today)
    db.session.flush()
    return created
