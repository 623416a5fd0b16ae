/*
 * On every portal page (base.html): the field kit's small part (docs/field-kit.md).
 * - knows which officer this browser last saw logged in (meta portal-user), registers
 *   the service worker for staff;
 * - sends the officer's waiting outbox entries on page load, on `online`, and when asked
 *   (window.PortalFieldSync.syncNow), and registers Background Sync where there is one;
 * - drops the stored borrowers once their plan's day is over;
 * - logout: warns when entries are waiting (and keeps them); the next (logged-out) page
 *   drops the borrowers when none are waiting, or says that entries are still waiting.
 * Needs the globals `idb` and `PortalField` (static/js/offline/store.js).
 */
(function () {
  'use strict';

  const F = window.PortalField;
  const USER_KEY = 'portal-field-user';
  const meta = document.querySelector('meta[name="portal-user"]');
  const isShell = !!document.querySelector('meta[name="portal-shell"]');
  const timeZone = (meta && meta.dataset.timezone) || undefined;

  function store(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch (error) {
      // Private mode: the checks below then fail closed (nothing shown).
    }
  }

  function read(key) {
    try {
      return localStorage.getItem(key);
    } catch (error) {
      return null;
    }
  }

  function dayIn(zone, date) {
    const parts = { year: 'numeric', month: '2-digit', day: '2-digit' };
    try {
      return new Intl.DateTimeFormat('en-CA', Object.assign({ timeZone: zone }, parts)).format(date);
    } catch (error) {
      return new Intl.DateTimeFormat('en-CA', parts).format(date);
    }
  }

  /** The officer whose data this page may show, or null.
   * A page fresh from the server says who is logged in; a shell may come from the
   * worker's cache (offline), so it only counts when it agrees with the last fresh page. */
  function resolveUser() {
    if (!meta) return null; // afterLogout() forgets the officer
    const id = meta.content;
    if (!isShell || navigator.onLine) {
      store(USER_KEY, id);
    }
    return read(USER_KEY) === id ? id : null;
  }

  const user = resolveUser();

  function announce(detail) {
    document.dispatchEvent(new CustomEvent('portal:outbox-changed', { detail: detail || {} }));
  }

  async function requestBackgroundSync() {
    if (!('serviceWorker' in navigator)) return false;
    try {
      const registration = await navigator.serviceWorker.ready;
      if (!registration.sync) return false;
      await registration.sync.register(F.SYNC_TAG);
      return true;
    } catch (error) {
      return false;
    }
  }

  let running = null;

  /** Send the waiting entries now; resolves to the summary (or null without an officer). */
  function syncNow() {
    if (!user) return Promise.resolve(null);
    if (running) return running;
    const csrf = document.querySelector('meta[name="csrf-token"]');
    const token = !isShell && csrf ? csrf.content : null;
    running = F.sendWaiting(user, token)
      .then((summary) => {
        if (summary.waiting && summary.problem === 'network') requestBackgroundSync();
        announce(summary);
        return summary;
      })
      .catch((error) => {
        console.warn('portal field sync:', error);
        return null;
      })
      .finally(() => {
        running = null;
      });
    return running;
  }

  /** On a logged-out page: the officer this browser last saw. Their borrowers are
   * dropped when nothing of theirs waits; otherwise the page says visits are waiting. */
  async function afterLogout() {
    const previous = read(USER_KEY);
    store(USER_KEY, null);
    await F.setSessionUser(null);
    if (!previous) return;
    const waiting = await F.waitingCount(previous);
    if (!waiting) {
      await F.dropKit(previous);
      return;
    }
    const slot = document.querySelector('[data-field-notice]');
    if (!slot) return;
    const alert = document.createElement('div');
    alert.className = 'alert alert-warning';
    alert.setAttribute('role', 'status');
    alert.dataset.testid = 'field-left-notice';
    alert.textContent = (slot.dataset.textLeft || 'Visits waiting on this tablet: {count}.').replace(
      '{count}',
      String(waiting)
    );
    slot.replaceChildren(alert);
    slot.hidden = false;
  }

  // Logout with entries waiting asks first (and keeps them either way). The question is
  // asked in the tap itself, from the count this page last read (localStorage, shared
  // with the officer's other tabs): the logout is then the browser's own form submit,
  // never one started later by a script. The count is read again whenever the outbox
  // changes (a sync here, the worker's, another tab's save) and when the page shows.
  const WAITING_KEY = 'portal-field-waiting-';

  function recountWaiting() {
    if (!user) return;
    F.waitingCount(user)
      .then((count) => store(WAITING_KEY + user, String(count)))
      .catch(() => undefined);
  }

  document.addEventListener('portal:outbox-changed', recountWaiting);
  window.addEventListener('pageshow', recountWaiting);
  document.addEventListener('submit', (event) => {
    const form = event.target.closest && event.target.closest('form[data-field-logout]');
    if (!form || !user) return;
    const waiting = Number(read(WAITING_KEY + user)) || 0;
    if (!waiting) return;
    const question = (form.dataset.fieldConfirm || 'Visits are waiting ({count}). Log out?').replace(
      '{count}',
      String(waiting)
    );
    if (!window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  });

  function start() {
    if (!user) {
      if (!meta) afterLogout().catch((error) => console.warn('portal field kit:', error));
      return;
    }
    F.setSessionUser(user).catch(() => undefined);
    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((error) => {
        console.warn('portal service worker:', error);
      });
      navigator.serviceWorker.addEventListener('message', (event) => {
        if (event.data && event.data.type === 'portal:outbox-changed') announce({});
      });
    }
    F.dropKitIfOver(user, dayIn(timeZone, new Date()))
      .then((dropped) => dropped && announce({ kitDropped: true }))
      .catch(() => undefined);
    if (navigator.onLine) syncNow();
    window.addEventListener('online', () => syncNow());
  }

  window.PortalFieldSync = {
    user,
    timeZone,
    syncNow,
    requestBackgroundSync,
    today: () => dayIn(timeZone, new Date()),
  };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
