/*
 * The field kit's storage and sync, shared by the pages and the service worker
 * (docs/field-kit.md). A classic script: needs the global `idb` (static/vendor/idb)
 * and defines `self.PortalField`. No DOM here, so /sw.js can importScripts it.
 *
 * One IndexedDB database per officer, `portal-field-<user id>`:
 *   kit        "current" -> {plan, officer, generated_at, fetched_at, borrowers: n, bytes}
 *   borrowers  keyPath id -> a borrower of the kit (masked numbers only)
 *   photos     borrower id -> {blob, type}
 *   outbox     keyPath client_id -> an entry and what the server answered; its photos
 *              (JPEG data URLs among the fields) until the server has stored them
 * and one shared database `portal-field` (store "session", key "user") holding only the
 * id of the officer whose page was last served by the server, for Background Sync.
 */
(function (global) {
  'use strict';

  const SHARED_DB = 'portal-field';
  const SHELL_CACHE = 'portal-shells';
  const SHELLS = ['/field', '/field/visit'];
  const SYNC_TAG = 'portal-field-outbox';
  // Entries the sync sends: waiting ones (and those refused for a lost login).
  const SENDABLE = new Set(['waiting']);
  // How many entries (or ID photos, when preparing) are on the way at once.
  const PARALLEL = 4;

  function dbName(userId) {
    return 'portal-field-' + userId;
  }

  function openUserDb(userId) {
    if (!/^\d+$/.test(String(userId))) {
      return Promise.reject(new Error('no officer id'));
    }
    return global.idb.openDB(dbName(userId), 1, {
      upgrade(db) {
        // Version 1. A later version adds stores here and never deletes the outbox.
        db.createObjectStore('kit');
        db.createObjectStore('borrowers', { keyPath: 'id' });
        db.createObjectStore('photos');
        db.createObjectStore('outbox', { keyPath: 'client_id' });
      },
    });
  }

  function openShared() {
    return global.idb.openDB(SHARED_DB, 1, {
      upgrade(db) {
        db.createObjectStore('session');
      },
    });
  }

  async function setSessionUser(userId) {
    const db = await openShared();
    try {
      if (userId) {
        await db.put('session', String(userId), 'user');
      } else {
        await db.delete('session', 'user');
      }
    } finally {
      db.close();
    }
  }

  async function sessionUser() {
    const db = await openShared();
    try {
      return (await db.get('session', 'user')) || null;
    } finally {
      db.close();
    }
  }

  // --- The content hash: the same text as portal/fieldkit/entries.py entry_hash ------

  function canonicalJson(value) {
    if (Array.isArray(value)) {
      return '[' + value.map(canonicalJson).join(',') + ']';
    }
    if (value !== null && typeof value === 'object') {
      return (
        '{' +
        Object.keys(value)
          .sort()
          .map((key) => JSON.stringify(key) + ':' + canonicalJson(value[key]))
          .join(',') +
        '}'
      );
    }
    return JSON.stringify(value === undefined ? null : value);
  }

  async function sha256Hex(text) {
    const digest = await global.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
    return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
  }

  function contentHash(entry) {
    return sha256Hex(
      canonicalJson({
        borrower_id: entry.borrower_id,
        client_id: entry.client_id,
        fields: entry.fields,
        signed_at: entry.signed_at,
      })
    );
  }

  function utcNow() {
    return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  // --- The kit --------------------------------------------------------------------

  function jsonGet(url) {
    return fetch(url, {
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'manual',
      headers: { Accept: 'application/json' },
    });
  }

  function loggedOut(response) {
    return (
      response.type === 'opaqueredirect' || response.status === 401 || response.status === 403
    );
  }

  /** Store today's kit of `userId`: borrowers, ID photos, the shells. Throws a
   * {code: "login"|"network"|"server"} error when it cannot. */
  async function prepare(userId) {
    let response;
    try {
      response = await jsonGet('/field/kit');
    } catch (error) {
      throw Object.assign(new Error('network'), { code: 'network' });
    }
    if (loggedOut(response)) {
      throw Object.assign(new Error('login'), { code: 'login' });
    }
    if (!response.ok) {
      throw Object.assign(new Error('server ' + response.status), { code: 'server' });
    }
    const kit = await response.json();
    if (kit.officer && String(kit.officer.id) !== String(userId)) {
      // The server's session is another officer's: store nothing under this one.
      throw Object.assign(new Error('login'), { code: 'login' });
    }
    const photos = new Map();
    const withPhoto = (kit.borrowers || []).filter((borrower) => borrower.id_photo_url);
    const fetchNext = async () => {
      // PARALLEL photos on the way at once: on a slow link the round trips overlap.
      for (let borrower = withPhoto.shift(); borrower; borrower = withPhoto.shift()) {
        try {
          const answer = await fetch(borrower.id_photo_url, {
            credentials: 'same-origin',
            cache: 'no-store',
            redirect: 'manual',
          });
          if (answer.ok) {
            const blob = await answer.blob();
            photos.set(borrower.id, { blob, type: blob.type });
          }
        } catch (error) {
          // A photo that did not come is shown as missing; the rest of the kit is kept.
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, fetchNext));
    const text = JSON.stringify(kit);
    let bytes = new TextEncoder().encode(text).length;
    photos.forEach((photo) => {
      bytes += photo.blob.size;
    });
    const db = await openUserDb(userId);
    try {
      const tx = db.transaction(['kit', 'borrowers', 'photos'], 'readwrite');
      tx.objectStore('borrowers').clear();
      tx.objectStore('photos').clear();
      for (const borrower of kit.borrowers || []) {
        tx.objectStore('borrowers').put(borrower);
      }
      photos.forEach((photo, id) => tx.objectStore('photos').put(photo, id));
      tx.objectStore('kit').put(
        {
          version: kit.version,
          generated_at: kit.generated_at,
          fetched_at: utcNow(),
          officer: kit.officer,
          plan: kit.plan,
          borrowers: (kit.borrowers || []).length,
          photos: photos.size,
          bytes,
        },
        'current'
      );
      await tx.done;
    } finally {
      db.close();
    }
    await refreshShells();
    return kit;
  }

  /** Put fresh copies of the shells into the shells' cache (only real 200 pages). */
  async function refreshShells() {
    if (!global.caches) return;
    const cache = await global.caches.open(SHELL_CACHE);
    await Promise.all(
      SHELLS.map(async (url) => {
        try {
          const response = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
          if (response.status === 200 && !response.redirected) {
            await cache.put(url, response);
          }
        } catch (error) {
          // Offline: keep what is there.
        }
      })
    );
  }

  /** Delete the stored borrowers and photos (never the outbox). */
  async function dropKit(userId) {
    const db = await openUserDb(userId);
    try {
      const tx = db.transaction(['kit', 'borrowers', 'photos'], 'readwrite');
      tx.objectStore('kit').clear();
      tx.objectStore('borrowers').clear();
      tx.objectStore('photos').clear();
      await tx.done;
    } finally {
      db.close();
    }
  }

  /** Drop the kit when its plan's day is before `today` ("YYYY-MM-DD"). */
  async function dropKitIfOver(userId, today) {
    const db = await openUserDb(userId);
    let kit;
    try {
      kit = await db.get('kit', 'current');
    } finally {
      db.close();
    }
    if (kit && kit.plan && kit.plan.day && kit.plan.day < today) {
      await dropKit(userId);
      return true;
    }
    return false;
  }

  async function readAll(userId) {
    const db = await openUserDb(userId);
    try {
      return {
        kit: (await db.get('kit', 'current')) || null,
        borrowers: await db.getAll('borrowers'),
        outbox: await db.getAll('outbox'),
      };
    } finally {
      db.close();
    }
  }

  async function readBorrower(userId, borrowerId) {
    const db = await openUserDb(userId);
    try {
      return {
        kit: (await db.get('kit', 'current')) || null,
        borrower: (await db.get('borrowers', borrowerId)) || null,
        photo: (await db.get('photos', borrowerId)) || null,
      };
    } finally {
      db.close();
    }
  }

  async function waitingCount(userId) {
    const db = await openUserDb(userId);
    try {
      const entries = await db.getAll('outbox');
      return entries.filter((entry) => entry.state === 'waiting').length;
    } finally {
      db.close();
    }
  }

  // --- The outbox -----------------------------------------------------------------

  /** Put a signed visit into the outbox; `entry` has borrower_id, plan_id, opened_at,
   * signed_at, fields and what the page shows (borrower_name, village). */
  async function addToOutbox(userId, entry) {
    const record = Object.assign({}, entry, {
      client_id: entry.client_id || global.crypto.randomUUID(),
      state: 'waiting',
      problem: null,
      saved_at: utcNow(),
      tries: 0,
    });
    record.content_hash = await contentHash(record);
    const db = await openUserDb(userId);
    try {
      await db.add('outbox', record);
    } finally {
      db.close();
    }
    return record;
  }

  const PHOTO_FIELD = /^photo_\d+$/;

  /** A sent entry no longer needs its photos (the server stored them): the outbox, read
   * on every page, stays small. Their number is kept for the list. */
  function dropSentPhotos(entry) {
    if (entry.state !== 'sent' || !entry.fields) return entry;
    const names = Object.keys(entry.fields).filter((name) => PHOTO_FIELD.test(name));
    if (!names.length) return entry;
    entry.photos_sent = names.length;
    for (const name of names) delete entry.fields[name];
    return entry;
  }

  async function updateEntry(userId, clientId, changes) {
    const db = await openUserDb(userId);
    try {
      const tx = db.transaction('outbox', 'readwrite');
      const entry = await tx.store.get(clientId);
      if (entry) {
        await tx.store.put(dropSentPhotos(Object.assign(entry, changes)));
      }
      await tx.done;
    } finally {
      db.close();
    }
  }

  async function fetchToken() {
    let response;
    try {
      response = await jsonGet('/field/token');
    } catch (error) {
      return { problem: 'network' };
    }
    if (loggedOut(response)) return { problem: 'login' };
    if (!response.ok) return { problem: 'server' };
    try {
      return { token: (await response.json()).csrf_token };
    } catch (error) {
      return { problem: 'server' };
    }
  }

  function wireBody(entry) {
    return JSON.stringify({
      client_id: entry.client_id,
      borrower_id: entry.borrower_id,
      plan_id: entry.plan_id,
      opened_at: entry.opened_at,
      signed_at: entry.signed_at,
      fields: entry.fields,
      content_hash: entry.content_hash,
    });
  }

  /** What one POST of an entry came to: changes to store on the entry. */
  async function postEntry(entry, token) {
    let response;
    try {
      response = await fetch('/field/entries', {
        method: 'POST',
        credentials: 'same-origin',
        cache: 'no-store',
        redirect: 'manual',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'X-CSRFToken': token,
        },
        body: wireBody(entry),
      });
    } catch (error) {
      return { problem: 'network' };
    }
    if (loggedOut(response)) return { problem: 'login' };
    let answer = null;
    try {
      answer = await response.json();
    } catch (error) {
      answer = null;
    }
    if (response.status === 413) {
      // Larger than the server takes (photos too large): kept and listed, not sent again.
      return {
        problem: null,
        state: 'error',
        message: (answer && answer.message) || '',
        answered_at: utcNow(),
      };
    }
    if (!answer || !answer.outcome) {
      // A CSRF refusal is an HTML 400 page: the session is gone, not the entry.
      return { problem: response.status === 400 ? 'login' : 'server' };
    }
    const common = { problem: null, message: answer.message || '', answered_at: utcNow() };
    if (answer.outcome === 'stored') {
      return Object.assign(common, {
        state: 'sent',
        visit_id: answer.visit_id || null,
        visit_url: answer.visit_url || null,
      });
    }
    if (answer.outcome === 'held') {
      return Object.assign(common, {
        state: 'held',
        reason: answer.reason || null,
        errors: answer.errors || null,
      });
    }
    if (answer.outcome === 'error') {
      return Object.assign(common, { state: 'error' });
    }
    return { problem: 'server' };
  }

  /** Send every waiting entry of `userId` (one sync at a time per officer, across tabs
   * and the worker). Returns {sent, held, error, problem} counts and the last problem. */
  async function sendWaiting(userId, token) {
    const run = async () => {
      const summary = { sent: 0, held: 0, error: 0, waiting: 0, problem: null };
      const state = await readAll(userId);
      const waiting = state.outbox.filter((entry) => SENDABLE.has(entry.state));
      if (!waiting.length) return summary;
      if (!token) {
        const answer = await fetchToken();
        if (!answer.token) {
          summary.problem = answer.problem;
          summary.waiting = waiting.length;
          for (const entry of waiting) {
            await updateEntry(userId, entry.client_id, { problem: answer.problem });
          }
          return summary;
        }
        token = answer.token;
      }
      // A few at a time: on a slow link the round trips overlap (the server takes
      // each entry once whatever the order or the number of tries).
      const queue = waiting.slice();
      let stop = false;
      const retried = new Set();
      const sendNext = async () => {
        while (queue.length && !stop) {
          const entry = queue.shift();
          let changes = await postEntry(entry, token);
          if (changes.problem === 'server' && !retried.has(entry.client_id)) {
            retried.add(entry.client_id); // e.g. a busy database: once more, at once
            changes = await postEntry(entry, token);
          }
          changes.tries = (entry.tries || 0) + 1;
          changes.last_try_at = utcNow();
          await updateEntry(userId, entry.client_id, changes);
          if (changes.state === 'sent') summary.sent += 1;
          else if (changes.state === 'held') summary.held += 1;
          else if (changes.state === 'error') summary.error += 1;
          else {
            summary.waiting += 1;
            summary.problem = changes.problem;
            if (changes.problem === 'network' || changes.problem === 'login') stop = true;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, sendNext));
      summary.waiting += queue.length; // not tried this time (the network or the login went)
      return summary;
    };
    if (global.navigator.locks) {
      return global.navigator.locks.request('portal-field-sync-' + userId, run);
    }
    return run();
  }

  /** Ask the server again about held entries (the head may have dealt with them). */
  async function refreshHeld(userId) {
    const state = await readAll(userId);
    const held = state.outbox.filter((entry) => entry.state === 'held').slice(0, 200);
    if (!held.length) return;
    const answer = await fetchToken();
    if (!answer.token) return;
    let response;
    try {
      response = await fetch('/field/entries/status', {
        method: 'POST',
        credentials: 'same-origin',
        cache: 'no-store',
        redirect: 'manual',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'X-CSRFToken': answer.token,
        },
        body: JSON.stringify({ client_ids: held.map((entry) => entry.client_id) }),
      });
    } catch (error) {
      return;
    }
    if (!response.ok) return;
    const data = await response.json();
    for (const item of data.entries || []) {
      if (item.outcome === 'stored') {
        await updateEntry(userId, item.client_id, {
          state: 'sent',
          visit_url: item.visit_url || null,
          message: item.message || '',
        });
      } else if (item.outcome === 'held') {
        await updateEntry(userId, item.client_id, {
          reason: item.reason || null,
          message: item.message || '',
        });
      }
    }
  }

  global.PortalField = {
    SHELL_CACHE,
    SHELLS,
    SYNC_TAG,
    dbName,
    openUserDb,
    setSessionUser,
    sessionUser,
    canonicalJson,
    contentHash,
    utcNow,
    prepare,
    refreshShells,
    dropKit,
    dropKitIfOver,
    readAll,
    readBorrower,
    waitingCount,
    addToOutbox,
    sendWaiting,
    refreshHeld,
  };
})(self);
