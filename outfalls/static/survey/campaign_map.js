/* A campaign's map: its suspected points coloured by outcome, its reaches, walked tracks, rivers and boundaries for
 * context. Works without a base layer (MAP_BASE_LAYER=none): nothing is fetched from outside. */
(function () {
  "use strict";
  Safe.guardLeaflet();
  var node = document.getElementById("campaign-map-config");
  if (!node || !window.L) return;
  var config = JSON.parse(node.textContent);
  var map = L.map("campaign-map", { minZoom: 3, maxZoom: 19 });
  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(map);
  // The first configured base (static/maps/basemap.js): the offline base by default, or tiles.
  (config.baseLayers || []).slice(0, 1).forEach(function (base) {
    Basemap.layer(base).addTo(map);
  });
  map.setView([40.08, 113.3], 9);
  function get(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    });
  }
  var boundaries = L.geoJSON(null, { interactive: false, style: { color: "#555", weight: 1.2, dashArray: "4 3", fill: false } }).addTo(map);
  var rivers = L.geoJSON(null, { style: { color: "#3b8bd0", weight: 3 } }).addTo(map);
  // Reaches to walk: green once marked 已完成徒步排查, orange while still to walk.
  var reaches = L.geoJSON(null, {
    style: function (f) {
      return { color: f.properties.checked ? "#2e7d32" : "#f57c00", weight: 7, opacity: 0.45 };
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindTooltip(Safe.text(p.name + "（" + p.bank + "，" + p.km + " km，" + (p.checked ? "已完成徒步排查" : "未完成") + "）"));
    },
  }).addTo(map);
  var tracks = L.geoJSON(null, { style: { color: "#2e7d32", weight: 2, dashArray: "2 4" } }).addTo(map);
  get(config.boundaries + "?zoom=10").then(function (d) { if (d) boundaries.addData(d); });
  get(config.rivers + "?zoom=12").then(function (d) { if (d) rivers.addData(d); });
  get(config.tracks).then(function (d) { if (d) tracks.addData(d); });
  get(config.reaches).then(function (d) {
    if (!d) return;
    reaches.addData(d);
    document.getElementById("campaign-map").dataset.reaches = String(d.features.length);
  });
  var points = L.geoJSON(null, {
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, {
        radius: 7, weight: 1.5, color: "#333", fillOpacity: 0.9,
        fillColor: config.colours[f.properties.outcome] || "#999",
        className: "survey-point outcome-" + f.properties.outcome,
      });
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      var box = Safe.el("div");
      box.appendChild(Safe.el("a", { href: p.url }, p.number));
      box.appendChild(document.createTextNode(" · " + (config.labels[p.outcome] || p.outcome)));
      layer.bindPopup(box);
    },
  }).addTo(map);
  get(config.points).then(function (d) {
    if (!d) return;
    points.addData(d);
    var el = document.getElementById("campaign-map");
    el.dataset.points = String(d.features.length);
    if (d.features.length) map.fitBounds(points.getBounds().pad(0.2), { maxZoom: 15 });
  });
})();
