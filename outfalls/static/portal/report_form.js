/* The report form on a phone: the place from GPS or a tap on the map (the offline base, nothing from outside),
 * then "is it about this outfall?" for the disclosed outfalls nearby (/public/report/nearby.json). Names are
 * text nodes (Safe.el). Without script the form still works with an address and a county. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;
  var field = function (name) {
    return form.querySelector('[name="' + name + '"]');
  };
  var text = document.getElementById("location-text");
  var nearbyBox = document.getElementById("nearby");
  var map = null;
  var marker = null;

  function showNearby(outfalls) {
    nearbyBox.textContent = "";
    if (!outfalls.length) {
      field("outfall_code").value = "";
      return;
    }
    var set = Safe.el("fieldset", {});
    set.appendChild(Safe.el("legend", {}, "附近有已公开的排污口，您举报的是其中之一吗？"));
    var current = field("outfall_code").value;
    outfalls.concat([{ code: "", name: "都不是 / 不确定" }]).forEach(function (o, i) {
      var label = Safe.el("label", { class: "choice" });
      var input = Safe.el("input", { type: "radio", name: "nearby_outfall", value: o.code, "data-testid": "nearby-" + i });
      if (o.code === current) input.checked = true;
      input.addEventListener("change", function () {
        field("outfall_code").value = input.value;
      });
      label.appendChild(input);
      var words = o.code ? o.name + "（" + o.type + "，" + o.water_body + "，约 " + o.distance_m + " 米）" : o.name;
      label.appendChild(Safe.el("span", {}, words));
      set.appendChild(label);
    });
    nearbyBox.appendChild(set);
  }

  function place(lon, lat, source, accuracy) {
    field("lon").value = lon.toFixed(6);
    field("lat").value = lat.toFixed(6);
    field("location_source").value = source;
    field("accuracy_m").value = accuracy ? String(Math.round(accuracy)) : "";
    text.textContent =
      "已选位置：东经 " + lon.toFixed(5) + "，北纬 " + lat.toFixed(5) + (accuracy ? "（精度约 " + Math.round(accuracy) + " 米）" : "");
    if (map) {
      if (marker) marker.setLatLng([lat, lon]);
      else marker = L.marker([lat, lon], { keyboard: false }).addTo(map);
    }
    fetch(form.dataset.nearby + "?lon=" + lon.toFixed(6) + "&lat=" + lat.toFixed(6), { headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.ok ? r.json() : { outfalls: [] };
      })
      .then(function (data) {
        showNearby(data.outfalls);
      });
  }

  var box = document.getElementById("report-map");
  if (box && window.L) {
    Safe.guardLeaflet();
    map = L.map(box, { attributionControl: false }).setView([40.08, 113.3], 9);
    Basemap.layer({ tiles: [], vector: form.dataset.basemap }).addTo(map);
    map.on("click", function (event) {
      place(event.latlng.lng, event.latlng.lat, "map", null);
    });
    if (field("lon").value && field("lat").value) {
      var lon = parseFloat(field("lon").value);
      var lat = parseFloat(field("lat").value);
      map.setView([lat, lon], 15);
      place(lon, lat, field("location_source").value || "map", null);
    }
  }

  var gps = document.getElementById("use-gps");
  if (gps) {
    gps.addEventListener("click", function () {
      if (!navigator.geolocation) {
        text.textContent = "此浏览器不能定位，请在地图上点选或填写地址。";
        return;
      }
      text.textContent = "正在定位……";
      navigator.geolocation.getCurrentPosition(
        function (position) {
          var c = position.coords;
          if (map) map.setView([c.latitude, c.longitude], 16);
          place(c.longitude, c.latitude, "gps", c.accuracy);
        },
        function () {
          text.textContent = "未能定位（可能未允许定位），请在地图上点选或填写地址。";
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }
})();
