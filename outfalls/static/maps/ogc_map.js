/* The small map on the OGC API HTML pages: the features of an items page (json_script "ogc-features", each
 * with its name as a tooltip, shown as text) or the one feature of an item page ("ogc-feature"). */
(function () {
  "use strict";
  Safe.guardLeaflet();
  var many = document.getElementById("ogc-features");
  var one = document.getElementById("ogc-feature");
  if (!window.L || !(many || one)) return;
  var map = L.map("ogc-map", { attributionControl: false });
  var data = many
    ? { type: "FeatureCollection", features: JSON.parse(many.textContent) }
    : JSON.parse(one.textContent);
  var layer = L.geoJSON(data, {
    style: { color: "#0b4f6c", weight: 2 },
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, { radius: many ? 5 : 6, color: "#0b4f6c" });
    },
    onEachFeature: function (f, l) {
      if (many && f.properties && f.properties.name) l.bindTooltip(Safe.text(f.properties.name));
    },
  }).addTo(map);
  var bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: many ? [10, 10] : [20, 20], maxZoom: 14 });
  else map.setView([40.08, 113.3], 8);
})();
