/*
 * Field drafts in localStorage (contract: docs/frontend.md, "draft.js").
 *
 * Loan officers fill long forms on tablets over weak networks: a dropped
 * connection, a browser killed in the background or an accidental reload must
 * not lose the visit. Every <form data-draft-key="KEY"> is saved to
 * localStorage["portal-draft:KEY"] as the user types, put back on the next
 * load, and dropped only when a later page says the server stored the form:
 *   <meta name="portal-draft-clear" content="KEY">   ("*" drops every draft).
 *
 * Drafts hold customer data on a possibly shared tablet, so they expire
 * (data-draft-ttl-hours, default 72) and the server should emit the "*" meta
 * on logout.
 */
(() => {
  'use strict';

  const PREFIX = 'portal-draft:';
  const VERSION = 1;
  const SAVE_DELAY_MS = 300;
  const DEFAULT_TTL_HOURS = 72;
  const RESTORE_EVENT = 'portal:restore';
  // Never stored, whatever the markup says: the CSRF token is per session, and
  // putting a stale one back would make the next submit fail.
  const NEVER_NAMES = new Set(['csrf_token']);
  const TEXTLIKE = new Set([
    'text', 'search', 'email', 'tel', 'url', 'number', 'range', 'color',
    'date', 'datetime-local', 'time', 'month', 'week', 'textarea',
  ]);

  // localStorage throws in some private modes and when full; a draft is a
  // convenience, so failures are logged and otherwise ignored.
  const store = {
    get(key) {
      try {
        return JSON.parse(window.localStorage.getItem(PREFIX + key) || 'null');
      } catch (err) {
        return null;
      }
    },
    set(key, value) {
      try {
        window.localStorage.setItem(PREFIX + key, JSON.stringify(value));
      } catch (err) {
        console.warn('draft: could not save', err);
      }
    },
    remove(key) {
      try {
        window.localStorage.removeItem(PREFIX + key);
      } catch (err) { /* nothing stored then */ }
    },
    keys() {
      try {
        return Object.keys(window.localStorage)
          .filter((k) => k.startsWith(PREFIX))
          .map((k) => k.slice(PREFIX.length));
      } catch (err) {
        return [];
      }
    },
  };

  function isDraftable(el) {
    if (!el.name || NEVER_NAMES.has(el.name)) return false;
    if (el.disabled || el.readOnly) return false; // server-owned values
    if (el.hasAttribute('data-draft-exclude')) return false;
    const type = el.type;
    if (type === 'hidden') return el.hasAttribute('data-draft-include');
    return TEXTLIKE.has(type) || type === 'checkbox' || type === 'radio'
      || type === 'select-one' || type === 'select-multiple';
  }

  // name -> elements, in document order. form.elements also covers controls
  // outside the <form> tag that point to it with form="id".
  function groups(form) {
    const byName = new Map();
    for (const el of form.elements) {
      if (!isDraftable(el)) continue;
      if (!byName.has(el.name)) byName.set(el.name, []);
      byName.get(el.name).push(el);
    }
    return byName;
  }

  const isCheckable = (el) => el.type === 'checkbox' || el.type === 'radio';
  const selectedValues = (select) => Array.from(select.selectedOptions, (o) => o.value);

  // Shape of a stored name: for checkboxes/radios, the list of checked values;
  // otherwise one entry per element (an array of values for <select multiple>).
  function readForm(form) {
    const fields = {};
    for (const [name, els] of groups(form)) {
      if (els.every(isCheckable)) {
        fields[name] = els.filter((el) => el.checked).map((el) => el.value);
      } else {
        fields[name] = els.map((el) => (el.type === 'select-multiple' ? selectedValues(el) : el.value));
      }
    }
    return fields;
  }

  // Puts `fields` into the form; returns the elements whose state changed.
  // A draft saved by an older version of the form is applied as far as it
  // still fits: unknown names and mismatched shapes are skipped.
  function writeForm(form, fields) {
    const changed = [];
    for (const [name, els] of groups(form)) {
      const stored = fields[name];
      if (!Array.isArray(stored)) continue;
      if (els.every(isCheckable)) {
        for (const el of els) {
          const want = stored.includes(el.value);
          if (el.checked !== want) {
            el.checked = want;
            changed.push(el);
          }
        }
        continue;
      }
      els.forEach((el, i) => {
        const value = stored[i];
        if (el.type === 'select-multiple') {
          if (!Array.isArray(value)) return;
          let touched = false;
          for (const option of el.options) {
            const want = value.includes(option.value);
            if (option.selected !== want) {
              option.selected = want;
              touched = true;
            }
          }
          if (touched) changed.push(el);
        } else if (typeof value === 'string' && el.value !== value) {
          el.value = value;
          // A value the control refuses (option gone, bad date) reads back as
          // something else; that is not a restore worth announcing.
          if (el.value === value) changed.push(el);
        }
      });
    }
    // input/change so dependent UI updates as if the user had typed;
    // portal:restore for widgets that keep state outside the control
    // (signature.js redraws the canvas from its hidden input).
    for (const el of changed) {
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
      el.dispatchEvent(new CustomEvent(RESTORE_EVENT, { bubbles: true, detail: { source: 'draft' } }));
    }
    return changed;
  }

  function clearFromMeta() {
    for (const meta of document.querySelectorAll('meta[name="portal-draft-clear"]')) {
      const key = (meta.getAttribute('content') || '').trim();
      if (key === '*') store.keys().forEach((k) => store.remove(k));
      else if (key) store.remove(key);
    }
  }

  // Drop expired drafts of every form, not only the ones on this page, so a
  // customer's data does not linger on a tablet. Each draft carries the TTL of
  // the form that wrote it.
  function isLive(draft) {
    if (!draft || draft.v !== VERSION || typeof draft.fields !== 'object') return false;
    const ttlHours = Number(draft.ttlHours) || DEFAULT_TTL_HOURS;
    // abs(): a tablet whose clock was wrong when saving (and was corrected
    // since) must not lose the draft, nor keep it forever.
    const age = Math.abs(Date.now() - Number(draft.savedAt));
    return age < ttlHours * 3600e3;
  }

  function pruneExpired() {
    for (const key of store.keys()) {
      if (!isLive(store.get(key))) store.remove(key);
    }
  }

  class DraftForm {
    constructor(form) {
      this.form = form;
      this.key = form.getAttribute('data-draft-key');
      this.ttlHours = Number(form.getAttribute('data-draft-ttl-hours')) || DEFAULT_TTL_HOURS;
      this.timer = null;
      this.applying = false; // our own restore fires input events: don't save them
      // What the server rendered, for "discard draft".
      this.initial = readForm(form);
      this.notice = null;

      const schedule = () => this.schedule();
      form.addEventListener('input', schedule);
      form.addEventListener('change', schedule);
      // Save now rather than in 300 ms when the page may be going away: the
      // tablet may kill a backgrounded browser, and a submit over a bad
      // network may never come back.
      form.addEventListener('submit', () => this.flush());
      window.addEventListener('pagehide', () => this.flush());
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'hidden') this.flush();
      });

      this.restore();
    }

    schedule() {
      if (this.applying) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.save(), SAVE_DELAY_MS);
    }

    flush() {
      if (this.timer === null) return;
      this.save();
    }

    save() {
      clearTimeout(this.timer);
      this.timer = null;
      store.set(this.key, {
        v: VERSION, savedAt: Date.now(), ttlHours: this.ttlHours, fields: readForm(this.form),
      });
    }

    apply(fields) {
      this.applying = true;
      try {
        return writeForm(this.form, fields);
      } finally {
        this.applying = false;
      }
    }

    restore() {
      const draft = store.get(this.key);
      if (!isLive(draft)) return; // pruneExpired() already removed it
      // When the server re-renders the form after a validation error the
      // draft equals what is shown and nothing changes: no notice then.
      if (this.apply(draft.fields).length > 0) this.showNotice();
    }

    discard() {
      clearTimeout(this.timer);
      this.timer = null;
      this.apply(this.initial);
      store.remove(this.key);
      this.hideNotice();
    }

    findNoticeSlot() {
      const inForm = this.form.querySelector('[data-draft-notice]');
      if (inForm) return inForm;
      const slots = Array.from(document.querySelectorAll('[data-draft-notice]'));
      return slots.find((el) => el.getAttribute('data-draft-notice') === this.key)
        || slots.find((el) => !el.getAttribute('data-draft-notice') && !el.closest('form'))
        || null;
    }

    // Built with DOM calls and textContent: the texts come from attributes
    // and are never parsed as HTML. Dismissal is handled here so Bootstrap's
    // own JS is not needed.
    showNotice() {
      const slot = this.findNoticeSlot();
      if (!slot) return;
      const text = (name, fallback) => slot.getAttribute(name) || this.form.getAttribute(name) || fallback;

      const alert = document.createElement('div');
      alert.className = 'alert alert-info alert-dismissible d-flex flex-wrap align-items-center gap-2 mb-3';
      alert.setAttribute('role', 'status');
      alert.setAttribute('data-draft-alert', '');

      const message = document.createElement('span');
      message.textContent = text('data-draft-restored-text', 'A draft was restored.');

      const discard = document.createElement('button');
      discard.type = 'button';
      discard.className = 'btn btn-sm btn-outline-secondary';
      discard.setAttribute('data-draft-discard', '');
      discard.textContent = text('data-draft-discard-text', 'Discard draft');
      discard.addEventListener('click', () => this.discard());

      const close = document.createElement('button');
      close.type = 'button';
      close.className = 'btn-close';
      close.setAttribute('aria-label', text('data-draft-close-text', 'Close'));
      close.addEventListener('click', () => this.hideNotice());

      alert.append(message, discard, close);
      slot.replaceChildren(alert);
      slot.hidden = false;
      this.notice = slot;
    }

    hideNotice() {
      if (!this.notice) return;
      this.notice.replaceChildren();
      this.notice.hidden = true;
      this.notice = null;
    }
  }

  function start() {
    // Clearing first: a "saved, enter the next one" page may carry both the
    // clear meta and a fresh copy of the same form.
    clearFromMeta();
    pruneExpired();
    document.querySelectorAll('form[data-draft-key]').forEach((form) => new DraftForm(form));
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
