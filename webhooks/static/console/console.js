// RecordCheck console: small enhancements only; every page works without this file.
(function () {
  "use strict";

  // Print buttons (inline handlers are blocked by the CSP, so wire them here).
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target instanceof Element && target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
    }
  });

  // Batch progress: poll the job's status and update the bar until it finishes.
  function pollBatch(box) {
    var url = box.getAttribute("data-status-url");
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-progress-text]");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.json();
        })
        .then(function (job) {
          if (bar) { bar.max = job.total || 1; bar.value = job.done; }
          if (text) { text.textContent = job.done + " of " + job.total + " cases screened"; }
          if (job.status === "running") {
            window.setTimeout(tick, 500);
          } else {
            window.location.reload();
          }
        })
        .catch(function () { window.setTimeout(tick, 2000); });
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-status-url]");
    if (box) { pollBatch(box); }
    // Select the setup link for easy copying.
    var copyable = document.querySelector(".copyable");
    if (copyable) { copyable.addEventListener("focus", function () { copyable.select(); }); }
  });
})();
