"""Networking routes for the route x role matrix."""

from datetime import date

from portal.extensions import db
from portal.networking.models import Introduction, Invitation, NetworkingEvent
from portal.networking.vocabulary import ensure_default_tags
from tests.factories import Ref
from tests.routes import ADMIN, EVERYONE, MANAGERS, STAFF, Route

OWN, FOREIGN = "{own_event.id}", "{foreign_event.id}"
BORROWER = frozenset({"borrower"})
ROUTES = [
    Route("networking.tags", "GET", "/networking/tags", ADMIN),
    Route("networking.tag_create", "GET", "/networking/tags/new", ADMIN),
    Route("networking.tag_edit", "GET", "/networking/tags/{tag.id}", ADMIN),
    Route("networking.profiles", "GET", "/networking/profiles", STAFF),
    Route("networking.profile_edit", "GET", "/networking/borrowers/{own_borrower.id}/profile", STAFF),
    Route("networking.profile_edit", "GET", "/networking/borrowers/{foreign_borrower.id}/profile", ADMIN),
    Route("networking.matches", "GET", "/networking/matches", STAFF),
    Route("networking.events", "GET", "/networking/", STAFF),
    Route("networking.event_create", "GET", "/networking/events/new", MANAGERS),
    Route("networking.event", "GET", f"/networking/events/{OWN}", STAFF),
    Route("networking.event", "GET", f"/networking/events/{FOREIGN}", ADMIN),
    Route("networking.event_edit", "GET", f"/networking/events/{OWN}/edit", MANAGERS),
    Route("networking.event_edit", "GET", f"/networking/events/{FOREIGN}/edit", ADMIN),
    Route("networking.invite", "GET", f"/networking/events/{OWN}/invite", MANAGERS),
    Route("networking.invite", "GET", f"/networking/events/{FOREIGN}/invite", ADMIN),
    Route("networking.invite_save", "POST", f"/networking/events/{OWN}/invite", MANAGERS),
    Route("networking.invite_save", "POST", f"/networking/events/{FOREIGN}/invite", ADMIN),
    Route("networking.attendance", "POST", f"/networking/events/{OWN}/attendance", MANAGERS),
    Route("networking.attendance", "POST", f"/networking/events/{FOREIGN}/attendance", ADMIN),
    Route("networking.introduction_create", "POST", f"/networking/events/{OWN}/introductions", MANAGERS),
    Route("networking.introduction_create", "POST", f"/networking/events/{FOREIGN}/introductions", ADMIN),
    Route("networking.outcome", "POST", "/networking/introductions/{own_introduction.id}/outcome", MANAGERS),
    Route("networking.outcome", "POST", "/networking/introductions/{foreign_introduction.id}/outcome", ADMIN),
    Route("networking.my_invitations", "GET", "/networking/invitations", BORROWER),
    Route("networking.reply", "POST", "/networking/invitations/{own_invitation.id}/reply", EVERYONE, data={"answer": "coming"}),
    Route("networking.reply", "POST", "/networking/invitations/{foreign_invitation.id}/reply", ADMIN, data={"answer": "coming"}),
]  # fmt: skip


def _event(branch_id: int, supplier_id: int, buyer_id: int):
    event = NetworkingEvent(
        branch_id=branch_id, title="联谊会", held_on=date(2026, 10, 1), place="会议室"
    )
    db.session.add(event)
    db.session.flush()
    introduction = Introduction(event_id=event.id, supplier_id=supplier_id, buyer_id=buyer_id)
    db.session.add(introduction)
    db.session.flush()
    return event, introduction


def objects(app, world) -> dict:
    """An event with an introduction in each branch, and a vocabulary tag."""
    with app.app_context():
        own, own_intro = _event(world.branch.id, world.own_borrower.id, world.foreign_borrower.id)
        foreign, foreign_intro = _event(
            world.other_branch.id, world.foreign_borrower.id, world.own_borrower.id
        )
        tag = ensure_default_tags()["feed"]
        # The World's borrower invited to an event to come, and another borrower too.
        coming = NetworkingEvent(
            branch_id=world.branch.id, title="春季联谊会", held_on=date(2099, 3, 1), place="会议室"
        )
        db.session.add(coming)
        db.session.flush()
        own_invitation = Invitation(event_id=coming.id, borrower_id=world.own_borrower.id)
        foreign_invitation = Invitation(event_id=coming.id, borrower_id=world.foreign_borrower.id)
        db.session.add_all([own_invitation, foreign_invitation])
        db.session.commit()
        return {
            "own_event": Ref(own.id, own.title),
            "foreign_event": Ref(foreign.id, foreign.title),
            "own_introduction": Ref(own_intro.id, ""),
            "foreign_introduction": Ref(foreign_intro.id, ""),
            "tag": Ref(tag.id, tag.code),
            "own_invitation": Ref(own_invitation.id, ""),
            "foreign_invitation": Ref(foreign_invitation.id, ""),
        }
