/*
 * Drawn signatures (contract: docs/frontend.md, "signature.js").
 *
 *   <div data-signature-field="NAME">
 *     <div class="ratio ratio-21x9 border rounded bg-white"><canvas></canvas></div>
 *     <input type="hidden" name="NAME" value="" data-draft-include>
 *     <button type="button" data-signature-clear>...</button>
 *   </div>
 *
 * The hidden input is the only thing the server sees: it always holds the PNG
 * data URL of what is on the canvas, or "" when nothing is drawn.
 *
 * Needs the vendored UMD build (static/vendor/signature_pad/) loaded before
 * this file; both with `defer`, so they run in document order.
 */
(() => {
  'use strict';

  const PNG_PREFIX = 'data:image/png;base64,';
  // draft.js fires this on the hidden input after it has put a value back.
  const RESTORE_EVENT = 'portal:restore';

  const fields = [];
  const seen = new WeakSet();

  // Bubbling input+change so draft.js (listening on the <form>) saves the new
  // value: setting .value from script fires no event by itself.
  function announce(input) {
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }

  function loadImage(src) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error('signature: stored value is not a readable PNG'));
      img.src = src;
    });
  }

  class SignatureField {
    constructor(root, canvas, input) {
      this.root = root;
      this.canvas = canvas;
      this.input = input;
      // CSS size and devicePixelRatio the backing store was last built for.
      this.size = { w: 0, h: 0, ratio: 0 };
      // Every canvas change (restore, export, clear) goes through this chain.
      // Restoring is async (image decode), and without the chain a slow restore
      // could paint over a clear, or an export could miss the restored image.
      this.queue = Promise.resolve();
      this.rafPending = false;

      this.pad = new window.SignaturePad(canvas, {
        // Transparent background: the PNG is laid onto contracts/PDFs later.
        backgroundColor: 'rgba(0,0,0,0)',
        penColor: 'rgb(0, 0, 0)',
        // A bit thicker than the default so a finger signature stays legible
        // once the PNG is scaled down into a printed contract.
        minWidth: 0.7,
        maxWidth: 2.8,
      });

      this.pad.addEventListener('endStroke', () => this.enqueue(() => this.exportValue()));

      const clear = root.querySelector('[data-signature-clear]');
      if (clear) {
        // Rendered `hidden` so it does not show without JS, where it is useless.
        clear.hidden = false;
        clear.addEventListener('click', (event) => {
          event.preventDefault();
          this.enqueue(() => {
            this.pad.clear();
            this.setValue('');
          });
        });
      }

      input.addEventListener(RESTORE_EVENT, () => this.redrawFromValue());

      if ('ResizeObserver' in window) {
        // Catches rotation, window resizes and a hidden tab/collapse becoming
        // visible (the canvas has no size until then).
        new ResizeObserver(() => this.scheduleResize()).observe(canvas);
      }

      root.setAttribute('data-signature-ready', '');
      this.resize(true);
    }

    enqueue(job) {
      this.queue = this.queue.then(job).catch((err) => console.warn(err));
      return this.queue;
    }

    setValue(value) {
      if (this.input.value === value) return;
      this.input.value = value;
      announce(this.input);
    }

    exportValue() {
      this.setValue(this.pad.isEmpty() ? '' : this.pad.toDataURL('image/png'));
    }

    // Several resize notifications arrive during one rotation; rebuilding
    // once per frame is enough.
    scheduleResize() {
      if (this.rafPending) return;
      this.rafPending = true;
      requestAnimationFrame(() => {
        this.rafPending = false;
        this.resize(false);
      });
    }

    // Makes the backing store CSS size x devicePixelRatio so strokes are crisp
    // on high-density tablets, then redraws the signature from the hidden
    // input, because changing canvas.width/height wipes the bitmap.
    resize(force) {
      const ratio = Math.max(window.devicePixelRatio || 1, 1);
      const rect = this.canvas.getBoundingClientRect();
      const w = rect.width;
      const h = rect.height;
      if (w < 1 || h < 1) return; // display:none (collapsed, other tab): wait until shown
      const same = Math.abs(w - this.size.w) < 0.5 && Math.abs(h - this.size.h) < 0.5
        && ratio === this.size.ratio;
      if (same && !force) return;
      this.size = { w, h, ratio };

      this.canvas.width = Math.round(w * ratio);
      this.canvas.height = Math.round(h * ratio);

      // If no CSS fixes the canvas size, its layout size follows the
      // width/height attributes we just multiplied by the ratio, and every
      // resize would grow it again. Pin the measured size (CSSOM, allowed by
      // the CSP) and tell the template author.
      const after = this.canvas.getBoundingClientRect();
      if (Math.abs(after.width - w) >= 0.5 || Math.abs(after.height - h) >= 0.5) {
        console.warn('signature: the canvas has no CSS size; wrap it in .ratio (see docs/frontend.md)');
        this.canvas.style.width = `${w}px`;
        this.canvas.style.height = `${h}px`;
      }

      // signature_pad takes pointer positions in CSS pixels.
      this.canvas.getContext('2d').scale(ratio, ratio);
      this.redrawFromValue();
    }

    // Draws the hidden input's value back (initial server value, a restored
    // draft, or our own export before a resize). Only PNG data URLs are
    // drawn; anything else empties both the pad and the input.
    redrawFromValue() {
      const value = this.input.value;
      return this.enqueue(async () => {
        this.pad.clear();
        if (!value) return;
        try {
          if (!value.startsWith(PNG_PREFIX)) throw new Error('signature: ignoring a value that is not a PNG data URL');
          const img = await loadImage(value);
          // Fit the old bitmap into the current box without distorting it:
          // after a rotation the box may have another aspect ratio.
          const { w, h } = this.size;
          const scale = Math.min(w / img.naturalWidth, h / img.naturalHeight);
          await this.pad.fromDataURL(value, {
            width: img.naturalWidth * scale,
            height: img.naturalHeight * scale,
            xOffset: 0,
            yOffset: 0,
          });
          // The input keeps the exact stored PNG until the user draws again:
          // re-exporting here would resample the signature on every rotation.
        } catch (err) {
          // The input must hold what is on screen or "": a value we cannot
          // show must not be submitted as if the customer had signed.
          console.warn(err.message || err);
          this.pad.clear();
          if (this.input.value === value) this.setValue('');
        }
      });
    }
  }

  function init(scope) {
    if (typeof window.SignaturePad !== 'function') {
      console.error('signature: load static/vendor/signature_pad/signature_pad.umd.min.js before signature.js');
      return;
    }
    for (const root of scope.querySelectorAll('[data-signature-field]')) {
      if (seen.has(root)) continue;
      const name = root.getAttribute('data-signature-field');
      const canvas = root.querySelector('canvas');
      const input = Array.from(root.querySelectorAll('input')).find((el) => el.name === name);
      if (!canvas || !input) {
        console.warn(`signature: [data-signature-field="${name}"] needs a <canvas> and <input name="${name}">`);
        continue;
      }
      seen.add(root);
      fields.push(new SignatureField(root, canvas, input));
    }
  }

  // devicePixelRatio changes (browser zoom, moving a window between screens)
  // without any CSS size change, so ResizeObserver does not see them.
  function watchPixelRatio() {
    if (!window.matchMedia) return;
    const query = window.matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    const onChange = () => {
      query.removeEventListener('change', onChange);
      fields.forEach((f) => f.scheduleResize());
      watchPixelRatio();
    };
    query.addEventListener('change', onChange);
  }

  function start() {
    init(document);
    watchPixelRatio();
    // Also without ResizeObserver (old WebViews), and because browser zoom
    // fires resize: resize() is a no-op when neither size nor ratio changed.
    const all = () => fields.forEach((f) => f.scheduleResize());
    window.addEventListener('resize', all);
    window.addEventListener('orientationchange', all);
  }

  // For markup inserted later (e.g. a modal loaded by fetch).
  window.PortalSignature = { init: (scope) => init(scope || document) };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
