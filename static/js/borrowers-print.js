// A "Print" button for printable slips: <button type="button" data-print hidden>.
// Rendered hidden so it only appears when this script can make it work (strict CSP, no onclick).
(function () {
  "use strict";
  function init() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
