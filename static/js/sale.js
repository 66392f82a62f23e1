/* The sale screen, offline-capable: every tap shows on the screen at once and becomes an
   operation with its own UUID that waits in IndexedDB. The queue is synced event by event, oldest
   first, by itself: on load, when the network comes back, when the page is shown again, and on a
   timer while anything waits (and on "Sync now"). The server records each UUID once, so sending
   a batch again is always safe.
   - An operation the server refuses (its answer names it) leaves the queue for the "not
     recorded" list with the reason; it never holds up the others, nor another event's.
   - No network, 503 or another server error: try again later, waiting longer each time. After
     repeated server errors the operations go one at a time, to find the one that fails.
   No names or emails are ever written to the phone. Without JavaScript the forms still work. */
(function () {
  "use strict";

  var root = document.getElementById("sale-screen");
  if (!root || !window.indexedDB || !window.fetch || !window.Promise) return;

  var DB_NAME = "stallapp-sales";
  var QUEUE = "queue";
  // What the server refused, kept apart so the queue itself never changes shape.
  var REFUSED_DB = "stallapp-sales-not-recorded";
  var REFUSED = "entries";
  // Waits between attempts after a failure: 2 s, 4 s, 8 s... at most a minute.
  var FIRST_WAIT = 2000;
  var LONGEST_WAIT = 60000;
  // While anything waits and nothing failed, look again this often.
  var POLL = 15000;
  // Server errors in a row before the operations go one at a time.
  var SPLIT_AFTER = 2;
  var PAGE_CACHE = "stallapp-sale-pages-v1";
  var BATCH = 50;
  var syncUrl = root.dataset.syncUrl;
  var tokenUrl = root.dataset.tokenUrl;
  var statusBox = document.getElementById("sync-status");
  var syncBar = document.getElementById("sync-bar");
  var loginLink = document.getElementById("sync-login");
  var sinceBox = document.getElementById("sync-since");
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
  function openDb(name, storeName, options) {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(name, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(storeName, options);
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withQueue(mode, action) {
    return withStore(DB_NAME, QUEUE, { keyPath: "seq", autoIncrement: true }, mode, action);
  }

  function withRefused(mode, action) {
    return withStore(REFUSED_DB, REFUSED, { keyPath: "id" }, mode, action);
  }

  function withStore(name, storeName, options, mode, action) {
    return openDb(name, storeName, options).then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(storeName, mode);
        var request = action(transaction.objectStore(storeName));
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

  // "10:42" today, "3 Dec, 10:42" on another day: when the oldest waiting sale was taken.
  function shortTime(iso) {
    var when = new Date(iso);
    var lang = document.documentElement.lang || undefined;
    var options = { hour: "2-digit", minute: "2-digit" };
    if (when.toDateString() !== new Date().toDateString()) {
      options.day = "numeric";
      options.month = "short";
    }
    try { return when.toLocaleString(lang, options); } catch (error) { return when.toISOString(); }
  }

  function showStatus(entries, state) {
    if (state === undefined) state = stateOf(syncUrl);
    remember("stallapp-sales-waiting", String(entries.length));
    syncBar.hidden = false;
    var mine = entries.filter(function (entry) { return entry.url === syncUrl; });
    var message = mine.length ? text("Waiting", mine.length) : text("Synced");
    if (state === "offline" && mine.length) message += " · " + text("Offline");
    if (state === "trouble" && mine.length) message += " · " + text("Trouble");
    statusBox.textContent = message;
    var oldest = mine.reduce(function (first, entry) {
      return !first || entry.op.taken_at < first ? entry.op.taken_at : first;
    }, null);
    sinceBox.textContent = oldest ? text("Since").replace("{time}", shortTime(oldest)) : "";
    sinceBox.hidden = !oldest;
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
    // Nothing to undo in the books: not recorded, or waiting for an organiser.
    if (className === "is-refused" || className === "is-held") {
      var undo = line.querySelector("button");
      if (undo) undo.remove();
    }
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
      var picked = form.querySelector("select[name=publication_id]");
      var title = picked ? picked.options[picked.selectedIndex].text : form.dataset.title;
      op.publication_id = Number(data.get("publication_id"));
      op.quantity = parseInt(data.get("quantity") || "1", 10);
      entry.publicationId = String(op.publication_id);
      entry.quantity = op.quantity;
      entry.label = (type === "sale" ? text("Sold") : text("Given")) + " " + op.quantity + " × " + title;
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

  // The sale shows on the screen first (its line and the copies left), then it is stored and
  // sent: a tap never waits for IndexedDB or the network.
  function record(form, submitter) {
    if (!form.checkValidity()) { form.reportValidity(); return; }
    var entry = operationFrom(form, submitter);
    addLine(entry);
    known.push(entry);
    showLevels(null, known);
    resetForm(form);
    setTimeout(function () {
      showStatus(known);
      enqueue(entry).then(function () { return drain(); });
    }, 0);
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
    if (button) button.remove();
    setLineState(target, text("Undone"), "is-undone");
    known.push(entry);
    showLevels(null, known);
    showStatus(known);
    enqueue(entry).then(function () { return drain(); });
  }

  // Not recorded ---------------------------------------------------------------------------
  function refusedEntries() {
    return withRefused("readonly", function (store) { return store.getAll(); });
  }

  // Move entries out of the queue into the "not recorded" list, with why and what to do.
  function setAside(entries, reason, advice, canRetry) {
    if (!entries.length) return Promise.resolve();
    return withRefused("readwrite", function (store) {
      entries.forEach(function (entry) {
        store.put({
          id: entry.id, url: entry.url, label: entry.label, entry: entry, reason: reason,
          advice: advice, canRetry: canRetry, at: new Date().toISOString(),
        });
      });
      return null;
    }).then(function () {
      entries.forEach(function (entry) {
        delete subscribers[entry.id];
        setLineState(entry.id, text("Refused"), "is-refused");
      });
      return dequeue(entries.map(function (entry) { return entry.seq; }));
    }).then(showNotRecorded);
  }

  function showNotRecorded() {
    var section = document.getElementById("not-recorded");
    var list = document.getElementById("not-recorded-list");
    if (!section || !list) return Promise.resolve();
    return refusedEntries().then(function (all) {
      var mine = all.filter(function (item) { return item.url === syncUrl; });
      list.textContent = "";
      mine.sort(function (a, b) { return a.at < b.at ? -1 : 1; }).forEach(function (item) {
        list.appendChild(notRecordedLine(item));
      });
      section.hidden = mine.length === 0;
    });
  }

  function notRecordedLine(item) {
    var line = document.createElement("li");
    line.className = "recent-line is-refused";
    line.dataset.refusedId = item.id;
    var what = document.createElement("span");
    what.className = "recent-what";
    var label = document.createElement("strong");
    label.textContent = item.label;
    var reason = document.createElement("span");
    reason.className = "refused-reason";
    reason.textContent = item.reason;
    var advice = document.createElement("span");
    advice.className = "hint";
    advice.textContent = item.advice;
    what.appendChild(label);
    what.appendChild(reason);
    what.appendChild(advice);
    line.appendChild(what);
    var actions = document.createElement("span");
    actions.className = "refused-actions";
    if (item.canRetry) actions.appendChild(refusedButton(text("TryAgain"), "button-secondary", function () { retry(item); }));
    actions.appendChild(refusedButton(text("Dismiss"), "button-danger", function () { dismiss(item); }));
    line.appendChild(actions);
    return line;
  }

  function refusedButton(label, kind, action) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button-small " + kind;
    button.textContent = label;
    button.addEventListener("click", action);
    return button;
  }

  function forget(item) {
    return withRefused("readwrite", function (store) { store.delete(item.id); return null; });
  }

  // Back into the queue under the same id: the server still records it at most once.
  function retry(item) {
    var entry = item.entry;
    delete entry.seq;
    forget(item).then(function () { return enqueue(entry); }).then(function () {
      addLine(entry);
      return showNotRecorded();
    }).then(function () { return drain(true); });
  }

  function dismiss(item) {
    forget(item).then(showNotRecorded);
  }

  // Syncing -------------------------------------------------------------------------------
  function LoginNeeded() {}

  // Per event (its sync URL): how syncing it goes, so one event's trouble never stops another.
  var trouble = {};
  var timer = null;

  function troubleOf(url) {
    if (!trouble[url]) trouble[url] = { state: "ok", failures: 0, nextTry: 0, single: false, failedId: null, failedTimes: 0 };
    return trouble[url];
  }

  function stateOf(url) {
    if (loginNeeded) return "login";
    if (navigator.onLine === false) return "offline";
    return trouble[url] ? trouble[url].state : "ok";
  }

  function waitLonger(t, retryAfterSeconds) {
    t.failures += 1;
    var wait = Math.min(LONGEST_WAIT, FIRST_WAIT * Math.pow(2, t.failures - 1));
    if (retryAfterSeconds > 0) wait = Math.max(wait, Math.min(retryAfterSeconds * 1000, 5 * LONGEST_WAIT));
    t.nextTry = Date.now() + wait;
  }

  function freshToken() {
    return fetch(tokenUrl, { credentials: "same-origin", redirect: "manual", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 401) throw new LoginNeeded();
        if (!response.ok) throw new Error("token: " + response.status);
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

  function readJson(response) {
    return response.json().catch(function () { return {}; });
  }

  // Answers that mean the event was closed out: this screen must stop offering sales.
  var CLOSED_CODES = ["held_late", "closed_before_taken", "event_closed"];
  var screenClosed = false;

  // A 200: every operation has its own answer (done, held for an organiser, or refused).
  // Messages are shown only for this screen's event: another event's sale is not news here.
  function applyResults(results, batch, url) {
    var here = url === syncUrl;
    var lastWarning = null;
    var lastMessage = null;
    var refused = [];
    var byId = {};
    batch.forEach(function (entry) { byId[entry.id] = entry; });
    results.forEach(function (result) {
      delete subscribers[result.id];
      if (here && CLOSED_CODES.indexOf(result.code) >= 0) screenClosed = true;
      if (result.status === "done") {
        lastMessage = result.message;
        if (result.warning) lastWarning = result.warning;
        if (result.undone_sale_id !== undefined) return;
        var line = lineFor(result.id);
        if (line && !line.classList.contains("is-undone")) setLineState(result.id, "", null);
      } else if (result.status === "held") {
        setLineState(result.id, text("Held"), "is-held");
        lastMessage = result.message;
      } else if (byId[result.id]) {
        byId[result.id].reason = result.message;
        refused.push(byId[result.id]);
        lastWarning = result.message;
      }
    });
    if (here && lastWarning) say(lastWarning, true);
    else if (here && lastMessage) say(lastMessage, false);
    var settled = batch.filter(function (entry) { return refused.indexOf(entry) < 0; });
    return Promise.all(refused.map(function (entry) {
      return setAside([entry], entry.reason, text("AdviceRefused"), false);
    })).then(function () { return dequeue(settled.map(function (entry) { return entry.seq; })); });
  }

  // Send one event's waiting operations until none is left or something stops it.
  function syncEvent(url, progress) {
    var t = troubleOf(url);
    if (Date.now() < t.nextTry) return Promise.resolve();
    return queued().then(function (entries) {
      var mine = entries.filter(function (entry) { return entry.url === url; });
      if (!mine.length) {
        t.single = false;
        t.failures = 0;
        t.state = "ok";
        return null;
      }
      var batch = t.single ? mine.slice(0, 1) : mine.slice(0, BATCH);
      return freshToken().then(function (token) { return send(batch, token); }).then(function (response) {
        return answered(url, t, batch, mine, response, progress);
      }, function (error) {
        if (error instanceof LoginNeeded) throw error;
        t.state = "offline";
        waitLonger(t, 0);
        return null;
      });
    });
  }

  function answered(url, t, batch, mine, response, progress) {
    var status = response.status;
    if (response.type === "opaqueredirect" || status === 401) throw new LoginNeeded();
    if (status === 200) {
      return readJson(response).then(function (body) {
        t.failures = 0;
        t.state = "ok";
        progress.synced = true;
        return applyResults(body.results || [], batch, url).then(function () {
          if (url === syncUrl) {
            var rest = mine.filter(function (entry) { return batch.indexOf(entry) < 0; });
            showLevels(body.levels, rest);
            showTotals(body.totals);
          }
          return syncEvent(url, progress);
        });
      });
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      // Refused: the answer names the operations at fault, or the batch is split to find them.
      return readJson(response).then(function (body) {
        if (typeof body.error !== "string") {
          // Not the sync API's answer (an expired form token, a page in between): try later.
          t.state = "trouble";
          waitLonger(t, 0);
          return null;
        }
        var named = body.operations || (body.operation ? [body.operation] : []);
        var bad = batch.filter(function (entry) { return named.indexOf(entry.id) >= 0; });
        var reason = body.error;
        if (!bad.length && batch.length > 1) {
          t.single = true;
          return syncEvent(url, progress);
        }
        if (!bad.length) bad = batch;
        var advice = status === 409 ? text("AdviceRefused") : text("AdviceBad");
        if (url === syncUrl) say(reason, true);
        return setAside(bad, reason, advice, false).then(function () { return syncEvent(url, progress); });
      });
    }
    // The server is down or failing: wait and try again. Only a plain 500 may come from one
    // operation (a 502, 503 or 504 is the server or its proxy being away): when it repeats,
    // send one at a time, and set aside (to try again later) one that fails twice on its own.
    t.state = "trouble";
    var retryAfter = parseInt(response.headers.get("Retry-After") || "0", 10) || 0;
    if (status === 500) {
      if (batch.length > 1 && t.failures + 1 >= SPLIT_AFTER) {
        t.single = true;
        t.failures = 0;
        return syncEvent(url, progress);
      }
      if (batch.length === 1 && t.single) {
        t.failedTimes = t.failedId === batch[0].id ? t.failedTimes + 1 : 1;
        t.failedId = batch[0].id;
        if (t.failedTimes >= SPLIT_AFTER) {
          t.failedTimes = 0;
          t.failures = 0;
          return setAside(batch, text("ServerFailed"), text("AdviceServer"), true).then(function () {
            return syncEvent(url, progress);
          });
        }
      }
    }
    waitLonger(t, retryAfter);
    return null;
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

  var loginNeeded = false;

  // Sync every event that has something waiting, one after the other; ``now`` forgets the
  // waits (the network came back, or the member asked).
  function drain(now) {
    if (now === true) Object.keys(trouble).forEach(function (url) { trouble[url].nextTry = 0; });
    if (draining) {
      // Something was queued while a drain was finishing: go round once more afterwards.
      drainAgain = true;
      return Promise.resolve();
    }
    draining = true;
    drainAgain = false;
    clearTimeout(timer);
    loginNeeded = false;
    var progress = { synced: false };
    return queued().then(function (entries) {
      var urls = [];
      entries.forEach(function (entry) { if (urls.indexOf(entry.url) < 0) urls.push(entry.url); });
      return urls.reduce(function (chain, url) {
        return chain.then(function () { return syncEvent(url, progress); });
      }, Promise.resolve());
    }).catch(function (error) {
      if (error instanceof LoginNeeded) loginNeeded = true;
      // Subscriber details live only in this page's memory: say so before they are lost.
      if (Object.keys(subscribers).length) say(text("SubscriberKept"), true);
    })
      .then(function () { return progress.synced && stateOf(syncUrl) === "ok" ? rememberPage() : null; })
      .then(function () { draining = false; return refresh(); })
      .then(function (entries) {
        if (screenClosed) {
          // The server closed this event out: reload to the read-only screen with its banner,
          // so no more taps turn into sales it will refuse. What waits for other events stays
          // queued and syncs from the reloaded page.
          location.reload();
          return null;
        }
        if (drainAgain && !loginNeeded) return drain();
        schedule(entries);
        return null;
      });
  }

  // While anything waits, come back by ourselves: at the next allowed try, or every POLL.
  function schedule(entries) {
    clearTimeout(timer);
    if (!entries.length || loginNeeded) return;
    var now = Date.now();
    var wait = POLL;
    entries.forEach(function (entry) {
      var t = troubleOf(entry.url);
      if (t.nextTry > now) wait = Math.min(wait, t.nextTry - now);
    });
    timer = setTimeout(function () { drain(); }, Math.max(500, wait));
  }

  var known = [];

  function refresh() {
    return queued().then(function (entries) {
      known = entries;
      showLevels(null, entries);
      showStatus(entries);
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
  document.getElementById("sync-now").addEventListener("click", function () { drain(true); });
  window.addEventListener("online", function () { drain(true); });
  window.addEventListener("offline", function () { showStatus(known, "offline"); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") drain(true);
  });

  // The picker of every title: typing filters its list (without JavaScript the list alone works).
  var search = document.getElementById("title-search");
  var picker = document.getElementById("title-picker");
  if (search && picker) {
    var groups = Array.prototype.map.call(picker.children, function (group) {
      return { node: group, options: Array.prototype.slice.call(group.children) };
    });
    document.getElementById("title-search-field").hidden = false;
    search.addEventListener("input", function () {
      var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      var first = null;
      picker.textContent = "";
      groups.forEach(function (group) {
        group.node.textContent = "";
        group.options.forEach(function (option) {
          var name = option.text.toLowerCase();
          if (words.every(function (word) { return name.indexOf(word) >= 0; })) {
            group.node.appendChild(option);
            if (!first) first = option;
          }
        });
        if (group.node.children.length) picker.appendChild(group.node);
      });
      if (first) first.selected = true;
    });
  }

  // Ask the browser to keep this site's storage under pressure, so the queue is never evicted
  // (granted at once to an installed app; elsewhere the browser decides from how it is used).
  if (navigator.storage && navigator.storage.persist) {
    navigator.storage.persisted().then(function (kept) {
      return kept || navigator.storage.persist();
    }).catch(function () { return false; });
  }

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
  }).then(showNotRecorded).then(function () {
    return rememberPage();
  }).then(drain);
})();
