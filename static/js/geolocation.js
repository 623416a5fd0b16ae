/*
 * Optional "record my location" button (contract: docs/frontend.md,
 * "geolocation.js").
 *
 * The position is asked for only when the officer presses the button, never
 * on page load: a permission prompt nobody asked for gets denied out of
 * reflex, and the location is optional anyway. All texts come from data
 * attributes so the server renders them in the user's language.
 */
(() => {
  'use strict';

  const DEFAULT_TIMEOUT_MS = 20000;
  // A fix up to a minute old is as good for "where was this visit" and
  // answers at once instead of waiting for a new GPS lock.
  const MAX_AGE_MS = 60000;

  const byId = (id) => (id ? document.getElementById(id) : null);

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (m, key) => (key in values ? values[key] : m));
  }

  function setInput(input, value) {
    if (!input) return;
    input.value = value;
    // So draft.js (if the inputs carry data-draft-include) saves them.
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }

  function setup(button) {
    const text = (name, fallback) => button.getAttribute(name) || fallback;
    const status = byId(button.getAttribute('data-status'));
    const lat = byId(button.getAttribute('data-lat-input'));
    const lng = byId(button.getAttribute('data-lng-input'));
    const accuracy = byId(button.getAttribute('data-accuracy-input'));
    // What happened, for the record: "fix", "denied", "unavailable", "timeout",
    // "unsupported" (the server renders "not_asked" until the button is used).
    const outcome = byId(button.getAttribute('data-status-input'));
    const report = (value) => {
      // A failed retry does not unsay an earlier good fix (its values are kept).
      if (value !== 'fix' && lat && lng && lat.value && lng.value) return;
      if (outcome && outcome.value !== value) setInput(outcome, value);
    };

    const say = (message, tone) => {
      if (!status) return;
      status.textContent = message;
      status.classList.remove('text-success', 'text-danger', 'text-muted');
      status.classList.add(tone);
    };

    // Geolocation needs a secure context (HTTPS or localhost); elsewhere the
    // API is missing and the button stays hidden as the server rendered it.
    if (!('geolocation' in navigator)) {
      report('unsupported');
      if (!button.hidden) {
        button.disabled = true;
        say(text('data-text-unsupported', 'Location is not available on this device.'), 'text-muted');
      }
      return;
    }
    button.hidden = false;

    let busy = false;
    button.addEventListener('click', (event) => {
      event.preventDefault();
      if (busy) return;
      busy = true;
      button.disabled = true;
      button.setAttribute('aria-busy', 'true');
      say(text('data-text-locating', 'Locating…'), 'text-muted');

      let finished = false;
      const done = () => {
        finished = true;
        busy = false;
        button.disabled = false;
        button.removeAttribute('aria-busy');
      };
      const timeout = Number(button.getAttribute('data-timeout')) || DEFAULT_TIMEOUT_MS;
      // The API's own timeout does not run while the permission prompt is
      // open, and some browsers never call back when the prompt is simply
      // ignored: give the button back after a while in any case.
      setTimeout(() => {
        if (finished) return;
        say(text('data-text-timeout', 'Locating took too long. Try again.'), 'text-danger');
        report('timeout');
        done();
      }, timeout + 15000);

      navigator.geolocation.getCurrentPosition(
        (position) => {
          // Written even if the watchdog already gave up: a late good fix is
          // still a good fix.
          const { latitude, longitude } = position.coords;
          const meters = Math.round(position.coords.accuracy);
          // 6 decimals is about 0.1 m: more digits would only be noise.
          setInput(lat, latitude.toFixed(6));
          setInput(lng, longitude.toFixed(6));
          setInput(accuracy, String(meters));
          report('fix');
          say(fill(text('data-text-success', 'Location recorded (±{accuracy} m).'), {
            lat: latitude.toFixed(6), lng: longitude.toFixed(6), accuracy: meters,
          }), 'text-success');
          if (!finished) done();
        },
        (error) => {
          if (finished) return;
          // Earlier values, if any, are kept: a failed retry should not
          // erase a good fix.
          const messages = {
            1: text('data-text-denied', 'Location permission was denied.'),
            2: text('data-text-unavailable', 'Location is unavailable.'),
            3: text('data-text-timeout', 'Locating took too long. Try again.'),
          };
          say(messages[error.code] || messages[2], 'text-danger');
          report({ 1: 'denied', 3: 'timeout' }[error.code] || 'unavailable');
          done();
        },
        { enableHighAccuracy: true, timeout, maximumAge: MAX_AGE_MS },
      );
    });
  }

  function start() {
    document.querySelectorAll('[data-geolocate]').forEach(setup);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
