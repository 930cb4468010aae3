/* The location picker in the outfall and unit forms: a click on the map sets 经度/纬度 (CGCS2000); the
 * "坐标输入" text can be located through the server's conversion (/maps/api/coords/, geo/coords.py), the
 * same one the form uses when it is saved. Boundaries and rivers give the context without a base layer.
 */
(function () {
  "use strict";

  Safe.guardLeaflet();
  var configNode = document.getElementById("picker-config");
  var lonInput = document.getElementById("id_lon");
  var latInput = document.getElementById("id_lat");
  if (!configNode || !lonInput || !latInput || !window.L) return;
  var config = JSON.parse(configNode.textContent);
  var textInput = document.getElementById("id_coord_text");
  var crsInput = document.getElementById("id_coord_crs");
  var picker = document.getElementById("location-picker");
  var message = document.getElementById("picker-message");
  var locateButton = document.getElementById("picker-locate");

  // Show the picker inside the group that holds the lon/lat fields.
  var group = latInput.closest("fieldset");
  var row = group && group.querySelector(".row");
  if (row) {
    var holder = document.createElement("div");
    holder.className = "col-12";
    row.appendChild(holder);
    holder.appendChild(picker);
  }

  var map = L.map("location-picker-map", { minZoom: 3, maxZoom: 19 });
  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(map);
  // The first configured base (static/maps/basemap.js): the offline base by default, or tiles.
  (config.baseLayers || []).slice(0, 1).forEach(function (base) {
    Basemap.layer(base).addTo(map);
  });

  var boundaries = L.geoJSON(null, {
    interactive: false,
    style: function (f) {
      return { color: "#555", weight: f.properties.level === "city" ? 2.5 : 1.2, dashArray: f.properties.level === "city" ? null : "4 3", fill: false };
    },
  }).addTo(map);
  var rivers = L.geoJSON(null, {
    style: function (f) {
      return { color: "#3b8bd0", weight: 3, dashArray: f.properties.approximate ? "6 4" : null };
    },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(Safe.text(f.properties.name + (f.properties.approximate ? "（线位示意）" : "")), { sticky: true });
    },
  }).addTo(map);
  var marker = null;

  function say(text, isError) {
    message.textContent = text;
    message.className = "small mt-1 " + (isError ? "text-danger" : "text-success");
  }

  var loadedZoom = null;
  function loadContext() {
    var zoom = Math.min(map.getZoom(), 14);
    if (zoom === loadedZoom) return;
    loadedZoom = zoom;
    [
      [config.api.boundaries, boundaries],
      [config.api.rivers, rivers],
    ].forEach(function (pair) {
      fetch(pair[0] + "?zoom=" + zoom, { credentials: "same-origin" })
        .then(function (r) {
          return r.ok ? r.json() : null;
        })
        .then(function (data) {
          if (!data) return;
          pair[1].clearLayers();
          pair[1].addData(data);
        });
    });
  }

  function current() {
    var lon = parseFloat(lonInput.value);
    var lat = parseFloat(latInput.value);
    return isFinite(lon) && isFinite(lat) ? L.latLng(lat, lon) : null;
  }

  function showPoint() {
    var point = current();
    if (!point) {
      if (marker) marker.remove();
      marker = null;
      return;
    }
    if (!marker) {
      marker = L.circleMarker(point, { radius: 8, color: "#fff", weight: 2, fillColor: "#d62728", fillOpacity: 1, className: "picker-marker" }).addTo(map);
    } else {
      marker.setLatLng(point);
    }
  }

  function setLonLat(lon, lat) {
    lonInput.value = lon.toFixed(6);
    latInput.value = lat.toFixed(6);
    [lonInput, latInput].forEach(function (input) {
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    showPoint();
  }

  map.on("click", function (event) {
    setLonLat(event.latlng.lng, event.latlng.lat);
    var text = "已按点击位置填入经度 " + lonInput.value + "、纬度 " + latInput.value + "（CGCS2000）";
    if (textInput && textInput.value.trim()) {
      textInput.value = "";
      text += "，并清空了“坐标输入”（否则保存时以它为准）";
    }
    say(text + "。");
  });
  [lonInput, latInput].forEach(function (input) {
    input.addEventListener("input", showPoint);
  });

  if (locateButton) {
    locateButton.addEventListener("click", function () {
      var text = textInput ? textInput.value.trim() : "";
      if (!text) {
        say("请先在“坐标输入”中填写坐标。", true);
        return;
      }
      var params = new URLSearchParams({ text: text, crs: crsInput ? crsInput.value : "cgcs2000" });
      fetch(config.api.coords + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) {
          return r.json().then(function (data) {
            if (!r.ok) throw new Error(data.detail || "无法换算");
            return data;
          });
        })
        .then(function (data) {
          setLonLat(data.lon, data.lat);
          map.setView([data.lat, data.lon], Math.max(map.getZoom(), 14));
          say("已换算为 CGCS2000：经度 " + lonInput.value + "，纬度 " + latInput.value + "。");
        })
        .catch(function (error) {
          say(error.message, true);
        });
    });
  }

  map.on("zoomend", loadContext);
  var start = current();
  if (start) map.setView(start, 14);
  else if (config.bounds) map.fitBounds(config.bounds, { padding: [8, 8] });
  else map.setView([35, 105], 5);
  showPoint();
  loadContext();
})();
