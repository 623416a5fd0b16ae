/*
 * Greeting-text SMS counter (progressive enhancement of templates/care/template_form.html).
 *
 * The server renders the length and the SMS parts of the text as it was last saved or
 * submitted; this recounts while the admin types, the same way: placeholders filled
 * with the preview's sample values ({{ and }} are single braces), UTF-16 units, 70
 * characters in one SMS, 67 per part beyond that. Without JavaScript the server's
 * count stays.
 */
(() => {
  'use strict';

  const PLACEHOLDER = /\{\{|\}\}|\{(\w+)\}/g;

  function fill(text, values) {
    return text.replace(PLACEHOLDER, (match, name) => {
      if (match === '{{') return '{';
      if (match === '}}') return '}';
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : match;
    });
  }

  function parts(length, single, part) {
    if (length === 0) return 0;
    return length <= single ? 1 : Math.ceil(length / part);
  }

  function say(patterns, num) {
    return (num === 1 ? patterns.one : patterns.other).replace('%(num)d', String(num));
  }

  function setUp(hint) {
    const field = document.getElementById(hint.dataset.smsCounter);
    if (!field) return;
    const single = Number(hint.dataset.smsSingle);
    const part = Number(hint.dataset.smsPart);
    const values = JSON.parse(hint.dataset.smsValues);
    const patterns = JSON.parse(hint.dataset.smsPatterns);
    const update = () => {
      const length = fill(field.value, values).trim().length;
      const count = parts(length, single, part);
      hint.querySelector('[data-sms-length]').textContent = say(patterns.length, length);
      hint.querySelector('[data-sms-parts]').textContent = say(patterns.parts, count);
      hint.querySelector('[data-sms-basis]').textContent = hint.dataset.smsBasisFilled;
      hint.querySelector('[data-sms-warning]').hidden = count <= 1;
    };
    field.addEventListener('input', update);
  }

  document.querySelectorAll('[data-sms-counter]').forEach(setUp);
})();
