/* The GIS import preview's map: the features read from the uploaded file over the city's outline
 * (json_script "preview-data" and "city-outline"). */
(function () {
  "use strict";
  Safe.guardLeaflet();
  var dataNode = document.getElementById("preview-data");
  if (!window.L || !dataNode) return;
  var map = L.map("preview-map", { attributionControl: false });
  var outlineNode = document.getElementById("city-outline");
  var outline = outlineNode ? JSON.parse(outlineNode.textContent) : null;
  var data = JSON.parse(dataNode.textContent);
  if (outline) L.geoJSON(outline, { style: { color: "#888", weight: 1, fill: false } }).addTo(map);
  var layer = L.geoJSON(data, {
    style: { color: "#d63384", weight: 2 },
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, { radius: 4, color: "#d63384" });
    },
  }).addTo(map);
  var bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] });
  else map.setView([40.08, 113.3], 8);
})();
