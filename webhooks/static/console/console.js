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

  // A long upload: say the work has started, and keep a second click from making a second
  // job. A form with data-busy names the status element whose data-busy-text to show.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-busy")) { return; }
    if (form.hasAttribute("data-sent")) { event.preventDefault(); return; }
    form.setAttribute("data-sent", "");
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.disabled = true;
    });
    var note = document.getElementById(form.getAttribute("data-busy"));
    if (note) { note.textContent = note.getAttribute("data-busy-text"); }
  });

  // Back to a page kept by the browser: its forms can be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      form.removeAttribute("data-sent");
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = false;
      });
      var note = document.getElementById(form.getAttribute("data-busy"));
      if (note) { note.textContent = ""; }
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    // A refused form: take the keyboard (and a screen reader) to the first answer to fix,
    // whose error is tied to it, instead of leaving it at the top of a long page.
    var wrong = document.querySelector(
      "main [aria-invalid='true'], main fieldset[aria-describedby] input:checked"
    );
    if (wrong) { wrong.focus(); }
    var box = document.querySelector("[data-status-url]");
    if (box) { pollBatch(box); }
    // Select the setup link for easy copying.
    var copyable = document.querySelector(".copyable");
    if (copyable) { copyable.addEventListener("focus", function () { copyable.select(); }); }
  });
})();
