"""Routes of the reports feature for the route x role matrix (tests/test_access_matrix.py).

Every download answers by the rule of the page it prints: an officer only their own
borrowers' records, a head the branch, a borrower only their own; the branch report
and the visit pack are the head's (own branch) and the admin's.
"""

from datetime import timedelta

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.core.calendar import current_month
from portal.database import utcnow
from portal.extensions import db
from portal.jobs.models import JobKind
from portal.loans.models import LoanStatus
from tests.factories import Ref, make_borrower, make_loan, make_user
from tests.jobs.helpers import stored_job
from tests.routes import ADMIN, EVERYONE, MANAGERS, Route
from tests.training.helpers import first_version, make_signoff
from tests.visits.helpers import make_visit

HEAD = frozenset({"head"})
BORROWER = frozenset({"borrower"})
OWN_BRANCH = "/reports/branch/{branch.name}/{report_month}"
OTHER_BRANCH = "/reports/branch/{other_branch.name}/{report_month}"

ROUTES = [
    Route("reports.visit_report", "GET", "/visits/{report_visit.id}/report.pdf", EVERYONE),
    Route("reports.visit_report", "GET", "/visits/{colleague_visit.id}/report.pdf", MANAGERS),
    Route("reports.visit_report", "GET", "/visits/{foreign_report_visit.id}/report.pdf", ADMIN),
    Route(
        "reports.training_certificate",
        "GET",
        "/training/signoffs/{report_signoff.id}/certificate.pdf",
        EVERYONE,
    ),
    Route(
        "reports.training_certificate",
        "GET",
        "/training/signoffs/{foreign_report_signoff.id}/certificate.pdf",
        ADMIN,
    ),
    Route("reports.borrower_dossier", "GET", "/borrowers/{own_borrower.id}/dossier.pdf", EVERYONE),
    Route(
        "reports.borrower_dossier",
        "GET",
        "/borrowers/{colleague_report_borrower.id}/dossier.pdf",
        MANAGERS,
    ),
    Route("reports.borrower_dossier", "GET", "/borrowers/{foreign_borrower.id}/dossier.pdf", ADMIN),
    Route("reports.branch_report", "GET", OWN_BRANCH + ".pdf", MANAGERS),
    Route("reports.branch_report", "GET", OTHER_BRANCH + ".pdf", ADMIN),
    Route("reports.visit_pack", "GET", OWN_BRANCH + "/visits.pdf", MANAGERS),
    Route("reports.visit_pack", "GET", OTHER_BRANCH + "/visits.pdf", ADMIN),
    # What became of the warnings: the head's own branch, the admin's whole company.
    Route("reports.warnings_page", "GET", "/reports/warnings", MANAGERS),
    Route("reports.warnings_page", "GET", "/reports/warnings?month={report_month}", MANAGERS),
    # A stored report: only the one who asked, while the rule of the page still holds
    # (the file prints their name; a borrower's copy leaves out internal assessments).
    *[
        Route(endpoint, "GET", f"/reports/jobs/{{{job}.id}}{suffix}", who)
        for endpoint, suffix in (
            ("reports.job_page", ""),
            ("reports.job_status", "/status.json"),
            ("reports.job_file", "/file.pdf"),
        )
        for job, who in (("head_job", HEAD), ("borrower_job", BORROWER))
    ],
]


def objects(app, world) -> dict:
    """Signed visits and sign-offs of the officer's, a colleague's and another branch's borrower."""
    with app.app_context():
        own = db.session.get(Borrower, world.own_borrower.id)
        foreign = db.session.get(Borrower, world.foreign_borrower.id)
        colleague = make_user(
            "reportcolleague", Role.OFFICER, db.session.get(Branch, world.branch.id)
        )
        colleagues_borrower = make_borrower(colleague)
        make_loan(colleagues_borrower, LoanStatus.ACTIVE)
        when = utcnow() - timedelta(hours=3)
        visits = {
            "report_visit": make_visit(own, db.session.get(User, world.officer.id), when),
            "colleague_visit": make_visit(colleagues_borrower, colleague, when),
            "foreign_report_visit": make_visit(
                foreign, db.session.get(User, world.other_officer.id), when
            ),
        }
        jobs = {
            "head_job": stored_job(
                JobKind.BRANCH_MONTH,
                world.head.id,
                branch_id=world.branch.id,
                month=str(current_month()),
                internal=True,
            ),
            "borrower_job": stored_job(
                JobKind.BORROWER_DOSSIER, world.borrower.id, borrower_id=own.id
            ),
        }
        material = first_version()
        refs = (
            {name: Ref(visit.id, name) for name, visit in visits.items()}
            | {
                "report_signoff": Ref(make_signoff(own, material).id, "own"),
                "foreign_report_signoff": Ref(make_signoff(foreign, material).id, "foreign"),
                "colleague_report_borrower": Ref(colleagues_borrower.id, "colleague"),
                "report_month": str(current_month()),
            }
            | {name: Ref(job.id, name) for name, job in jobs.items()}
        )
        db.session.commit()
        return refs
