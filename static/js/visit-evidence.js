/*
 * The visit form's times, by the tablet's clock (contract: docs/frontend.md,
 * "visit-evidence.js"; what they are for: docs/visit-evidence.md).
 *
 *   <input type="hidden" name="opened_at" data-visit-opened-at data-draft-include>
 *   <input type="hidden" name="signed_at_device" data-visit-signed-at>
 *
 * opened_at: when the form was first opened. A value already there is kept: the
 * server showing the form again after an error renders the posted one, and a
 * restored draft (draft.js) puts back the first opening's. Load this script
 * before draft.js, so "discard draft" returns to this opening rather than to none.
 * signed_at_device: when the form is submitted, i.e. signed and saved (online to the
 * server, offline to the outbox). Both ISO 8601 UTC, whole seconds.
 */
(() => {
  'use strict';

  const utcNow = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

  function setup(form) {
    const opened = form.querySelector('[data-visit-opened-at]');
    const signed = form.querySelector('[data-visit-signed-at]');
    const openedNow = utcNow();
    // No input event: opening the form is not a change worth a draft.
    if (opened && !opened.value) opened.value = openedNow;
    // Capture phase: the time is set before any other submit handler reads the form
    // (the field kit's collects the fields and cancels the browser's submit).
    form.addEventListener(
      'submit',
      () => {
        if (opened && !opened.value) opened.value = openedNow;
        if (signed) signed.value = utcNow();
      },
      true
    );
  }

  function start() {
    const forms = new Set();
    document.querySelectorAll('[data-visit-opened-at], [data-visit-signed-at]').forEach((input) => {
      if (input.form) forms.add(input.form);
    });
    forms.forEach(setup);
  }

  // Deferred, this runs after parsing: the form is there, and draft.js (loaded after
  // this one) has not yet read it.
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
