"""Import every feature's models, so metadata, migrations and relationships see them all."""

from portal.accounts.models import LoginSession, User
from portal.audit.models import AuditEntry
from portal.borrowers.models import ActivationCode, Borrower, IdCardPhoto, OfficerAssignment
from portal.branches.models import Branch
from portal.loans.models import Loan, LoanEvent
from portal.training.models import (
    TrainingMaterial,
    TrainingQuestion,
    TrainingSection,
    TrainingSignoff,
)

__all__ = [
    "ActivationCode",
    "AuditEntry",
    "Borrower",
    "Branch",
    "IdCardPhoto",
    "Loan",
    "LoanEvent",
    "LoginSession",
    "OfficerAssignment",
    "TrainingMaterial",
    "TrainingQuestion",
    "TrainingSection",
    "TrainingSignoff",
    "User",
]
