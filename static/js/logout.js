/* Logging out: warn when sales are still waiting to sync on this phone (and keep them); with
   nothing waiting, clear the sale screen's offline copies so the next person sees none of it.
   The sale screen keeps two small flags in localStorage (a count and "a copy is cached", no
   personal data) so that this check is synchronous and logging out stays a plain form post. */
(function () {
  "use strict";

  var WAITING = "stallapp-sales-waiting";
  var CACHED = "stallapp-sale-cached";

  function read(key) {
    try { return window.localStorage.getItem(key); } catch (error) { return null; }
  }

  function clearOfflineCopies() {
    if (!window.caches) return Promise.resolve();
    return caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) { return name.indexOf("stallapp-sale") === 0; })
        .map(function (name) { return caches.delete(name); }));
    }).then(function () {
      try { window.localStorage.removeItem(CACHED); } catch (error) { return null; }
      return null;
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-logout")) return;
    var waiting = Number(read(WAITING) || 0);
    if (waiting > 0) {
      var warning = (form.dataset.unsyncedWarning || "").replace("{count}", String(waiting));
      if (!window.confirm(warning)) event.preventDefault();
      return;  // The queue and the cached screen stay, to be synced after the next login.
    }
    if (!read(CACHED)) return;
    event.preventDefault();
    clearOfflineCopies().catch(function () { return null; }).then(function () { form.submit(); });
  });
})();
