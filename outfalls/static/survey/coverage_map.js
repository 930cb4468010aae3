/* The coverage page's map: the campaign's rivers, walked tracks and the suspected points still open
 * (pending in red, escalated in orange). No base layer: nothing is fetched from outside. */
(function () {
  "use strict";
  Safe.guardLeaflet();
  var node = document.getElementById("coverage-map-data");
  if (!node || !window.L) return;
  var data = JSON.parse(node.textContent);
  var map = L.map("coverage-map", { minZoom: 3, maxZoom: 19 });
  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(map);
  var bounds = L.latLngBounds([]);
  var rivers = L.geoJSON(null, { style: { color: "#3b8bd0", weight: 3 } }).addTo(map);
  (data.rivers || []).forEach(function (r) {
    rivers.addData({ type: "Feature", properties: { name: r.name }, geometry: r.geometry });
  });
  rivers.eachLayer(function (l) { l.bindTooltip(Safe.text(l.feature.properties.name)); });
  var tracks = L.geoJSON(null, { style: { color: "#2e7d32", weight: 2, dashArray: "4 4" } }).addTo(map);
  (data.tracks || []).forEach(function (g) { if (g) tracks.addData(g); });
  var points = L.layerGroup().addTo(map);
  (data.points || []).forEach(function (p) {
    var colour = p.escalated ? "#f0a020" : "#d62728";
    var marker = L.circleMarker([p.lat, p.lon], { radius: 6, color: colour, fillColor: colour, fillOpacity: 0.8, weight: 1 });
    var box = Safe.el("div");
    box.appendChild(Safe.el("strong", {}, p.number));
    [p.outcome, p.campaign].forEach(function (line) {
      box.appendChild(Safe.el("br"));
      box.appendChild(document.createTextNode(line));
    });
    box.appendChild(Safe.el("br"));
    box.appendChild(Safe.el("a", { href: data.point_url.replace("/0/", "/" + p.id + "/") }, "疑似点详情"));
    marker.bindPopup(box);
    marker.addTo(points);
    bounds.extend([p.lat, p.lon]);
  });
  if (bounds.isValid()) {
    map.fitBounds(bounds.pad(0.2));
  } else if (rivers.getLayers().length) {
    map.fitBounds(rivers.getBounds());
  } else {
    map.setView([40.08, 113.3], 9);
  }
})();
