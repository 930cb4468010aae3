/* The portal's map: the offline base (maps/basemap.js, from /public/basemap.json) and the disclosed outfalls
 * (the list's filter, as GeoJSON). Popups are built from text nodes (Safe.el); nothing from outside. */
(function () {
  "use strict";
  var box = document.getElementById("public-map");
  if (!box || !window.L) return;
  if (window.Safe) Safe.guardLeaflet();
  var map = L.map(box, { zoomControl: true, attributionControl: false }).setView([40.08, 113.3], 8);
  Basemap.layer({ tiles: [], vector: box.dataset.basemap }).addTo(map);
  fetch(box.dataset.geojson, { headers: { Accept: "application/geo+json" } })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(function (data) {
      var layer = L.geoJSON(data, {
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, { radius: 7, color: "#0b4f8a", weight: 2, fillColor: "#3d8bd4", fillOpacity: 0.8 });
        },
        onEachFeature: function (feature, marker) {
          var p = feature.properties;
          var body = Safe.el("div", {});
          body.appendChild(Safe.el("a", { href: p.url }, p.name));
          body.appendChild(Safe.el("div", {}, p.code + " · " + p.type_label));
          body.appendChild(Safe.el("div", {}, p.water_body + " · " + p.status));
          marker.bindPopup(body);
        },
      }).addTo(map);
      if (data.features.length) map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 14 });
      box.dataset.loaded = String(data.features.length);
    })
    .catch(function () {
      box.dataset.loaded = "error";
    });
})();
