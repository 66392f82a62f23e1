/* Service worker of the sale screen: keeps the last copy of each sale screen and its assets so
   the screen opens with no network. Network first, so a connected phone always sees fresh data.
   It handles nothing else; queued sales live in IndexedDB, managed by sale.js. */
"use strict";

var PAGE_CACHE = "stallapp-sale-pages-v1";
var ASSET_CACHE = "stallapp-sale-assets-v1";
var ASSETS = ["/static/css/app.css", "/static/js/sale.js", "/static/js/logout.js"];
var SALE_PAGE = /^\/groups\/[^/]+\/sell\/\d+$/;

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

function networkFirst(request, cacheName, key) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected && response.type === "basic") {
      var copy = response.clone();
      caches.open(cacheName).then(function (cache) { cache.put(key, copy); });
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
  if (SALE_PAGE.test(url.pathname)) {
    event.respondWith(networkFirst(request, PAGE_CACHE, url.pathname));
  } else if (ASSETS.indexOf(url.pathname) >= 0) {
    event.respondWith(networkFirst(request, ASSET_CACHE, url.pathname));
  }
});
