/* A patrol's map: the walked track, the numbered findings, the rivers for context. Works without a base layer
 * (MAP_BASE_LAYER=none): nothing is fetched from outside. */
(function () {
  "use strict";
  Safe.guardLeaflet();
  var node = document.getElementById("patrol-map-config");
  if (!node || !window.L) return;
  var config = JSON.parse(node.textContent);
  var el = document.getElementById("patrol-map");
  var map = L.map("patrol-map", { minZoom: 3, maxZoom: 19 });
  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(map);
  (config.baseLayers || []).slice(0, 1).forEach(function (base) {
    Basemap.layer(base).addTo(map);
  });
  map.setView([40.08, 113.3], 9);
  var rivers = L.geoJSON(null, { interactive: false, style: { color: "#3b8bd0", weight: 3 } }).addTo(map);
  fetch(config.rivers + "?zoom=12", { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (d) {
      if (d) rivers.addData(d);
      if (track) track.bringToFront();
    });
  var bounds = L.latLngBounds([]);
  var track = null;
  if (config.track) {
    // The walked track over the river line it follows: red and dashed, drawn above the rivers.
    track = L.geoJSON(config.track, { style: { color: "#c62828", weight: 5, dashArray: "8 6", opacity: 0.9 } }).addTo(map);
    bounds.extend(track.getBounds());
  }
  config.points.forEach(function (p) {
    var marker = L.circleMarker([p.lat, p.lon], { radius: 8, weight: 2, color: "#333", fillColor: "#f9a825", fillOpacity: 0.9 })
      .bindTooltip(Safe.text("发现 " + p.n), { permanent: true, direction: "right" })
      .addTo(map);
    bounds.extend(marker.getLatLng());
  });
  if (bounds.isValid()) map.fitBounds(bounds.pad(0.2), { maxZoom: 16 });
  el.dataset.loaded = String(config.points.length) + (config.track ? "+track" : "");
})();
