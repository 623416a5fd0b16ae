"""The admin's home: what needs the admin's hand today, each item with where to act."""

from dataclasses import dataclass

import sqlalchemy as sa

from portal.accounts.models import STAFF_ROLES, Role, User
from portal.branches.models import Branch
from portal.care.models import OutboxMessage, OutboxStatus
from portal.extensions import db
from portal.training.models import TrainingMaterial


@dataclass(frozen=True)
class AdminDesk:
    """Counts and lists for the admin's home page (a fixed number of queries)."""

    disabled_staff: int
    temporary_passwords: int
    failed_greetings: int
    published_material: TrainingMaterial | None
    draft_materials: int
    branches_without_head: list[Branch]
    failed_jobs: int = 0
    worker: str = "none"

    @property
    def all_clear(self) -> bool:
        return not (
            self.disabled_staff
            or self.temporary_passwords
            or self.failed_greetings
            or self.failed_jobs
            or self.worker == "stale"
            or self.draft_materials
            or self.branches_without_head
            or self.published_material is None
        )


def _count(stmt) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))


def admin_desk() -> AdminDesk:
    """What an admin acts on: accounts, greetings that failed, training material, branches,
    and the queue of jobs (failed jobs, a silent worker)."""
    from portal.jobs import queries as jobs

    staff = sa.select(User.id).where(User.role.in_(STAFF_ROLES))
    headed = sa.select(User.branch_id).where(User.role == Role.HEAD, User.active)
    return AdminDesk(
        disabled_staff=_count(staff.where(~User.active)),
        temporary_passwords=_count(staff.where(User.active, User.must_change_password)),
        failed_greetings=_count(
            sa.select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.FAILED)
        ),
        published_material=db.session.scalars(
            sa.select(TrainingMaterial)
            .where(TrainingMaterial.published_at.is_not(None))
            .order_by(TrainingMaterial.version.desc())
            .limit(1)
        ).first(),
        draft_materials=_count(
            sa.select(TrainingMaterial.id).where(TrainingMaterial.published_at.is_(None))
        ),
        branches_without_head=list(
            db.session.scalars(
                sa.select(Branch)
                .where(Branch.active, Branch.id.not_in(headed.where(User.branch_id.is_not(None))))
                .order_by(Branch.code)
            )
        ),
        failed_jobs=jobs.failed_count(),
        worker=jobs.worker_heartbeat(),
    )
