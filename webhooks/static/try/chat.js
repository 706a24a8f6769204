// /try demo chat. Texts are inserted with textContent only (never as HTML).
(function () {
  "use strict";
  var main = document.querySelector(".chat");
  var log = document.getElementById("log");
  var form = document.getElementById("send");
  var input = document.getElementById("text");
  var lang = main.dataset.lang;
  // Set once the server has answered: later messages say so, and a browser that refuses the
  // demo cookie is then told so instead of starting over at every message.
  var started = false;

  function newId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // Who said it, for screen readers: the log is a live region, and a message read out alone
  // does not say whether it is the bot's answer or the person's own words read back.
  var speakers = { bot: main.dataset.bot, you: main.dataset.you };

  function add(kind, text, buttons) {
    var item = document.createElement("li");
    item.className = "from-" + kind;
    if (speakers[kind]) {
      var speaker = document.createElement("span");
      speaker.className = "visually-hidden";
      speaker.textContent = speakers[kind] + ": ";
      item.appendChild(speaker);
    }
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

  // One message at a time, in order: one typed or tapped while a reply is on its way waits
  // for its turn instead of being dropped.
  var queue = Promise.resolve();

  function enqueue(task) {
    queue = queue.then(task).catch(function () { add("error", main.dataset.failed); });
  }

  function post(payload, triesLeft) {
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
        started = true;
        data.messages.forEach(function (m) { add("bot", m.text, m.buttons); });
      });
    }).catch(function () {
      // The same id again: the server answers a repeat from its stored reply.
      if (triesLeft > 0) { return post(payload, triesLeft - 1); }
      add("error", main.dataset.failed);
    });
  }

  function send(value, shown, isButton) {
    enqueue(function () {
      var payload = { text: value, id: newId(), lang: lang, button: !!isButton, started: started };
      if (shown !== null) { add("you", shown); }
      return post(payload, 1).then(function () { input.focus(); });
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var value = input.value;
    if (!value.trim()) { return; }
    input.value = "";
    send(value, value, false);
  });

  document.getElementById("restart").addEventListener("click", function () {
    enqueue(function () {
      return fetch(main.dataset.restartUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: "{}"
      }).then(function () { log.textContent = ""; started = false; });
    });
    send(lang === "es" ? "hola" : "hi", null, false);
  });

  // Open the chat the way a person would, without showing the greeting we sent.
  send(lang === "es" ? "hola" : "hi", null, false);
})();
