"""The admin's versioned training material: draft, edit, publish, then frozen."""

import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.demo.loans import QUESTIONS, SECTIONS
from portal.extensions import db
from portal.training.models import TrainingMaterial
from tests.loans.helpers import english
from tests.training.helpers import first_version


def _form(sections=SECTIONS, questions=QUESTIONS, **values) -> dict:
    data = {"title_zh": "诚信培训（修订）", "title_en": "Integrity training, revised"}
    data["pass_mark_percent"] = "60"
    for i, section in enumerate(sections):
        data |= {f"sections-{i}-{key}": value for key, value in section.items()}
    for i, question in enumerate(questions):
        data |= {
            f"questions-{i}-text_zh": question["text_zh"],
            f"questions-{i}-text_en": question["text_en"],
            f"questions-{i}-options_zh": "\n".join(o["zh"] for o in question["options"]),
            f"questions-{i}-options_en": "\n".join(o["en"] for o in question["options"]),
            f"questions-{i}-correct": str(question["correct_option"] + 1),
        }
    return data | values


def _material(app, version: int) -> TrainingMaterial | None:
    with app.app_context():
        material = db.session.scalar(
            sa.select(TrainingMaterial).where(TrainingMaterial.version == version)
        )
        if material is not None:
            material.sections, material.questions  # noqa: B018 - load before detaching
            db.session.expunge(material)
        return material


def _count(app, model=TrainingMaterial) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_admin_drafts_edits_and_publishes_a_new_version(app, client, world):
    with app.app_context():
        first_version()
        db.session.commit()
    client.login("admin")
    page = client.get("/admin/training/new").get_data(as_text=True)
    assert "什么是诚信" in page  # the new version starts from the current one
    response = client.submit("/admin/training/new", _form())
    assert response.status_code == 302
    draft = _material(app, 2)
    assert draft.published_at is None and len(draft.sections) == 5
    assert draft.questions[1].options[1]["en"].startswith("Tell the loan officer early")
    assert draft.questions[1].correct_option == 1

    edited = _form(**{"sections-0-heading_en": "What integrity means", "questions-4-remove": "y"})
    client.submit(f"/admin/training/{draft.id}/edit", edited)
    draft = _material(app, 2)
    assert draft.sections[0].heading_en == "What integrity means"
    assert len(draft.questions) == 4

    client.submit(f"/admin/training/{draft.id}/publish", page=f"/admin/training/{draft.id}")
    assert _material(app, 2).published_at is not None
    listing = client.get("/admin/training/").get_data(as_text=True)
    assert "现行" in listing and "已被替换" in listing
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEntry.action).where(AuditEntry.object_type == "TrainingMaterial")
        ).all()
    assert actions == [
        "training.material_create",
        "training.material_update",
        "training.material_publish",
    ]


def test_a_published_version_cannot_be_edited(app, client, world):
    with app.app_context():
        material = first_version()
        db.session.commit()
        material_id = material.id
    client.login("admin")
    english(client)
    response = client.submit(
        f"/admin/training/{material_id}/edit",
        _form(**{"sections-0-heading_zh": "改过的标题"}),
        page="/admin/training/new",
        follow_redirects=True,
    )
    assert "A published version cannot be changed" in response.get_data(as_text=True)
    assert _material(app, 1).sections[0].heading_zh == "什么是诚信"


def test_only_one_draft_at_a_time(app, client, world):
    client.login("admin")
    client.submit("/admin/training/new", _form())
    response = client.get("/admin/training/new")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/training/{_material(app, 1).id}/edit"
    assert _count(app) == 1


def test_an_incomplete_draft_cannot_be_published(app, client, world):
    client.login("admin")
    english(client)
    client.submit("/admin/training/new", _form(sections=SECTIONS[:3]))
    draft = _material(app, 1)
    page = client.submit(
        f"/admin/training/{draft.id}/publish",
        page=f"/admin/training/{draft.id}",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "at least 5 sections and 3 questions" in page
    assert _material(app, 1).published_at is None


def test_bad_material_input_is_refused_in_both_languages(app, client, world):
    client.login("admin")
    bad = _form(
        title_en="",
        pass_mark_percent="120",
        **{
            "sections-1-body_en": "",
            "questions-0-options_en": "Only one option",
            "questions-1-correct": "9",
        },
    )
    page = client.submit("/admin/training/new", bad).get_data(as_text=True)
    assert "请填写此项。" in page
    assert "请输入 1 到 100 之间的及格线。" in page
    assert "请给出 2 到 6 个选项" in page
    assert "请输入正确选项的序号（1 到 3）。" in page
    assert _count(app) == 0
    english(client)
    page = client.submit("/admin/training/new", bad).get_data(as_text=True)
    assert "Fill in this field." in page
    assert "Give 2 to 6 options, the same number in Chinese and in English." in page
    assert 'value="诚信培训（修订）"' in page  # typed values stay
    assert _count(app) == 0


def test_the_admin_sees_both_languages_of_a_version(app, client, world):
    with app.app_context():
        material = first_version()
        db.session.commit()
        material_id = material.id
    client.login("admin")
    page = client.get(f"/admin/training/{material_id}").get_data(as_text=True)
    for text in ("诚信与道德", "Integrity and ethics", "违约对信用记录的影响", "credit record"):
        assert text in page
