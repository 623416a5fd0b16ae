/*
 * /field, the field kit's home (docs/field-kit.md): "prepare for the field", what is
 * stored and how old, the space used, the outbox and "send now". Everything shown comes
 * from the logged-in officer's own IndexedDB (PortalField, static/js/offline/store.js);
 * texts come from the page (#field-texts).
 */
(function () {
  'use strict';

  const F = window.PortalField;
  const S = window.PortalFieldSync;
  const texts = JSON.parse(document.getElementById('field-texts').textContent);
  const lang = document.documentElement.lang || 'zh-CN';
  const $ = (selector) => document.querySelector(selector);

  function say(text, kind) {
    const slot = $('[data-field-status]');
    if (!text) {
      slot.replaceChildren();
      return;
    }
    const alert = document.createElement('div');
    alert.className = 'alert alert-' + (kind || 'info');
    alert.textContent = text;
    slot.replaceChildren(alert);
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (all, name) =>
      name in values ? String(values[name]) : all
    );
  }

  function localTime(iso) {
    if (!iso) return '';
    const date = new Date(iso);
    const options = {
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    };
    try {
      return new Intl.DateTimeFormat('sv-SE', Object.assign({ timeZone: S.timeZone }, options))
        .format(date)
        .replace(',', '');
    } catch (error) {
      return date.toISOString().slice(0, 16).replace('T', ' ');
    }
  }

  function age(iso) {
    const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
    const format = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
    const units = [
      ['day', 86400],
      ['hour', 3600],
      ['minute', 60],
    ];
    for (const [unit, size] of units) {
      if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
    }
    return format.format(0, 'minute');
  }

  function size(bytes) {
    const megabytes = bytes >= 1024 * 1024;
    try {
      return new Intl.NumberFormat(lang, {
        style: 'unit',
        unit: megabytes ? 'megabyte' : 'kilobyte',
        maximumFractionDigits: 1,
      }).format(megabytes ? bytes / 1024 / 1024 : bytes / 1024);
    } catch (error) {
      return Math.round(bytes / 1024) + ' KB';
    }
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  /** What the browser says of its storage: the space used and whether it is kept. */
  async function storageFacts(kit) {
    let used = (kit && kit.bytes) || 0;
    let persisted = false;
    if (!kit || !navigator.storage) return { used, persisted };
    if (navigator.storage.estimate) {
      try {
        used = (await navigator.storage.estimate()).usage || used;
      } catch (error) {
        // keep the kit's own size
      }
    }
    if (navigator.storage.persisted) {
      try {
        persisted = await navigator.storage.persisted();
      } catch (error) {
        persisted = false;
      }
    }
    return { used, persisted };
  }

  function renderKit(state, storage) {
    const ready = $('[data-field-ready]');
    const list = $('[data-field-borrowers]');
    $('[data-field-nothing]').hidden = !!state.kit;
    ready.hidden = !state.kit;
    list.replaceChildren();
    if (!state.kit) return;
    const kit = state.kit;
    $('[data-kit="day"]').textContent = kit.plan ? kit.plan.day : '—';
    $('[data-kit="borrowers"]').textContent = String(state.borrowers.length);
    $('[data-kit="age"]').textContent = localTime(kit.fetched_at) + ' (' + age(kit.fetched_at) + ')';
    $('[data-kit="space"]').textContent = fill(texts.space, {
      used: size(storage.used),
      kit: size(kit.bytes || 0),
    });
    $('[data-kit="persisted"]').textContent = storage.persisted ? texts.persisted_yes : texts.persisted_no;
    const visited = new Set(
      state.outbox
        .filter((entry) => entry.plan_id === (kit.plan && kit.plan.id))
        .map((entry) => entry.borrower_id)
    );
    const byVillage = state.borrowers.slice().sort((a, b) =>
      (a.village || '').localeCompare(b.village || '', lang)
    );
    for (const borrower of byVillage) {
      const link = element('a', 'list-group-item list-group-item-action d-flex gap-2 align-items-center');
      link.href = '/field/visit#borrower=' + borrower.id;
      link.dataset.borrowerId = String(borrower.id);
      link.append(element('span', 'fw-semibold', borrower.name));
      link.append(element('span', 'text-muted small me-auto', borrower.village || ''));
      if (visited.has(borrower.id)) link.append(element('span', 'badge text-bg-success', texts.visited));
      list.append(link);
    }
  }

  const BADGES = {
    waiting: 'text-bg-secondary',
    sent: 'text-bg-success',
    held: 'text-bg-warning',
    error: 'text-bg-danger',
  };

  function renderOutbox(outbox) {
    const list = $('[data-field-outbox]');
    const counts = { waiting: 0, sent: 0, held: 0, error: 0 };
    list.replaceChildren();
    const entries = outbox.slice().sort((a, b) => (b.saved_at || '').localeCompare(a.saved_at || ''));
    for (const entry of entries) {
      counts[entry.state] = (counts[entry.state] || 0) + 1;
      const item = element('li', 'list-group-item');
      item.dataset.state = entry.state;
      item.dataset.clientId = entry.client_id;
      if (entry.state === 'waiting' && entry.problem) item.dataset.problem = entry.problem;
      const head = element('div', 'd-flex flex-wrap gap-2 align-items-center');
      head.append(element('span', 'fw-semibold', entry.borrower_name || '#' + entry.borrower_id));
      head.append(
        element('span', 'text-muted small me-auto', fill(texts.signed_at, { time: localTime(entry.signed_at) }))
      );
      head.append(element('span', 'badge ' + (BADGES[entry.state] || ''), texts['state_' + entry.state]));
      item.append(head);
      if (entry.state === 'sent' && entry.visit_url) {
        const link = element('a', 'small', texts.open_visit);
        link.href = entry.visit_url;
        item.append(link);
      }
      if ((entry.state === 'held' || entry.state === 'error') && entry.message) {
        item.append(element('div', 'small', entry.message));
      }
      if (entry.state === 'waiting' && entry.problem) {
        item.append(element('div', 'small text-muted', texts['problem_' + entry.problem] || ''));
      }
      list.append(item);
    }
    if (!entries.length) list.append(element('li', 'list-group-item text-muted', texts.empty_outbox));
    $('[data-field-outbox-summary]').textContent = fill(texts.summary, counts);
  }

  // Renders overlap (page load, a sync's end, "prepare"): they run one after the other,
  // each reading the store when its turn comes, so the last one shows the newest state.
  let rendering = Promise.resolve();

  function render() {
    rendering = rendering.then(paint).catch((error) => console.warn('portal field kit:', error));
    return rendering;
  }

  async function paint() {
    if (!S.user) return;
    const state = await F.readAll(S.user);
    renderKit(state, await storageFacts(state.kit));
    renderOutbox(state.outbox);
    document.body.dataset.fieldRendered = String(Date.now());
  }

  async function prepare(button) {
    button.disabled = true;
    say(texts.preparing, 'info');
    let outcome;
    try {
      if (navigator.storage && navigator.storage.persist) {
        try {
          await navigator.storage.persist();
        } catch (error) {
          // A refusal only means the browser may clear the kit under pressure.
        }
      }
      const kit = await F.prepare(S.user);
      outcome = kit.plan && (kit.borrowers || []).length
        ? [texts.prepared, 'success']
        : [texts.no_plan, kit.plan ? 'success' : 'warning'];
    } catch (error) {
      outcome = [texts[error.code] || texts.server, 'danger'];
    }
    // The list first, then the word that it is ready.
    await render();
    button.disabled = false;
    say(...outcome);
  }

  async function send(button) {
    button.disabled = true;
    say(texts.sending, 'info');
    let outcome = [''];
    const summary = await S.syncNow();
    await F.refreshHeld(S.user).catch(() => undefined);
    if (summary && summary.problem) outcome = [texts[summary.problem] || texts.server, 'warning'];
    else if (summary && !(summary.sent || summary.held || summary.error || summary.waiting)) {
      outcome = [texts.nothing_waiting, 'success'];
    } else if (summary) outcome = [fill(texts.sent_summary, summary), 'success'];
    await render();
    button.disabled = false;
    say(...outcome);
  }

  function start() {
    if (!S.user) {
      document.querySelectorAll('[data-field-nouser]').forEach((node) => {
        node.hidden = !document.querySelector('meta[name="portal-user"]');
      });
      return;
    }
    const prepareButton = $('[data-field-prepare]');
    const sendButton = $('[data-field-send]');
    prepareButton.disabled = false;
    sendButton.disabled = false;
    prepareButton.addEventListener('click', () => prepare(prepareButton));
    sendButton.addEventListener('click', () => send(sendButton));
    document.addEventListener('portal:outbox-changed', () => render());
    if (navigator.onLine) F.refreshHeld(S.user).then(render, () => undefined);
    render();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
