/*
 * Confirmation prompts without inline onclick (contract: docs/frontend.md,
 * "confirm.js"); the CSP forbids inline handlers.
 *
 *   <form data-confirm="...">                       asks before any submit
 *   <button type="submit" data-confirm="...">       asks for this button only
 *   <a href="..." data-confirm="...">               asks before following
 *
 * Both listeners are on document in the capture phase so they run before
 * any other handler, in particular before submit-once.js locks the form:
 * answering "Cancel" leaves the page exactly as it was.
 */
(() => {
  'use strict';

  const SUBMITTERS = 'button[type="submit"], button:not([type]), input[type="submit"], input[type="image"]';

  function ask(element) {
    const message = element.getAttribute('data-confirm');
    // An empty attribute asks nothing rather than showing an empty dialog.
    return !message || window.confirm(message);
  }

  function stop(event) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  // Submits: the clicked button's own message wins over the form's, so a
  // "delete" button in an edit form asks only its own question.
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const submitter = event.submitter;
    const asker = submitter && submitter.hasAttribute('data-confirm') ? submitter
      : form.hasAttribute('data-confirm') ? form : null;
    if (asker && !ask(asker)) stop(event);
  }, true);

  // Links and plain buttons (not submit buttons: those are handled above, so
  // that Enter in a text field and requestSubmit() ask as well).
  document.addEventListener('click', (event) => {
    const el = event.target.closest && event.target.closest('[data-confirm]');
    if (!el || el.tagName === 'FORM' || el.matches(SUBMITTERS)) return;
    if (!ask(el)) stop(event);
  }, true);
})();
