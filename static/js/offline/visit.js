/*
 * /field/visit#borrower=ID, the visit form offline (docs/field-kit.md). The borrower's
 * facts come from the officer's IndexedDB; "save" puts the entry into the outbox
 * (client id, opened_at and signed_at from the tablet's clock, the answers, the photos
 * as data URLs, the content hash) and goes back to /field. Runs before draft.js, which
 * keeps the typed answers meanwhile.
 */
(function () {
  'use strict';

  const F = window.PortalField;
  const S = window.PortalFieldSync;
  const texts = JSON.parse(document.getElementById('field-texts').textContent);
  const form = document.querySelector('form[data-field-visit-form]');
  const match = /(?:^#|&)borrower=(\d+)(?:&|$)/.exec(location.hash);
  const borrowerId = match ? Number(match[1]) : null;
  const NOT_SENT = new Set(['csrf_token', 'idempotency_token', 'submit']);
  const PHOTO_FIELD = /^photo_(kind_)?\d+$/;

  // The draft belongs to this officer and borrower; set before draft.js reads it.
  if (S.user && borrowerId) {
    form.setAttribute('data-draft-key', 'field-' + S.user + '-visit-' + borrowerId);
  } else {
    form.removeAttribute('data-draft-key');
  }
  const openedKey = 'portal-field-opened:' + S.user + ':' + borrowerId;

  function openedAt() {
    try {
      let value = sessionStorage.getItem(openedKey);
      if (!value) {
        value = F.utcNow();
        sessionStorage.setItem(openedKey, value);
      }
      return value;
    } catch (error) {
      return F.utcNow();
    }
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (all, name) =>
      name in values && values[name] !== null && values[name] !== undefined ? String(values[name]) : '—'
    );
  }

  function fact(name, text) {
    const node = document.querySelector('[data-fact="' + name + '"]');
    if (node) node.textContent = text || '—';
    return node;
  }

  function nowInCompanyTime() {
    const options = {
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    };
    let text;
    try {
      text = new Intl.DateTimeFormat('sv-SE', Object.assign({ timeZone: S.timeZone }, options)).format(new Date());
    } catch (error) {
      text = new Intl.DateTimeFormat('sv-SE', options).format(new Date());
    }
    return text.replace(' ', 'T');
  }

  function setValue(control, value) {
    control.value = value;
    control.dispatchEvent(new Event('input', { bubbles: true }));
    control.dispatchEvent(new Event('change', { bubbles: true }));
  }

  /** The online form's defaults, where nothing was typed (a restored draft wins). */
  function applyDefaults(borrower) {
    const when = form.elements.namedItem('visited_at');
    if (when && !when.value) setValue(when, nowInCompanyTime());
    const defaults = borrower.defaults || {};
    for (const [name, values] of Object.entries(defaults)) {
      const controls = Array.from(form.querySelectorAll('[name="' + CSS.escape(name) + '"]'));
      if (!controls.length || !Array.isArray(values)) continue;
      const choices = controls.filter((c) => c.type === 'radio' || c.type === 'checkbox');
      if (choices.length) {
        if (choices.some((c) => c.checked)) continue;
        for (const control of choices) {
          if (values.includes(control.value)) {
            control.checked = true;
            control.dispatchEvent(new Event('change', { bubbles: true }));
          }
        }
      } else if (!controls[0].value && values.length) {
        setValue(controls[0], values[0]);
      }
    }
  }

  function showFacts(borrower, photo) {
    fact('name', borrower.name);
    document.title = borrower.name + ' · ' + document.title;
    const loan = borrower.loan || {};
    fact('loan', fill(texts.loan, { purpose: loan.purpose, amount: loan.amount, day: loan.disbursed_on }));
    fact('village', borrower.village);
    fact('address', borrower.address);
    fact('phone_masked', borrower.phone_masked);
    fact('id_masked', borrower.id_masked);
    const last = borrower.last_visit;
    fact(
      'last_visit',
      last ? (last.visited_at || '').slice(0, 10) + ' · ' + (last.risk_label || last.risk_level || '') : texts.no_visit
    );
    if (last && Array.isArray(last.summary) && last.summary.length) {
      const body = document.querySelector('[data-fact="summary"]');
      for (const [label, answer] of last.summary) {
        const row = document.createElement('tr');
        const head = document.createElement('th');
        head.scope = 'row';
        head.textContent = label;
        const cell = document.createElement('td');
        cell.textContent = answer;
        row.append(head, cell);
        body.append(row);
      }
      document.querySelector('[data-fact="summary-box"]').hidden = false;
    }
    const requests = (borrower.open_requests || []).map((request) =>
      fill(texts.request, { label: request.label, status: request.status, day: request.opened_on })
    );
    fact('open_requests', requests.length ? requests.join('；') : texts.none);
    if (photo && photo.blob) {
      const image = document.querySelector('[data-fact="photo"]');
      image.src = URL.createObjectURL(photo.blob);
      image.hidden = false;
    }
    // The hint under "use of the funds" names the contract's purpose.
    document.querySelectorAll('.form-text').forEach((hint) => {
      if (hint.textContent.includes(texts.purpose_marker)) {
        hint.textContent = hint.textContent.replace(texts.purpose_marker, loan.purpose || '—');
      }
    });
  }

  /** The parts of the form that need a consent the borrower has not given (the kit's
   * borrower.consents: photos, surveys) are not asked: hidden, their inputs disabled so
   * nothing of them is sent, and a line says why. A kit without consents hides nothing;
   * the server refuses a photo without the consent all the same. */
  function followConsents(borrower) {
    const agreed = borrower.consents;
    if (!agreed) return;
    form.querySelectorAll('[data-consent]').forEach((part) => {
      if (agreed[part.dataset.consent] !== false) return;
      part.hidden = true;
      part.querySelectorAll('input, select, textarea, button').forEach((control) => {
        control.disabled = true;
        control.required = false;
      });
      const note = document.createElement('p');
      note.className = 'small text-muted';
      note.dataset.testid = 'not-asked-' + part.dataset.consent;
      note.textContent = part.dataset.consentHiddenText || '';
      part.after(note);
    });
  }

  /** What the online form would post: name -> list of strings. The photos (files on the
   * form) go as JPEG data URLs (static/js/visit-photos.js), each with its kind; the kinds of
   * empty photo slots are left out. Being fields, they are in the entry's content hash. */
  async function collectFields() {
    const fields = {};
    for (const [name, value] of new FormData(form).entries()) {
      if (NOT_SENT.has(name) || typeof value !== 'string' || PHOTO_FIELD.test(name)) continue;
      (fields[name] = fields[name] || []).push(value);
    }
    if (window.PortalPhotos) Object.assign(fields, await window.PortalPhotos.fields(form));
    return fields;
  }

  async function save(event, kit, borrower) {
    event.preventDefault();
    const invalid = document.querySelector('[data-visit-invalid]');
    const signature = form.elements.namedItem('signature');
    const signed = signature && signature.value.startsWith('data:image/png;base64,');
    if (!form.checkValidity() || !signed) {
      invalid.textContent = signed ? invalid.dataset.text || invalid.textContent : texts.unsigned;
      invalid.hidden = false;
      form.reportValidity();
      return;
    }
    invalid.hidden = true;
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const fields = await collectFields();
      await F.addToOutbox(S.user, {
        client_id: crypto.randomUUID(),
        borrower_id: borrower.id,
        borrower_name: borrower.name,
        village: borrower.village || '',
        plan_id: kit && kit.plan ? kit.plan.id : null,
        opened_at: openedAt(),
        signed_at: F.utcNow(),
        fields,
      });
    } catch (error) {
      console.error('portal field kit: could not save the visit', error);
      button.disabled = false;
      return;
    }
    try {
      localStorage.removeItem('portal-draft:' + form.getAttribute('data-draft-key'));
      sessionStorage.removeItem(openedKey);
    } catch (error) {
      // Nothing to clean.
    }
    S.requestBackgroundSync();
    location.assign('/field#saved');
  }

  async function start() {
    if (!S.user) {
      document.querySelectorAll('[data-field-nouser]').forEach((node) => {
        node.hidden = !document.querySelector('meta[name="portal-user"]');
      });
      return;
    }
    const missing = document.querySelector('[data-visit-missing]');
    if (!borrowerId) {
      missing.hidden = false;
      return;
    }
    let found;
    try {
      found = await F.readBorrower(S.user, borrowerId);
    } catch (error) {
      found = { borrower: null };
    }
    if (!found.borrower) {
      missing.hidden = false;
      return;
    }
    openedAt();
    showFacts(found.borrower, found.photo);
    document.querySelector('[data-visit-page]').hidden = false;
    followConsents(found.borrower);
    applyDefaults(found.borrower);
    form.addEventListener('submit', (event) => save(event, found.kit, found.borrower));
    window.addEventListener('hashchange', () => location.reload());
    document.body.dataset.visitReady = '1';
  }

  const invalid = document.querySelector('[data-visit-invalid]');
  if (invalid) invalid.dataset.text = invalid.textContent;

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
