// /try demo chat. Texts are inserted with textContent only (never as HTML).
(function () {
  "use strict";
  var main = document.querySelector(".chat");
  var log = document.getElementById("log");
  var form = document.getElementById("send");
  var input = document.getElementById("text");
  var lang = main.dataset.lang;
  var busy = false;

  function newId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function add(kind, text, buttons) {
    var item = document.createElement("li");
    item.className = "from-" + kind;
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = text;
    item.appendChild(bubble);
    if (buttons && buttons.length) {
      var row = document.createElement("div");
      row.className = "buttons";
      buttons.forEach(function (pair) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = pair[0];
        button.addEventListener("click", function () {
          row.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
          send(pair[1], pair[0], true);
        });
        row.appendChild(button);
      });
      item.appendChild(row);
    }
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  function send(value, shown, isButton) {
    if (busy) { return; }
    busy = true;
    if (shown !== null) { add("you", shown); }
    var payload = { text: value, id: newId(), lang: lang, button: !!isButton };
    var attempt = function (triesLeft) {
      return fetch(main.dataset.messageUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(payload)
      }).then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) {
            add("error", data.error ? (typeof data.error === "string" ? data.error
              : main.dataset.failed) : main.dataset.failed);
            return;
          }
          data.messages.forEach(function (m) { add("bot", m.text, m.buttons); });
        });
      }).catch(function () {
        // The same id again: the server answers a repeat from its stored reply.
        if (triesLeft > 0) { return attempt(triesLeft - 1); }
        add("error", main.dataset.failed);
      });
    };
    attempt(1).then(function () { busy = false; input.focus(); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var value = input.value;
    if (!value.trim()) { return; }
    input.value = "";
    send(value, value, false);
  });

  document.getElementById("restart").addEventListener("click", function () {
    fetch(main.dataset.restartUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: "{}"
    }).then(function () {
      log.textContent = "";
      send(lang === "es" ? "hola" : "hi", null, false);
    });
  });

  // Open the chat the way a person would, without showing the greeting we sent.
  send(lang === "es" ? "hola" : "hi", null, false);
})();
