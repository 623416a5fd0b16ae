"""Issue 20: a failed check shows which questions were wrong and, once recorded, the right answers."""

import pytest

from portal.extensions import db
from portal.loans.models import LoanStatus
from tests.loans.helpers import new_loan
from tests.training.helpers import correct_answers, first_version, png_data_url, wrong_answers


@pytest.fixture
def check(app, world) -> dict:
    """Version 1: form data with only the second and fourth questions answered wrong."""
    with app.app_context():
        version = first_version()
        db.session.commit()
        questions = sorted(version.questions, key=lambda q: q.position)
        answers = correct_answers(version)
        wrong = wrong_answers(version)
        for question in (questions[1], questions[3]):
            answers[f"q{question.id}"] = wrong[f"q{question.id}"]

        def text(question, index, language):
            return question.options[index][language]

        return {
            "id": str(version.id),
            "answers": answers,
            "wrong": [
                {
                    language: (
                        getattr(q, f"text_{language}"),
                        text(q, int(wrong[f"q{q.id}"]), language),
                        text(q, q.correct_option, language),
                    )
                    for language in ("zh", "en")
                }
                for q in (questions[1], questions[3])
            ],
            "right": {
                language: getattr(questions[0], f"text_{language}") for language in ("zh", "en")
            },
        }


def _submit(client, loan_id, check):
    data = {"material_id": check["id"], "signature": png_data_url(), **check["answers"]}
    return client.submit(f"/loans/{loan_id}/training", data)


def _mistakes(page: str) -> str:
    start = page.index('data-testid="mistakes"')
    return page[start : page.index("</ol>", start)]


def test_before_an_attempt_no_right_answer_is_shown(app, client, world, check):
    loan_id = new_loan(app, world, LoanStatus.APPROVED)
    client.login("officer")
    page = client.get(f"/loans/{loan_id}/training").get_data(as_text=True)
    assert 'data-testid="mistakes"' not in page and "Right answer" not in page


def test_a_failed_check_lists_the_wrong_questions_and_the_right_answers(app, client, world, check):
    loan_id = new_loan(app, world, LoanStatus.APPROVED)
    client.login("officer")
    response = _submit(client, loan_id, check)
    assert response.headers["Location"] == f"/loans/{loan_id}/training"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    listed = _mistakes(page)
    for mistake in check["wrong"]:
        question, chosen, right = mistake["zh"]
        assert question in listed and chosen in listed and right in listed
    assert check["right"]["zh"] not in listed  # questions answered right are not listed
    assert listed.count("<li") == 2

    client.submit("/language", {"locale": "en"}, page="/account")
    page = client.get(f"/loans/{loan_id}/training").get_data(as_text=True)
    listed = _mistakes(page)
    assert "2 questions were answered wrong:" in page
    for mistake in check["wrong"]:
        question, chosen, right = mistake["en"]
        assert question in listed
        assert f"Answered: {chosen}" in listed and f"Right answer: {right}" in listed
