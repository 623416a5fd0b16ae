"""Networking pages: vocabulary, business profiles, matches and events."""

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import get_visible_or_404, or_404, require, roles_required, staff_required
from portal.accounts.models import Role
from portal.borrowers.models import Borrower
from portal.borrowers.queries import own_profile
from portal.branches.forms import branch_choices
from portal.core.actions import Refused, attempt, current_actor, done, refused_on, writes
from portal.core.calendar import local_today
from portal.core.forms import optional_id
from portal.core.paging import per_page
from portal.extensions import db
from portal.networking import matching, operations, queries
from portal.networking.forms import (
    AttendanceForm,
    EntryDetailsForm,
    EventForm,
    IntroductionForm,
    InviteFilterForm,
    InviteForm,
    OutcomeForm,
    ProfileForm,
    ReplyForm,
    TagForm,
    entry_details_data,
)
from portal.networking.models import (
    OUTCOME_LABELS,
    REPLY_LABELS,
    BusinessTag,
    Introduction,
    Invitation,
    NetworkingEvent,
    Outcome,
    Reply,
)
from portal.networking.operations import split_free_tags
from portal.privacy import consents
from portal.privacy.models import Purpose

bp = Blueprint("networking", __name__, url_prefix="/networking")
MANAGERS = (Role.HEAD, Role.ADMIN)
PROPOSALS_PER_PAGE = 10
# The invite page lists one row per borrower: a page holds many, so ticks are seldom
# spread over pages; it stays a page so the matching work stays bounded.
INVITE_PER_PAGE = 50
PER_BORROWER = 5
ONE_BORROWER_MATCHES = 30


def _locale() -> str:
    return str(get_locale())


# --- vocabulary (admin) ----------------------------------------------------------------


@bp.get("/tags")
@roles_required(Role.ADMIN)
def tags():
    return render_template(
        "networking/tags.html", tags=db.session.scalars(queries.tags_statement())
    )


