"""The microloan customer-care portal."""

import importlib
import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import settings
from portal.core import inputs
from portal.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate
from portal.features import view_modules

log = logging.getLogger(__name__)


def create_app(config: dict | None = None) -> Flask:
    """Build the application; ``config`` overrides the environment (tests use it)."""
    app = Flask(
        __name__,
        instance_path=str(settings.INSTANCE_PATH),
        template_folder=str(settings.PROJECT_ROOT / "templates"),
        static_folder=str(settings.PROJECT_ROOT / "static"),
    )
    app.config.update(settings.DEFAULTS)
    app.config.update(settings.from_environment(config or {}))
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["PORTAL_TIMEZONE"])
    settings.check_production(app.config)
    inputs.install_converter(app)
    register_extensions(app)
    register_blueprints(app)
    register_links()
    register_template_helpers(app)
    register_hooks(app)
    register_commands(app)
    if hops := app.config["TRUST_PROXY_HOPS"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=1, x_host=1)
    return app


def register_extensions(app: Flask) -> None:
    """Bind every extension object to ``app``."""
    import portal.models  # noqa: F401 - every mapped class, before anything queries
    from portal.core.i18n import select_locale, select_timezone
    from portal.database import tune_sqlite

    db.init_app(app)
    migrate.init_app(app, db, directory=str(settings.PROJECT_ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    bootstrap.init_app(app)
    limiter.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            tune_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def register_blueprints(app: Flask) -> None:
    """One blueprint per feature with pages."""
    for module in view_modules():
        app.register_blueprint(importlib.import_module(module).bp)


def register_links() -> None:
    """Where one feature's write starts work in another: every such link is listed here."""
    from portal.borrowers.operations import borrower_reassigned
    from portal.evidence import flags as evidence_flags
    from portal.services import operations as services
    from portal.tiers import stored as tier_suggestions
    from portal.visits import counts as compliance_counts
    from portal.visits.operations import visit_signed

    visit_signed.connect(services.on_visit_signed)
    # A signed visit's evidence is checked against the rules: its flags, in the same commit.
    visit_signed.connect(evidence_flags.on_visit_signed)
    borrower_reassigned.connect(services.on_borrower_reassigned)
    # Loan steps, counted visits and tier changes store the borrower's suggested tier
    # in their own transaction, whichever feature wrote them.
    tier_suggestions.keep_current()
    # Visits, loan steps and reassignments keep the compliance counts in their own
    # transaction, whichever feature wrote them (portal/visits/counts.py).
    compliance_counts.keep_current()


def register_template_helpers(app: Flask) -> None:
    """What one feature's templates borrow from another: every name is listed here.

    Those that run a query (a menu count, a borrower's loans on the borrower page) are
    handed over as functions, so a page pays only for what it shows. Helpers of all
    features (dates, paging, the menu) are in portal/core/templating.py.
    """
    from portal.borrowers import masking
    from portal.care.occasions import solar_term_label
    from portal.care.texts import occasion_label as text_occasion_label
    from portal.complaints.queries import menu_count as complaint_menu_count
    from portal.evidence import queries as evidence
    from portal.evidence.rules import distance_text
    from portal.evidence.sites import visit_site_distance
    from portal.fieldkit.queries import open_held_count as field_held_count
    from portal.loans.lifecycle import retraining_reason
    from portal.loans.models import (
        loan_status_label,
        repayment_method_label,
        repayment_status_label,
    )
    from portal.loans.queries import borrower_loans, confirmation_menu_count, next_instalment
    from portal.privacy.queries import menu_count as privacy_menu_count
    from portal.reminders import queries as reminders
    from portal.retention.queries import hold_in_place as legal_hold_in_place
    from portal.services.queries import menu_counts as service_menu_counts
    from portal.training.operations import hash_matches
    from portal.training.queries import signoff_is_stale, signoff_mistakes, training_language
    from portal.visits import queries as visits
    from portal.visits.risk import risk_label, visit_risk_reason

    app.jinja_env.globals.update(
        borrower_loans=borrower_loans,
        next_instalment=next_instalment,
        borrower_visit_timeline=visits.recent_visits,
        complaint_menu_count=complaint_menu_count,
        evidence_open_count=evidence.open_count,
        evidence_question_count=evidence.question_count,
        field_held_count=field_held_count,
        hash_matches=hash_matches,
        legal_hold_in_place=legal_hold_in_place,
        loan_confirmation_count=confirmation_menu_count,
        loan_status_label=loan_status_label,
        morning_reminder=reminders.todays_morning,
        privacy_menu_count=privacy_menu_count,
        reminder_text=reminders.reminder_text,
        repayment_status_label=repayment_status_label,
        repayment_method_label=repayment_method_label,
        service_menu_counts=service_menu_counts,
        retraining_reason=retraining_reason,
        signoff_is_stale=signoff_is_stale,
        signoff_mistakes=signoff_mistakes,
        solar_term_label=solar_term_label,
        text_occasion_label=text_occasion_label,
        training_language=training_language,
        visit_site_distance=visit_site_distance,
        visit_warning_count=visits.open_warning_count,
    )
    app.jinja_env.filters.update(
        birth_year=masking.birth_year,
        distance=distance_text,
        display_phone=masking.display_phone,
        mask_numbers_in_text=masking.mask_numbers_in_text,
        mask_phone=masking.mask_phone,
        mask_resident_id=masking.mask_resident_id,
        risk_label=risk_label,
        risk_reason=visit_risk_reason,
        without_numbers=masking.without_numbers,
    )


def register_hooks(app: Flask) -> None:
    """Login loading, security headers, error pages and template helpers."""
    from portal.accounts import session
    from portal.core import assets, diagnostics, errors, security, templating
    from portal.jobs import queue
    from portal.reports import rendering

    session.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    inputs.init_app(app)
    templating.init_app(app)
    rendering.init_app(app)
    diagnostics.init_app(app)
    queue.init_app(app)
    assets.init_app(app)


def register_commands(app: Flask) -> None:
    """Flask CLI groups."""
    import portal.core.backup  # noqa: F401 - adds `flask db backup` and `flask db restore`
    from portal.demo.cli import demo_cli

    app.cli.add_command(demo_cli)
    app.cli.add_command(importlib.import_module("portal.care.cli").care_cli)
    app.cli.add_command(importlib.import_module("portal.reports.cli").reports_cli)
    app.cli.add_command(importlib.import_module("portal.tiers.cli").tiers_cli)
    app.cli.add_command(importlib.import_module("portal.jobs.cli").jobs_cli)
    app.cli.add_command(importlib.import_module("portal.reminders.cli").reminders_cli)
    app.cli.add_command(importlib.import_module("portal.visits.cli").visits_cli)
    app.cli.add_command(importlib.import_module("portal.portfolio.cli").portfolio_cli)
    app.cli.add_command(importlib.import_module("portal.imports.cli").imports_cli)
    app.cli.add_command(importlib.import_module("portal.core.crypto_cli").encryption_cli)
    app.cli.add_command(importlib.import_module("portal.retention.cli").retention_cli)
