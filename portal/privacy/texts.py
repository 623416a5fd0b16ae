"""What the borrower is told of each purpose before deciding: one short text per purpose.

What is processed, why, and for how long, in a sentence or two. The officer reads them
out at onboarding (the paper form carries the same words) and the borrower reads them
on their privacy page. Each decision records the version of the texts it was made on
(``consents.TEXT_VERSION``): a changed text needs a new version there, and docs/privacy.md
keeps every version's wording.
"""

from flask_babel import lazy_gettext as _l

from portal.privacy.consents import TEXT_VERSION
from portal.privacy.models import Purpose

__all__ = ["CONSENT_TEXTS", "TEXT_VERSION", "WITHOUT_CONSENT"]

CONSENT_TEXTS = {
    Purpose.LOAN: _l(
        "The company processes your name, resident ID number, phone numbers, address, "
        "household and business finances, your guarantor's name and phone, and the "
        "records of your loans and visits, to assess, grant, follow up and collect your "
        "loan as lending rules require. They are kept while the loan runs and for the "
        "period the lending rules require after it closes. This consent is required for a "
        "loan."
    ),
    Purpose.GREETINGS: _l(
        "The company uses your name, mobile number and birthday to send you birthday and "
        "holiday greetings by SMS. Kept while you are a borrower; if you withdraw, no "
        "greeting is sent any more and their history is deleted."
    ),
    Purpose.NETWORKING: _l(
        "Your business profile (what you offer and need, with quantities and seasons) is "
        "shown to loan officers to match you with other borrowers and invite you to "
        "networking events, where other borrowers meet you. If you withdraw, your profile "
        "leaves the matches at once and is deleted."
    ),
    Purpose.PHOTOS: _l(
        "The loan officer may take photos on follow-up visits (your business, stock, "
        "collateral, guarantor) to document the visit. They are kept with the visit "
        "record; if you withdraw, no new photos are taken and the existing ones are "
        "deleted."
    ),
    Purpose.SURVEYS: _l(
        "The company asks your satisfaction on visits and your rating of completed "
        "services, to improve its service. Your answers are kept with the visit or the "
        "service; if you withdraw, you are not asked any more."
    ),
}

# What each optional feature does for a borrower who has not given (or has withdrawn)
# the consent: shown beside the decision on the staff page and the borrower's.
WITHOUT_CONSENT = {
    Purpose.GREETINGS: _l("No birthday or holiday greeting is sent, not even one already queued."),
    Purpose.NETWORKING: _l(
        "The business profile is not shown in matches, profile lists or invitation lists."
    ),
    Purpose.PHOTOS: _l("The visit form does not accept photos for this borrower."),
    Purpose.SURVEYS: _l(
        "The satisfaction question is not asked on visits and completed services are not rated."
    ),
}
