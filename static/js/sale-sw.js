/* Service worker of the sale screen: keeps the last copy of each sale screen, of the sale list
   and of their assets so the screen (and the installed app) opens with no network. Network first, so a connected phone always sees fresh data.
   It handles nothing else; queued sales live in IndexedDB, managed by sale.js. */
"use strict";

var PAGE_CACHE = "stallapp-sale-pages-v1";
var ASSET_CACHE = "stallapp-sale-assets-v1";
var ASSETS = ["/static/css/app.css", "/static/js/sale.js", "/static/js/logout.js"];
// A group's sale list and each event's sale screen.
var SALE_PAGE = /^\/groups\/[^/]+\/sell(\/\d+)?$/;
var SALE_LIST = /^\/groups\/[^/]+\/sell$/;
// Where the installed app starts (see the manifest): offline, the last sale list opened.
var START = "/sell";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(ASSET_CACHE).then(function (cache) { return cache.addAll(ASSETS); }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function networkFirst(request, cacheName, key, alias) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected && response.type === "basic") {
      var copy = response.clone();
      var aliasCopy = alias ? response.clone() : null;
      caches.open(cacheName).then(function (cache) {
        cache.put(key, copy);
        if (aliasCopy) cache.put(alias, aliasCopy);
      });
    }
    return response;
  }).catch(function () {
    return caches.match(key).then(function (cached) { return cached || Response.error(); });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === START) {
    event.respondWith(networkFirst(request, PAGE_CACHE, START));
  } else if (SALE_PAGE.test(url.pathname)) {
    var alias = SALE_LIST.test(url.pathname) ? START : null;
    event.respondWith(networkFirst(request, PAGE_CACHE, url.pathname, alias));
  } else if (ASSETS.indexOf(url.pathname) >= 0) {
    event.respondWith(networkFirst(request, ASSET_CACHE, url.pathname));
  }
});
