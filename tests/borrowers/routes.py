"""Routes of the borrowers feature for the access matrix.

``colleague_borrower`` belongs to another officer of the officer's own branch, so the
officer is refused it while the branch head is not; ``foreign_borrower`` belongs to
another branch, refused to both.
"""

from portal.accounts.models import Role
from portal.borrowers.models import IdCardPhoto
from portal.extensions import db
from tests.factories import Ref, make_borrower, make_user
from tests.routes import ADMIN, MANAGERS, PUBLIC, STAFF, Route

OWN = "/borrowers/{own_borrower.id}"
COLLEAGUE = "/borrowers/{colleague_borrower.id}"
FOREIGN = "/borrowers/{foreign_borrower.id}"
ADMIN_AND_HEAD = MANAGERS


def _rows(endpoint: str, method: str, suffix: str = "") -> list[Route]:
    return [
        Route(endpoint, method, OWN + suffix, STAFF),
        Route(endpoint, method, COLLEAGUE + suffix, ADMIN_AND_HEAD),
        Route(endpoint, method, FOREIGN + suffix, ADMIN),
    ]


ROUTES = [
    Route("borrowers.index", "GET", "/borrowers/", STAFF),
    # The search form is posted; a number is answered to the POST, a name redirected.
    Route("borrowers.index", "POST", "/borrowers/", STAFF, data={"q": "13905271234"}),
    Route("borrowers.index", "POST", "/borrowers/", STAFF, data={"q": "wxm"}),
    Route("borrowers.onboard", "GET", "/borrowers/new", STAFF),
    Route("borrowers.export", "GET", "/borrowers/export.csv", STAFF),
    Route("borrowers.export", "GET", "/borrowers/export.xlsx?tier=general", STAFF),
    # A search holding a number posts the search form to the export.
    Route("borrowers.export", "POST", "/borrowers/export.csv", STAFF, data={"q": "1234"}),
    *_rows("borrowers.detail", "GET"),
    *_rows("borrowers.reveal", "POST", "/reveal"),
    *_rows("borrowers.id_photo", "GET", "/id-photo"),
    *_rows("borrowers.edit", "GET", "/edit"),
    *_rows("borrowers.issue_activation_code", "GET", "/activation-code"),
    *_rows("borrowers.issue_activation_code", "POST", "/activation-code"),
    *_rows("borrowers.consents", "GET", "/consents"),
    *_rows("borrowers.consents", "POST", "/consents"),
    Route("borrowers.activate", "GET", "/activate", PUBLIC),
    Route(
        "borrowers.activate",
        "POST",
        "/activate",
        PUBLIC,
        data={"mobile": "13800000000", "code": "WRONG-CODE", "new_password": "x" * 12},
    ),
    Route("borrowers.reassign", "GET", "/borrowers/reassign", MANAGERS),
    Route(
        "borrowers.reassign",
        "POST",
        "/borrowers/reassign",
        MANAGERS,
        data={"search": "1", "q": "13905271234"},
    ),
    Route("borrowers.me", "GET", "/me", frozenset({"borrower"})),
]


def objects(app, world) -> dict:
    """A borrower of a second officer in the officer's branch; ID photos to serve."""
    from portal.branches.models import Branch

    with app.app_context():
        branch = db.session.get(Branch, world.branch.id)
        colleague = make_user("colleague", Role.OFFICER, branch)
        borrower = make_borrower(colleague)
        for borrower_id in (world.own_borrower.id, world.foreign_borrower.id, borrower.id):
            db.session.add(
                IdCardPhoto(borrower_id=borrower_id, content=b"\xff\xd8", media_type="image/jpeg")
            )
        db.session.commit()
        return {"colleague_borrower": Ref(borrower.id, borrower.full_name)}
