"""The browser fixtures, for the onboarding walk-through in Chromium."""

from tests.browser.conftest import browser, live_server, page, screenshot  # noqa: F401
