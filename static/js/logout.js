/* Logging out: warn when sales are still waiting to sync on this phone (and keep them); with
   nothing waiting, clear the sale screen's offline copies so the next person sees none of it. */
(function () {
  "use strict";

  function waitingCount() {
    if (!window.indexedDB) return Promise.resolve(0);
    var known = indexedDB.databases ? indexedDB.databases() : Promise.resolve([{ name: "stallapp-sales" }]);
    return known.then(function (databases) {
      var exists = databases.some(function (database) { return database.name === "stallapp-sales"; });
      if (!exists) return 0;
      return new Promise(function (resolve) {
        var request = indexedDB.open("stallapp-sales", 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
        };
        request.onsuccess = function () {
          var db = request.result;
          var count = db.transaction("queue", "readonly").objectStore("queue").count();
          count.onsuccess = function () { db.close(); resolve(count.result); };
          count.onerror = function () { db.close(); resolve(0); };
        };
        request.onerror = function () { resolve(0); };
      });
    });
  }

  function clearOfflineCopies() {
    if (!window.caches) return Promise.resolve();
    return caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) { return name.indexOf("stallapp-sale") === 0; })
        .map(function (name) { return caches.delete(name); }));
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-logout") || form.dataset.checked) return;
    event.preventDefault();
    waitingCount().then(function (count) {
      if (count > 0) {
        var warning = (form.dataset.unsyncedWarning || "").replace("{count}", String(count));
        if (!window.confirm(warning)) return null;
        return true;
      }
      return clearOfflineCopies().then(function () { return true; });
    }).catch(function () { return true; }).then(function (go) {
      if (!go) return;
      form.dataset.checked = "1";
      form.submit();
    });
  });
})();
