/* The sale screen, offline-capable: every tap becomes an operation with its own UUID, waits in
   IndexedDB and is synced oldest first (on load, when the browser says it is online, and on
   "Sync now"). The server records each UUID once, so sending a batch again is always safe.
   No names or emails are ever written to the phone. Without JavaScript the forms still work. */
(function () {
  "use strict";

  var root = document.getElementById("sale-screen");
  if (!root || !window.indexedDB || !window.fetch || !window.Promise) return;

  var DB_NAME = "stallapp-sales";
  var QUEUE = "queue";
  var PAGE_CACHE = "stallapp-sale-pages-v1";
  var BATCH = 50;
  var syncUrl = root.dataset.syncUrl;
  var tokenUrl = root.dataset.tokenUrl;
  var statusBox = document.getElementById("sync-status");
  var syncBar = document.getElementById("sync-bar");
  var loginLink = document.getElementById("sync-login");
  var recent = document.getElementById("recent");
  var messageBox = null;
  var draining = false;
  var drainAgain = false;
  // Subscriber details typed while online: kept in memory only, sent with the first attempt.
  var subscribers = {};

  function text(name, count) {
    var value = root.dataset["text" + name] || "";
    return count === undefined ? value : value.replace("{count}", String(count));
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  // IndexedDB -----------------------------------------------------------------------------
  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(QUEUE, { keyPath: "seq", autoIncrement: true });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withQueue(mode, action) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(QUEUE, mode);
        var request = action(transaction.objectStore(QUEUE));
        transaction.oncomplete = function () {
          db.close();
          resolve(request && "result" in request ? request.result : undefined);
        };
        transaction.onerror = function () { db.close(); reject(transaction.error); };
      });
    });
  }

  function queued() { return withQueue("readonly", function (store) { return store.getAll(); }); }
  function enqueue(entry) { return withQueue("readwrite", function (store) { return store.add(entry); }); }
  function dequeue(seqs) {
    return withQueue("readwrite", function (store) {
      seqs.forEach(function (seq) { store.delete(seq); });
      return null;
    });
  }

  // The screen ----------------------------------------------------------------------------
  var hideMessage = null;

  // A toast fixed to the bottom of the screen: nothing moves under a thumb about to tap.
  function say(message, isWarning) {
    if (!messageBox) {
      messageBox = document.createElement("p");
      messageBox.setAttribute("role", "status");
      document.body.appendChild(messageBox);
    }
    messageBox.textContent = message;
    messageBox.className = "flash sale-toast " + (isWarning ? "flash-info" : "flash-success");
    messageBox.hidden = false;
    clearTimeout(hideMessage);
    hideMessage = setTimeout(function () { messageBox.hidden = true; }, isWarning ? 10000 : 4000);
  }

  function remember(key, value) {
    try { window.localStorage.setItem(key, value); } catch (error) { return; }
  }

  function showStatus(entries, state) {
    remember("stallapp-sales-waiting", String(entries.length));
    syncBar.hidden = false;
    var waiting = entries.filter(function (entry) { return entry.url === syncUrl; }).length;
    var message = waiting ? text("Waiting", waiting) : text("Synced");
    if (state === "offline" && waiting) message += " · " + text("Offline");
    if (state === "closed") message = text("Closed");
    statusBox.textContent = message;
    loginLink.hidden = state !== "login";
  }

  function showTotals(rows) {
    var list = document.getElementById("totals");
    if (!list || !rows) return;
    list.textContent = "";
    rows.forEach(function (row) {
      var term = document.createElement("dt");
      term.textContent = row[0];
      var value = document.createElement("dd");
      value.textContent = row[1];
      list.appendChild(term);
      list.appendChild(value);
    });
  }

  function tiles() { return root.querySelectorAll("form[data-publication-id]"); }

  function showLevels(levels, entries) {
    var pending = {};
    entries.forEach(function (entry) {
      if (entry.url === syncUrl && entry.publicationId) {
        pending[entry.publicationId] = (pending[entry.publicationId] || 0) + entry.quantity;
      }
    });
    Array.prototype.forEach.call(tiles(), function (form) {
      var id = form.dataset.publicationId;
      var badge = form.querySelector(".tile-left");
      if (!badge) return;
      if (levels && id in levels) badge.dataset.left = levels[id];
      var left = Number(badge.dataset.left) - (pending[id] || 0);
      badge.textContent = text("Left", left);
      form.parentNode.classList.toggle("tile-empty", left <= 0);
    });
  }

  function lineFor(operationId) {
    return recent.querySelector('[data-operation-id="' + operationId + '"]');
  }

  function addLine(entry) {
    var none = recent.querySelector(".recent-none");
    if (none) none.remove();
    var line = document.createElement("li");
    line.className = "recent-line is-pending";
    line.dataset.operationId = entry.id;
    if (entry.publicationId && entry.quantity > 0) {
      line.dataset.publicationId = entry.publicationId;
      line.dataset.quantity = entry.quantity;
    }
    var what = document.createElement("span");
    what.className = "recent-what";
    what.textContent = entry.label + " ";
    var state = document.createElement("em");
    state.className = "recent-state";
    state.textContent = text("Pending");
    what.appendChild(state);
    line.appendChild(what);
    if (entry.op.type !== "undo") line.appendChild(undoButton(entry.id));
    recent.insertBefore(line, recent.firstChild);
  }

  function undoButton(target) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button-danger button-small";
    button.textContent = text("Undo");
    button.addEventListener("click", function () { queueUndo(target, button); });
    return button;
  }

  function setLineState(operationId, label, className) {
    var line = lineFor(operationId);
    if (!line) return;
    line.classList.remove("is-pending");
    if (className) line.classList.add(className);
    var state = line.querySelector(".recent-state");
    if (!state) {
      state = document.createElement("em");
      state.className = "recent-state";
      line.querySelector(".recent-what").appendChild(state);
    }
    state.textContent = label;
  }

  // Recording -----------------------------------------------------------------------------
  function operationFrom(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.set(submitter.name, submitter.value);
    var type = data.get("type");
    var op = { id: uuid(), type: type, taken_at: new Date().toISOString() };
    var entry = { id: op.id, url: syncUrl, op: op, quantity: 0, publicationId: null };
    function optional(name) {
      var value = (data.get(name) || "").trim();
      if (value) op[name] = value;
    }
    if (type === "sale" || type === "giveaway") {
      op.publication_id = Number(form.dataset.publicationId);
      op.quantity = Math.max(1, parseInt(data.get("quantity") || "1", 10) || 1);
      entry.publicationId = form.dataset.publicationId;
      entry.quantity = op.quantity;
      entry.label = (type === "sale" ? text("Sold") : text("Given")) + " " + op.quantity + " × " + form.dataset.title;
    } else if (type === "donation") {
      entry.label = text("Donation") + " " + (data.get("amount") || "") + " " + (data.get("currency") || "");
    } else {
      op.offer_id = Number(data.get("offer_id"));
      entry.label = text("Subscription");
      var email = (data.get("email") || "").trim();
      if (email && data.get("consent") === "y") {
        subscribers[op.id] = { name: (data.get("name") || "").trim(), email: email, consent: true };
      }
    }
    if (type !== "giveaway") {
      optional("amount");
      optional("currency");
      optional("payment_method");
    }
    return entry;
  }

  function record(form, submitter) {
    if (!form.checkValidity()) { form.reportValidity(); return; }
    var entry = operationFrom(form, submitter);
    enqueue(entry).then(function () {
      addLine(entry);
      resetForm(form);
      return refresh().then(drain);
    });
  }

  function resetForm(form) {
    var details = form.querySelector("details");
    if (details) details.open = false;
    ["amount", "name", "email"].forEach(function (name) {
      var input = form.querySelector('[name="' + name + '"]');
      if (input) input.value = "";
    });
    var consent = form.querySelector('[name="consent"]');
    if (consent) consent.checked = false;
    var quantity = form.querySelector('[name="quantity"]');
    if (quantity) quantity.value = "1";
    var panel = form.closest("details.panel");
    if (panel) panel.open = false;
  }

  function queueUndo(target, button) {
    var entry = {
      id: uuid(), url: syncUrl, quantity: 0, publicationId: null,
      op: { id: null, type: "undo", target: target, taken_at: new Date().toISOString() },
      label: text("Undo"),
    };
    entry.op.id = entry.id;
    // Until it syncs, an undone sale gives its copies back on the screen.
    var targetLine = lineFor(target);
    if (targetLine && targetLine.dataset.publicationId) {
      entry.publicationId = targetLine.dataset.publicationId;
      entry.quantity = -Number(targetLine.dataset.quantity || 0);
    }
    // An undone sale that is still waiting simply leaves the count of pending copies.
    enqueue(entry).then(function () {
      if (button) button.remove();
      setLineState(target, text("Undone"), "is-undone");
      return refresh().then(drain);
    });
  }

  // Syncing -------------------------------------------------------------------------------
  function LoginNeeded() {}

  function freshToken() {
    return fetch(tokenUrl, { credentials: "same-origin", redirect: "manual", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 401 || !response.ok) throw new LoginNeeded();
        return response.json();
      })
      .then(function (body) { return body.csrf_token; });
  }

  function send(batch, token) {
    var operations = batch.map(function (entry) {
      var op = Object.assign({}, entry.op);
      if (subscribers[op.id]) op.subscriber = subscribers[op.id];
      return op;
    });
    return fetch(batch[0].url, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ operations: operations }),
    });
  }

  function applyResults(results) {
    var lastWarning = null;
    var lastMessage = null;
    results.forEach(function (result) {
      delete subscribers[result.id];
      if (result.status === "done") {
        lastMessage = result.message;
        if (result.warning) lastWarning = result.warning;
        if (result.undone_sale_id !== undefined) return;
        var line = lineFor(result.id);
        if (line && !line.classList.contains("is-undone")) setLineState(result.id, "", null);
      } else {
        setLineState(result.id, text("Refused") + ": " + result.message, "is-refused");
        lastWarning = result.message;
      }
    });
    if (lastWarning) say(lastWarning, true);
    else if (lastMessage) say(lastMessage, false);
  }

  function rememberPage() {
    if (!window.caches) return Promise.resolve();
    var url = location.pathname;
    return fetch(url, { credentials: "same-origin", redirect: "manual" }).then(function (response) {
      if (!response.ok || response.redirected || response.type !== "basic") return null;
      remember("stallapp-sale-cached", "1");
      return caches.open(PAGE_CACHE).then(function (cache) { return cache.put(url, response); });
    }).catch(function () { return null; });
  }

  function drain() {
    if (draining) {
      // Something was queued while a drain was finishing: go round once more afterwards.
      drainAgain = true;
      return Promise.resolve();
    }
    draining = true;
    drainAgain = false;
    var state = "ok";
    var synced = false;
    function step() {
      return queued().then(function (entries) {
        if (!entries.length) return null;
        var url = entries[0].url;
        var batch = entries.filter(function (entry) { return entry.url === url; }).slice(0, BATCH);
        return freshToken().then(function (token) { return send(batch, token); }).then(function (response) {
          if (response.type === "opaqueredirect") throw new LoginNeeded();
          if (response.status === 200) {
            return response.json().then(function (body) {
              applyResults(body.results);
              synced = true;
              if (url === syncUrl) {
                showLevels(body.levels, entries.filter(function (e) { return batch.indexOf(e) < 0; }));
                showTotals(body.totals);
              }
              return dequeue(batch.map(function (entry) { return entry.seq; })).then(step);
            });
          }
          if (response.status === 400 || response.status === 409) {
            return response.json().then(function (body) {
              var bad = body.operations || (body.operation ? [body.operation] : []);
              if (!bad.length) throw new Error("refused");
              bad.forEach(function (id) { setLineState(id, text("Refused") + ": " + body.error, "is-refused"); });
              say(body.error, true);
              var seqs = batch.filter(function (e) { return bad.indexOf(e.id) >= 0; }).map(function (e) { return e.seq; });
              return dequeue(seqs).then(step);
            });
          }
          if (response.status === 403) { state = "closed"; return null; }
          throw new Error("server answered " + response.status);
        });
      });
    }
    return step()
      .catch(function (error) {
        state = error instanceof LoginNeeded ? "login" : "offline";
        // Subscriber details live only in this page's memory: say so before they are lost.
        if (Object.keys(subscribers).length) say(text("SubscriberKept"), true);
      })
      .then(function () { return synced && state === "ok" ? rememberPage() : null; })
      .then(function () { draining = false; return queued(); })
      .then(function (entries) {
        showStatus(entries, state);
        if (drainAgain && state === "ok") return drain();
        return null;
      });
  }

  function refresh() {
    return queued().then(function (entries) {
      showLevels(null, entries);
      showStatus(entries, navigator.onLine === false ? "offline" : "ok");
      return entries;
    });
  }

  // Wiring --------------------------------------------------------------------------------
  root.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-operation")) {
      event.preventDefault();
      record(form, event.submitter);
    } else if (form.dataset.undo) {
      event.preventDefault();
      queueUndo(form.dataset.undo, form);
    }
  });
  document.getElementById("sync-now").addEventListener("click", function () { drain(); });
  window.addEventListener("online", function () { drain(); });

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.dataset.workerUrl, { scope: "/" }).catch(function () { return null; });
  }

  queued().then(function (entries) {
    entries.forEach(function (entry) {
      if (entry.url !== syncUrl) return;
      if (entry.op.type === "undo") {
        var undoForm = root.querySelector('form[data-undo="' + entry.op.target + '"]');
        if (undoForm) undoForm.remove();
        if (!lineFor(entry.op.target)) return;
        setLineState(entry.op.target, text("Undone"), "is-undone");
      } else {
        addLine(entry);
      }
    });
    // Queued undos of queued sales: mark them after their lines exist.
    entries.forEach(function (entry) {
      if (entry.url === syncUrl && entry.op.type === "undo") {
        var line = lineFor(entry.op.target);
        if (line) {
          var button = line.querySelector("button");
          if (button) button.remove();
          setLineState(entry.op.target, text("Undone"), "is-undone");
        }
      }
    });
    return refresh();
  }).then(function () {
    return rememberPage();
  }).then(drain);
})();
