"""Routes of the field kit's server side for the route x role matrix (tests/test_access_matrix.py)."""

from portal.borrowers.models import IdCardPhoto
from portal.extensions import db
from tests.factories import Ref
from tests.fieldkit.helpers import make_held
from tests.routes import ADMIN, MANAGERS, Route

OFFICER = frozenset({"officer"})
NOBODY = frozenset()
# A body that is not JSON is not an entry: answered 400 to those allowed to post one.
NOT_AN_ENTRY = (400,)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def objects(app, world) -> dict:
    """The own borrower's ID photo; a held entry in each branch."""
    with app.app_context():
        # tests/borrowers/routes.py may have given the own borrower a photo already.
        if db.session.get(IdCardPhoto, world.own_borrower.id) is None:
            db.session.add(
                IdCardPhoto(
                    borrower_id=world.own_borrower.id, content=JPEG, media_type="image/jpeg"
                )
            )
        own = make_held(world.officer.id, world.own_borrower.id)
        foreign = make_held(world.other_officer.id, world.foreign_borrower.id)
        db.session.commit()
        return {"own_held": Ref(own.id, ""), "foreign_held": Ref(foreign.id, "")}


ROUTES = [
    Route("fieldkit.plan", "GET", "/field/plan", OFFICER),
    Route("fieldkit.plan", "POST", "/field/plan", OFFICER),
    Route("fieldkit.token", "GET", "/field/token", OFFICER),
    Route("fieldkit.kit", "GET", "/field/kit", OFFICER),
    Route("fieldkit.id_photo", "GET", "/field/kit/borrowers/{own_borrower.id}/id-photo", OFFICER),
    Route(
        "fieldkit.id_photo", "GET", "/field/kit/borrowers/{foreign_borrower.id}/id-photo", NOBODY
    ),
    Route("fieldkit.entries", "POST", "/field/entries", OFFICER, ok_statuses=NOT_AN_ENTRY),
    Route(
        "fieldkit.entry_status",
        "POST",
        "/field/entries/status",
        OFFICER,
        ok_statuses=NOT_AN_ENTRY,
    ),
    Route("fieldkit.held", "GET", "/field/held", MANAGERS),
    Route("fieldkit.held", "GET", "/field/held?show=all", MANAGERS),
    Route("fieldkit.held_detail", "GET", "/field/held/{own_held.id}", MANAGERS),
    Route("fieldkit.held_detail", "GET", "/field/held/{foreign_held.id}", ADMIN),
    Route("fieldkit.held_signature", "GET", "/field/held/{own_held.id}/signature.png", MANAGERS),
    Route("fieldkit.held_signature", "GET", "/field/held/{foreign_held.id}/signature.png", ADMIN),
    Route("fieldkit.handle", "POST", "/field/held/{own_held.id}/handle", MANAGERS),
    Route("fieldkit.handle", "POST", "/field/held/{foreign_held.id}/handle", ADMIN),
]
