/* Service worker of the 现场核查 page (served from /survey/sw.js, scope /survey/).
 * Field pages and the map context: network first, the cached copy without signal.
 * Static assets: cache first. Uploads (POST) are never touched: the page queues them in IndexedDB. */
var CACHE = "{{ version }}";
var STATIC = "{{ static }}";
{% verbatim %}
self.addEventListener("install", function (event) {
  self.skipWaiting();
});
self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k.indexOf("survey-field-") !== -1 && k !== CACHE; }).map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});
self.addEventListener("message", function (event) {
  var urls = (event.data && event.data.cache) || [];
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (response.ok && !response.redirected) return cache.put(url, response);
      }).catch(function () {});
    }));
  }));
});
function networkFirst(request) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    // Django varies on Cookie; the copy is this browser's own, so match on the address alone.
    return caches.match(request, { ignoreVary: true }).then(function (hit) {
      return hit || caches.match(new URL(request.url).pathname, { ignoreVary: true, ignoreSearch: true });
    }).then(function (hit) {
      return hit || Response.error();
    });
  });
}
function cacheFirst(request) {
  return caches.match(request, { ignoreVary: true }).then(function (hit) {
    return hit || fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    });
  });
}
self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf(STATIC) === 0 && /\.[0-9a-f]{12}\.[a-z0-9]+$/.test(url.pathname)) {
    // A hashed name (ManifestStaticFilesStorage) never changes content: the cached copy is good.
    event.respondWith(cacheFirst(request));
  } else if (url.pathname.indexOf(STATIC) === 0) {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.indexOf("/survey/field/") === 0 || url.pathname.indexOf("/maps/api/rivers/") === 0) {
    event.respondWith(networkFirst(request));
  }
});
{% endverbatim %}
