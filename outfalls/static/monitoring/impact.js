/* The downstream-impact map: the section, the upstream stretches searched, and the outfalls ranked by load
 * (circle area proportional to the load). A click opens the outfall's file. Text goes through Safe (no HTML). */
(function () {
  "use strict";
  Safe.guardLeaflet();
  var node = document.getElementById("impact-data");
  if (!node || !window.L) return;
  var data = JSON.parse(node.textContent);
  if (!data) return;
  var map = L.map("impact-map", { minZoom: 3, maxZoom: 19 });
  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(map);
  var bounds = L.latLngBounds([]);
  var rivers = L.geoJSON(null, { style: { color: "#3b8bd0", weight: 4, opacity: 0.7 } }).addTo(map);
  data.stretches.forEach(function (s) {
    rivers.addData({ type: "Feature", properties: { name: s.name }, geometry: s.geometry });
  });
  rivers.eachLayer(function (l) { l.bindTooltip(Safe.text(l.feature.properties.name)); bounds.extend(l.getBounds()); });
  var largest = 0;
  data.outfalls.forEach(function (o) { if (o.kg && o.kg > largest) largest = o.kg; });
  var layer = L.layerGroup().addTo(map);
  data.outfalls.forEach(function (o) {
    var radius = o.kg && largest ? 4 + 16 * Math.sqrt(o.kg / largest) : 4;
    var colour = o.estimated ? "#f0a020" : "#d62728";
    var marker = L.circleMarker([o.lat, o.lon], { radius: radius, color: colour, fillColor: colour, fillOpacity: 0.6, weight: 1 });
    var box = Safe.el("div");
    box.appendChild(Safe.el("strong", {}, "第" + o.rank + "位 " + o.name));
    box.appendChild(Safe.el("br"));
    box.appendChild(document.createTextNode((o.kg === null ? "无负荷数据" : o.kg.toFixed(2) + " kg/d" + (o.estimated ? "（估算）" : "")) + "，距断面 " + o.distance + " 公里"));
    box.appendChild(Safe.el("br"));
    box.appendChild(Safe.el("a", { href: data.outfall_url.replace("/0/", "/" + o.id + "/") }, "一口一档"));
    marker.bindPopup(box);
    marker.bindTooltip(Safe.text(o.rank + ". " + o.name));
    marker.on("click", function () { marker.openPopup(); });
    marker.addTo(layer);
    bounds.extend([o.lat, o.lon]);
  });
  var section = data.section;
  var icon = L.divIcon({ className: "impact-section", html: "", iconSize: [14, 14] });
  L.marker([section.lat, section.lon], { icon: icon, title: section.name }).bindTooltip(Safe.text(section.name), { permanent: true, direction: "right" }).addTo(map);
  bounds.extend([section.lat, section.lon]);
  if (bounds.isValid()) {
    map.fitBounds(bounds.pad(0.15));
  } else {
    map.setView([section.lat, section.lon], 11);
  }
  document.body.dataset.mapReady = "true";
})();
