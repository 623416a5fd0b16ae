/*
 * The visit form's photos (templates/visits/_photos.html, portal/visits/photos.py), online
 * and in the field kit.
 *
 * - Shows the filled slots only and a "Take a photo" button that opens the next empty
 *   slot's camera input (accept="image/*" capture="environment"); each photo is shown
 *   before signing and can be removed.
 * - Makes each photo smaller on the tablet (longest side data-max-side, JPEG, at most
 *   data-max-bytes) so the upload and the field kit's storage stay small. The capture
 *   time and position of the camera's EXIF block are carried over (its orientation set
 *   upright, since the picture is drawn upright). The server decodes and re-encodes
 *   every photo again whatever the tablet did; a photo the browser cannot read is sent
 *   as it is, and the server says what is wrong with it.
 * - Holds a submit until the photos being prepared are ready.
 * - Never puts a photo in the form's draft (draft.js skips file inputs; the kinds are
 *   data-draft-exclude).
 * window.PortalPhotos.fields(form) gives the field kit (static/js/offline/visit.js) the
 * photos as data URLs, the shape of its outbox entries.
 */
(function () {
  'use strict';

  const pending = new Set();

  function setting(box, name, fallback) {
    const value = Number(box.dataset[name]);
    return Number.isFinite(value) && value > 0 ? value : fallback;
  }

  // --- EXIF carried over --------------------------------------------------------------

  /** The EXIF APP1 segment of a JPEG (orientation set to 1), or null. */
  async function exifSegment(file) {
    if (file.type !== 'image/jpeg') return null;
    let bytes;
    try {
      bytes = new Uint8Array(await file.slice(0, 262144).arrayBuffer());
    } catch (error) {
      return null;
    }
    if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
    let at = 2;
    while (at + 4 <= bytes.length && bytes[at] === 0xff) {
      const marker = bytes[at + 1];
      const length = (bytes[at + 2] << 8) | bytes[at + 3];
      if (marker === 0xda || length < 2) return null; // the picture starts: no EXIF
      const end = at + 2 + length;
      if (end > bytes.length) return null;
      const exif = marker === 0xe1 && String.fromCharCode(...bytes.subarray(at + 4, at + 8)) === 'Exif';
      if (exif) {
        const segment = bytes.slice(at, end);
        uprightExif(segment, 10);
        return segment;
      }
      at = end;
    }
    return null;
  }

  /** Set the Orientation tag (0x0112) of IFD0 to 1 in the TIFF block at `tiff`. */
  function uprightExif(segment, tiff) {
    try {
      const view = new DataView(segment.buffer, segment.byteOffset, segment.byteLength);
      const little = view.getUint16(tiff) === 0x4949;
      const ifd = tiff + view.getUint32(tiff + 4, little);
      const count = view.getUint16(ifd, little);
      for (let entry = 0; entry < count; entry += 1) {
        const at = ifd + 2 + entry * 12;
        if (view.getUint16(at, little) === 0x0112) {
          view.setUint16(at + 8, 1, little);
        }
      }
    } catch (error) {
      // A block we cannot read is carried as it is; the server reads what it can.
    }
  }

  // --- Making a photo smaller ---------------------------------------------------------

  function toBlob(canvas, quality) {
    return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
  }

  /** `file` at most maxSide pixels long and maxBytes large, as a JPEG File. */
  async function smaller(file, maxSide, quality, maxBytes) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch (error) {
      return null; // not an image this browser reads: sent as it is
    }
    const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
    if (scale === 1 && file.type === 'image/jpeg' && file.size <= maxBytes) {
      bitmap.close();
      return file;
    }
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const context = canvas.getContext('2d');
    context.fillStyle = '#fff'; // a transparent PNG becomes white, as on the server
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    let blob = await toBlob(canvas, quality);
    for (let q = quality - 0.1; blob && blob.size > maxBytes && q >= 0.45; q -= 0.1) {
      blob = await toBlob(canvas, q);
    }
    if (!blob) return null;
    const exif = await exifSegment(file);
    const parts = exif ? [blob.slice(0, 2), exif, blob.slice(2)] : [blob];
    const name = (file.name || 'photo').replace(/\.[^.]*$/, '') + '.jpg';
    return new File(parts, name, { type: 'image/jpeg', lastModified: file.lastModified || Date.now() });
  }

  function readAsDataUrl(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }

  // --- The slots ------------------------------------------------------------------------

  function setUp(box) {
    const slots = Array.from(box.querySelectorAll('[data-photo-slot]'));
    const add = box.querySelector('[data-photo-add]');
    const status = box.querySelector('[data-photo-status]');
    const maxSide = setting(box, 'maxSide', 1600);
    const quality = setting(box, 'quality', 0.82);
    const maxBytes = setting(box, 'maxBytes', 716800);
    const previews = new WeakMap();

    const filled = (slot) => slot.hasAttribute('data-photo-filled');

    function refresh() {
      for (const slot of slots) slot.hidden = !filled(slot);
      const free = slots.some((slot) => !filled(slot));
      add.hidden = false;
      add.disabled = !free;
      status.textContent = free ? '' : box.dataset.textFull || '';
    }

    function preview(slot, file) {
      const image = slot.querySelector('[data-photo-preview]');
      const old = previews.get(slot);
      if (old) URL.revokeObjectURL(old);
      previews.delete(slot);
      if (!file) {
        image.removeAttribute('src');
        image.hidden = true;
        return;
      }
      const url = URL.createObjectURL(file);
      previews.set(slot, url);
      image.src = url;
      image.hidden = false;
    }

    function clear(slot) {
      const input = slot.querySelector('[data-photo-input]');
      input.value = '';
      slot.querySelectorAll('[data-photo-kept]').forEach((kept) => kept.remove());
      slot.querySelectorAll('.invalid-feedback').forEach((note) => note.remove());
      input.classList.remove('is-invalid');
      slot.removeAttribute('data-photo-filled');
      slot.removeAttribute('data-photo-ready');
      preview(slot, null);
    }

    async function chosen(slot, input) {
      const file = input.files && input.files[0];
      if (!file) {
        clear(slot);
        refresh();
        return;
      }
      slot.querySelectorAll('[data-photo-kept]').forEach((kept) => kept.remove());
      slot.setAttribute('data-photo-filled', '');
      slot.removeAttribute('data-photo-ready');
      refresh();
      status.textContent = box.dataset.textPreparing || '';
      const work = smaller(file, maxSide, quality, maxBytes);
      pending.add(work);
      let result;
      try {
        result = await work;
      } catch (error) {
        result = null;
      } finally {
        pending.delete(work);
      }
      if (input.files[0] !== file) return; // replaced meanwhile
      if (result && result !== file && window.DataTransfer) {
        const transfer = new DataTransfer();
        transfer.items.add(result);
        input.files = transfer.files;
      }
      preview(slot, result ? input.files[0] : null);
      status.textContent = result ? '' : box.dataset.textUnreadable || '';
      slot.setAttribute('data-photo-ready', '');
      refresh();
    }

    for (const slot of slots) {
      const input = slot.querySelector('[data-photo-input]');
      const remove = slot.querySelector('[data-photo-remove]');
      remove.hidden = false;
      remove.addEventListener('click', () => {
        clear(slot);
        refresh();
      });
      // The "Take a photo" button opens it; a photo is replaced by removing it.
      input.classList.add('visually-hidden');
      input.addEventListener('change', () => chosen(slot, input));
      if (filled(slot)) slot.setAttribute('data-photo-ready', '');
    }
    add.addEventListener('click', () => {
      const free = slots.find((slot) => !filled(slot));
      if (free) free.querySelector('[data-photo-input]').click();
    });
    refresh();
    box.setAttribute('data-photos-ready', '');
  }

  /** The attached photos as the field kit's entry fields: {photo_N: [data URL], photo_kind_N: [kind]}. */
  async function fields(form) {
    await Promise.all(Array.from(pending));
    const out = {};
    const slots = form.querySelectorAll('[data-photo-slot]');
    for (const slot of slots) {
      const input = slot.querySelector('[data-photo-input]');
      const kind = slot.querySelector('[data-photo-kind]');
      const file = input.files && input.files[0];
      const kept = slot.querySelector('[data-photo-kept]');
      let value = null;
      if (file) value = await readAsDataUrl(file);
      else if (kept) value = kept.value;
      if (value) {
        out[input.name] = [value];
        out[kind.name] = [kind.value];
      }
    }
    return out;
  }

  // A submit while photos are being prepared waits for them, then goes on. Capture on
  // window: before the page's own submit handlers (submit-once.js, the field kit's save).
  window.addEventListener(
    'submit',
    (event) => {
      const form = event.target;
      if (!pending.size || !form.querySelector || !form.querySelector('[data-visit-photos]')) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      const submitter = event.submitter || null;
      Promise.all(Array.from(pending)).then(() => form.requestSubmit(submitter));
    },
    true
  );

  window.PortalPhotos = { fields, smaller };

  function start() {
    document.querySelectorAll('[data-visit-photos]').forEach(setUp);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
