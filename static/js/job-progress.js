// The progress of a report the worker renders: polls the job's JSON status and shows
// it (text, bar, the download button when the file is ready). Without JavaScript a
// reload of the page shows the same.
(function () {
  "use strict";
  var box = document.querySelector("[data-job-status]");
  if (!box) {
    return;
  }
  var text = box.querySelector("[data-role=text]");
  var bar = box.querySelector("[data-role=bar]");
  var download = box.querySelector("[data-role=download]");
  var finished = { done: true, failed: true };

  function show(status) {
    box.dataset.state = status.status;
    text.textContent = status.text;
    bar.max = status.total || 1;
    bar.value = status.done;
    if (status.download) {
      download.href = status.download;
      download.classList.remove("d-none");
    }
  }

  function poll() {
    fetch(box.dataset.jobStatus, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (status) {
        if (status) {
          show(status);
        }
        if (!status || !finished[status.status]) {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }

  if (!finished[box.dataset.state]) {
    window.setTimeout(poll, 1000);
  }
})();