@bp.route("/tags/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@writes
def tag_create():
    form = TagForm()
    if form.validate_on_submit():
        tag = operations.create_tag(**{k: getattr(form, k).data for k in operations.TAG_FIELDS})
        return done(_("Tag %(name)s saved.", name=tag.name(_locale())), url_for("networking.tags"))
    return render_template("networking/tag_form.html", form=form, tag=None)


@bp.route("/tags/<int:tag_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@writes
def tag_edit(tag_id: int):
    tag = or_404(db.session.get(BusinessTag, tag_id))
    form = TagForm(obj=tag, editing=tag)
    if form.validate_on_submit():
        operations.update_tag(tag, **{k: getattr(form, k).data for k in operations.TAG_FIELDS[1:]})
        return done(_("Tag %(name)s saved.", name=tag.name(_locale())), url_for("networking.tags"))
    return render_template("networking/tag_form.html", form=form, tag=tag)


# --- business profiles and matches -----------------------------------------------------


@bp.get("/profiles")
@staff_required
def profiles():
    query = request.args.get("q", "").strip()[:50]
    page = db.paginate(queries.profiles_statement(current_user, query), per_page=per_page())
    ids = [b.id for b in page.items]
    # A profile without the borrower's consent to networking is not shown: staff see
    # only that it is hidden, and where the consent is recorded.
    shown = queries.shown(ids)
    found = queries.profiles([i for i in ids if i in shown], _locale())
    return render_template(
        "networking/profiles.html", page=page, profiles=found, query=query, shown=shown
    )


@bp.route("/borrowers/<int:borrower_id>/profile", methods=["GET", "POST"])
@staff_required
@writes
def profile_edit(borrower_id: int):
    borrower = get_visible_or_404(Borrower, borrower_id)
    require(borrower.can_manage(current_user))
    form = ProfileForm(data=queries.profile_form_data(borrower.id), locale=_locale())
    # Quantity, season and price of each saved entry, in the same form (issue 20).
    entries = queries.profile_entries(borrower.id)
    detail_forms = [
        (entry, EntryDetailsForm(prefix=f"e{entry.id}", data=entry_details_data(entry)))
        for entry in entries
    ]
    if form.validate_on_submit() and all([f.validate() for _, f in detail_forms]):  # noqa: C419 - every form shows its errors
        operations.set_profile(
            borrower,
            offer_tag_ids=form.offers.data or [],
            need_tag_ids=form.needs.data or [],
            free_offers=split_free_tags(form.free_offers.data),
            free_needs=split_free_tags(form.free_needs.data),
            details={(entry.side, entry.match_key): f.details() for entry, f in detail_forms},
        )
        return done(
            _("The business profile of %(name)s was saved.", name=borrower.full_name),
            url_for("networking.matches", borrower=borrower.id),
        )
    return render_template(
        "networking/profile_form.html",
        form=form,
        borrower=borrower,
        detail_forms=detail_forms,
        locale=_locale(),
        shown=consents.given(borrower.id, Purpose.NETWORKING),
    )


def _proposals_page(stmt, per_borrower: int, per_page: int = PROPOSALS_PER_PAGE):
    """A page of profiled borrowers; ``page.items`` become their Proposals."""
    page = db.paginate(stmt, per_page=per_page)
    page.items = matching.proposals(
        current_user, [b.id for b in page.items], _locale(), per_borrower
    )
    return page


@bp.get("/matches")
@staff_required
def matches():
    borrower_id = optional_id(request.args.get("borrower"))
    stmt = matching.profiled_statement(current_user)
    if borrower_id:
        stmt = stmt.where(Borrower.id == borrower_id)
    page = _proposals_page(stmt, ONE_BORROWER_MATCHES if borrower_id else PER_BORROWER)
    return render_template("networking/matches.html", page=page, borrower_id=borrower_id)


# --- events ----------------------------------------------------------------------------


@bp.get("/")
@staff_required
def events():
    page = db.paginate(queries.events_statement(current_user), per_page=per_page())
    return render_template("networking/events.html", page=page)


def _event_form(**kwargs) -> EventForm:
    admin = current_user.role == Role.ADMIN
    return EventForm(branch_choices=branch_choices() if admin else None, **kwargs)


@bp.route("/events/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
@writes
def event_create():
    form = _event_form()
    if form.validate_on_submit():
        branch_id = int(form.branch.data) if "branch" in form else current_user.branch_id
        event = operations.create_event(branch_id, current_actor(), **form.values())
        return done(
            _("Event %(title)s saved.", title=event.title),
            url_for("networking.invite", event_id=event.id),
        )
    return render_template("networking/event_form.html", form=form, event=None)


def _managed_event(event_id: int) -> NetworkingEvent:
    event = get_visible_or_404(NetworkingEvent, event_id)
    require(event.can_manage(current_user))
    return event


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
@writes
def event_edit(event_id: int):
    event = _managed_event(event_id)
    form = EventForm(obj=event)
    if form.validate_on_submit():
        operations.update_event(event, **form.values())
        return done(
            _("Event %(title)s saved.", title=event.title),
            url_for("networking.event", event_id=event.id),
        )
    return render_template("networking/event_form.html", form=form, event=event)


def _attendees(guests) -> list[tuple[int, str]]:
    return [(g.borrower_id, f"{g.name} ({g.branch})") for g in guests if g.attended]


def _event_page(event: NetworkingEvent, intro_form=None, failed_outcome=None):
    guests = queries.guests(event, current_user)
    intros = queries.introductions(event)
    attendees = _attendees(guests)
    outcome_forms = {i.id: OutcomeForm(prefix=f"i{i.id}", obj=i, formdata=None) for i in intros}
    if failed_outcome is not None:
        outcome_forms[failed_outcome[0]] = failed_outcome[1]
    return render_template(
        "networking/event.html",
        event=event,
        guests=guests,
        introductions=intros,
        summary=queries.summary(guests, intros),
        can_manage=event.can_manage(current_user),
        attendance_form=AttendanceForm(),
        intro_form=intro_form or IntroductionForm(attendees=attendees),
        outcome_forms=outcome_forms,
        outcome_labels=OUTCOME_LABELS,
        guest_by_id={g.borrower_id: g for g in guests},
        today=local_today(),
        replies=(Reply.COMING, Reply.NOT_COMING),
        reply_labels=REPLY_LABELS,
    )


@bp.get("/events/<int:event_id>")
@staff_required
def event(event_id: int):
    return _event_page(get_visible_or_404(NetworkingEvent, event_id))


# --- the borrower's invitations ---------------------------------------------------------


@bp.get("/invitations")
@roles_required(Role.BORROWER)
def my_invitations():
    borrower = or_404(own_profile(current_user))
    today = local_today()
    invitations = queries.my_invitations(borrower.id)
    return render_template(
        "networking/my_invitations.html",
        upcoming=[i for i in reversed(invitations) if i.event.held_on >= today],
        past=[i for i in invitations if i.event.held_on < today],
        form=ReplyForm(),
        coming=Reply.COMING,
        not_coming=Reply.NOT_COMING,
    )


@bp.post("/invitations/<int:invitation_id>/reply")
@roles_required(*Role)
@writes
def reply(invitation_id: int):
    """The borrower's answer, or the one staff heard from them (by phone, in the village)."""
    invitation = get_visible_or_404(Invitation, invitation_id)
    require(invitation.can_answer(current_user))
    own = current_user.role == Role.BORROWER
    target = (
        url_for("networking.my_invitations")
        if own
        else url_for("networking.event", event_id=invitation.event_id)
    )
    form = ReplyForm()
    if not form.validate_on_submit():
        for error in form.answer.errors:
            flash(error, "danger")
        return redirect(target)
    answer = Reply(form.answer.data)
    if not own:
        message = _("The answer of %(name)s is recorded.", name=invitation.borrower.full_name)
    elif answer == Reply.COMING:
        message = _("Thank you: you are coming.")
    else:
        message = _("Thank you: we noted that you are not coming.")
    return attempt(
        lambda: operations.reply(invitation, answer, current_actor(), local_today()),
        message,
        target,
    )


@bp.get("/events/<int:event_id>/invite")
@roles_required(*MANAGERS)
def invite(event_id: int):
    event = _managed_event(event_id)
    filter_form = InviteFilterForm(request.args, locale=_locale())
    among = sa.select(Borrower.id).where(operations.invitable_filter(event))
    stmt = matching.profiled_statement(current_user, among)
    page = _proposals_page(stmt, PER_BORROWER, INVITE_PER_PAGE)
    return render_template(
        "networking/invite.html",
        event=event,
        form=InviteForm(),
        filter_form=filter_form,
        # The page's borrowers may be invited, so their counterparts (same branch or
        # region) may be too.
        page=page,
        rows=matching.invite_rows(page.items),
        candidates=(
            queries.filtered_candidates(event, current_user, filter_form)
            if filter_form.used
            else []
        ),
        invited=queries.invited_ids(event),
    )


@bp.post("/events/<int:event_id>/invite")
@roles_required(*MANAGERS)
@writes
def invite_save(event_id: int):
    event = _managed_event(event_id)
    form = InviteForm()
    if not form.validate_on_submit():
        for error in form.borrower_ids.errors:
            flash(error, "danger")
        return redirect(url_for("networking.invite", event_id=event.id))
    # A refusal goes back to the invite page, with the filter the head had chosen.
    count = operations.invite(event, form.borrower_ids.data, current_actor())
    return done(
        ngettext("%(num)d borrower invited.", "%(num)d borrowers invited.", count),
        url_for("networking.event", event_id=event.id),
    )


@bp.post("/events/<int:event_id>/attendance")
@roles_required(*MANAGERS)
@writes
def attendance(event_id: int):
    event = _managed_event(event_id)
    target = url_for("networking.event", event_id=event.id)
    form = AttendanceForm()
    if not form.validate_on_submit():
        return redirect(target)
    return attempt(
        lambda: operations.set_attendance(event, set(form.attended.data or []), local_today()),
        _("Attendance recorded."),
        target,
    )


@bp.post("/events/<int:event_id>/introductions")
@roles_required(*MANAGERS)
@writes
def introduction_create(event_id: int):
    event = _managed_event(event_id)
    form = IntroductionForm(attendees=_attendees(queries.guests(event, current_user)))
    if not form.validate_on_submit():
        return _event_page(event, intro_form=form)
    try:
        operations.add_introduction(event, *form.pair, form.topic.data or "", current_actor())
    except Refused as refusal:
        refused_on(form, refusal)
        return _event_page(event, intro_form=form)
    return done(_("Introduction recorded."), url_for("networking.event", event_id=event.id))


@bp.post("/introductions/<int:introduction_id>/outcome")
@roles_required(*MANAGERS)
@writes
def outcome(introduction_id: int):
    introduction = get_visible_or_404(Introduction, introduction_id)
    require(introduction.event.can_manage(current_user))
    form = OutcomeForm(prefix=f"i{introduction.id}")
    if not form.validate_on_submit():
        return _event_page(introduction.event, failed_outcome=(introduction.id, form))
    operations.set_outcome(introduction, Outcome(form.outcome.data), form.deal_amount.data)
    return done(_("Outcome saved."), url_for("networking.event", event_id=introduction.event_id))
