/*
 * Double-submit guard (contract: docs/frontend.md, "submit-once.js").
 *
 * On a slow village connection a submit can take many seconds with no visible
 * change, and people tap "save" again. For <form data-submit-once> the first
 * submit disables the form's submit buttons and shows a spinner with the text
 * of data-submitting-text; later submits of the same page are cancelled.
 * This is UX only: the server's idempotency token is what prevents a
 * duplicate record.
 */
(() => {
  'use strict';

  // Forms currently submitting -> what to undo when the page comes back.
  const pending = new Map();
  // Fallback for browsers without SubmitEvent.submitter.
  const lastClicked = new WeakMap();

  const SUBMIT_SELECTOR = 'button[type="submit"], button:not([type]), input[type="submit"], input[type="image"]';

  function submitButtons(form) {
    // form.elements includes buttons outside the <form> tag with form="id";
    // image inputs are not in form.elements, hence the second query.
    const inside = Array.from(form.elements).filter((el) => el.matches(SUBMIT_SELECTOR));
    const images = Array.from(form.querySelectorAll('input[type="image"]'));
    return [...new Set([...inside, ...images])];
  }

  function textFor(form, submitter) {
    return (submitter && submitter.getAttribute('data-submitting-text'))
      || form.getAttribute('data-submitting-text')
      || '';
  }

  function lock(form, submitter) {
    const undo = [];

    // A disabled button is left out of the submitted data, and disabling
    // happens before the browser collects it. Carry the clicked button's
    // name=value in a hidden input so the server still sees which button
    // ("save" / "save and next") was used.
    if (submitter && submitter.name && submitter.type !== 'image') {
      const proxy = document.createElement('input');
      proxy.type = 'hidden';
      proxy.name = submitter.name;
      proxy.value = submitter.value;
      proxy.setAttribute('data-submit-once-proxy', '');
      form.append(proxy);
      undo.push(() => proxy.remove());
    }

    for (const button of submitButtons(form)) {
      if (button.disabled) continue; // disabled by the server: leave it so
      button.disabled = true;
      undo.push(() => { button.disabled = false; });
    }

    const shown = submitter || submitButtons(form)[0];
    const text = textFor(form, shown);
    if (shown && text) {
      if (shown.tagName === 'BUTTON') {
        const original = Array.from(shown.childNodes);
        const spinner = document.createElement('span');
        spinner.className = 'spinner-border spinner-border-sm me-1';
        spinner.setAttribute('aria-hidden', 'true');
        const label = document.createElement('span');
        label.textContent = text;
        shown.replaceChildren(spinner, label);
        undo.push(() => shown.replaceChildren(...original));
      } else if (shown.type === 'submit') {
        // <input type=submit> can only show text.
        const original = shown.value;
        shown.value = text;
        undo.push(() => { shown.value = original; });
      }
    }

    form.setAttribute('aria-busy', 'true');
    undo.push(() => form.removeAttribute('aria-busy'));
    pending.set(form, undo);

    // Forms that do not leave the page (target=_blank, file downloads) can
    // opt in to unlocking after N seconds.
    const seconds = Number(form.getAttribute('data-submit-once-reset'));
    if (seconds > 0) setTimeout(() => unlock(form), seconds * 1000);
  }

  function unlock(form) {
    const undo = pending.get(form);
    if (!undo) return;
    pending.delete(form);
    undo.reverse().forEach((fn) => fn());
  }

  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest(SUBMIT_SELECTOR);
    if (button && button.form) lastClicked.set(button.form, button);
  }, true);

  // Listening on document in the bubble phase runs after every handler on the
  // form itself and after confirm.js (document, capture), so a submit someone
  // cancelled (e.g. "Cancel" in a confirm dialog) never locks the form.
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-submit-once')) return;
    if (pending.has(form)) {
      // Enter in a text field, or a second tap that got through.
      event.preventDefault();
      return;
    }
    if (event.defaultPrevented) return;
    const submitter = event.submitter !== undefined ? event.submitter : lastClicked.get(form);
    lock(form, submitter || null);
  });

  // Back button: a page restored from the back/forward cache still has its
  // buttons disabled from the submit that took us away.
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) Array.from(pending.keys()).forEach(unlock);
  });
})();
