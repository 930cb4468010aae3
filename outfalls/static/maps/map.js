/* The one-map page (一张图): Leaflet layers fed by /maps/api/ (docs/map.md).
 *
 * Outfalls are fetched for the visible box only, as points or as grid aggregates computed by the server,
 * with the same filters as the ledger (the side panel's form). Nothing is fetched from outside the
 * platform unless a base layer is configured (MAP_BASE_LAYER).
 */
(function () {
  "use strict";

  Safe.guardLeaflet(); // names and codes are shown as text in every tooltip and popup (static/js/safe.js)
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var filterForm = document.getElementById("map-filter");
  var statusBox = document.getElementById("map-status");
  var ledgerLink = document.getElementById("map-ledger-link");
  var resetLink = document.getElementById("map-filter-reset");
  var FULL_DETAIL_ZOOM = 14;

  var map = L.map("map", { minZoom: 3, maxZoom: 19, zoomSnap: 0.5, zoomDelta: 1 });
  map.attributionControl.setPrefix(false); // no link to leafletjs.com: no external address in the page
  L.control.scale({ imperial: false }).addTo(map);

  // Draw order, bottom to top.
  [
    ["boundaries", 405],
    ["protected", 410],
    ["rivers", 420],
    ["chains", 430],
    ["units", 440],
    ["sections", 450],
    ["outfalls", 460],
    ["clusters", 470],
  ].forEach(function (pane) {
    map.createPane(pane[0]).style.zIndex = pane[1];
  });

  // Helpers ----------------------------------------------------------------------------------------
  var el = Safe.el;

  function popup(title, rows, link) {
    var box = el("div", { class: "map-popup" });
    box.appendChild(el("div", { class: "title" }, title));
    var dl = el("dl");
    rows.forEach(function (row) {
      if (row[1] === undefined || row[1] === null || row[1] === "") return;
      dl.appendChild(el("dt", {}, row[0]));
      dl.appendChild(el("dd", {}, row[1]));
    });
    box.appendChild(dl);
    if (link) box.appendChild(link);
    return box;
  }

  function formatCount(n) {
    return n >= 10000 ? (n / 10000).toFixed(n >= 100000 ? 0 : 1) + "万" : String(n);
  }

  function bboxParam() {
    var b = map.getBounds();
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map(function (v) {
        return v.toFixed(6);
      })
      .join(",");
  }

  function filterParams() {
    var params = new URLSearchParams(new FormData(filterForm));
    Array.from(params.keys()).forEach(function (key) {
      if (!params.get(key)) params.delete(key);
    });
    return params;
  }

  var inflight = {};
  function fetchJSON(key, url) {
    if (inflight[key]) inflight[key].abort();
    var controller = new AbortController();
    inflight[key] = controller;
    return fetch(url, {
      credentials: "same-origin",
      signal: controller.signal,
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) throw new Error(data.detail || "加载失败（HTTP " + response.status + "）");
          return data;
        });
      })
      .finally(function () {
        if (inflight[key] === controller) delete inflight[key];
      });
  }

  // Status line: the outfall count plus one note per layer that has something to say.
  var notes = {};
  var outfallStatus = "正在加载…";
  function renderStatus(isError) {
    var parts = [outfallStatus];
    Object.keys(notes).forEach(function (key) {
      if (notes[key]) parts.push(notes[key]);
    });
    statusBox.textContent = parts.join("；");
    statusBox.classList.toggle("text-danger", !!isError);
  }

  function failed(key) {
    return function (error) {
      if (error && error.name === "AbortError") return;
      if (key === "outfalls") {
        outfallStatus = "排污口加载失败：" + error.message;
        statusBox.dataset.mode = "error";
      } else {
        notes[key] = layerNames[key] + "加载失败：" + error.message;
      }
      renderStatus(true);
    };
  }

  // Outfalls: points or aggregates ----------------------------------------------------------------
  var outfallLayer = L.layerGroup();

  function outfallMarker(p) {
    var type = config.types[p.type] || config.types.UNDETERMINED;
    var status = config.statuses[p.status] || {};
    var marker = L.circleMarker([p.lat, p.lon], {
      pane: "outfalls",
      radius: status.radius || 7,
      weight: status.weight || 2,
      color: status.stroke === "type" ? type.colour : status.stroke || "#ffffff",
      dashArray: status.dashArray || null,
      fillColor: type.colour,
      fillOpacity: status.fillOpacity === undefined ? 0.9 : status.fillOpacity,
      className: "outfall-marker",
    });
    marker.on("add", function () {
      var path = marker.getElement();
      if (path) {
        path.setAttribute("data-outfall-id", p.id);
        path.setAttribute("data-testid", "outfall-marker");
      }
    });
    marker.bindTooltip(Safe.text(p.name || p.code), { direction: "top", offset: [0, -6] });
    marker.bindPopup(function () {
      var link = el(
        "a",
        { class: "detail", href: config.outfallUrl.replace("{id}", p.id), "data-testid": "popup-detail-link" },
        "查看一口一档 »"
      );
      return popup(
        p.name || p.code,
        [
          ["编码", p.code],
          ["类型", (p.type === "UNDETERMINED" ? "" : p.type + " ") + type.label],
          ["状态", status.label || p.status],
        ],
        link
      );
    });
    return marker;
  }

  function clusterMarker(c) {
    var stops = [];
    var done = 0;
    Object.keys(config.types).forEach(function (code) {
      var n = c.types[code] || 0;
      if (!n) return;
      var from = (done / c.count) * 100;
      done += n;
      stops.push(config.types[code].colour + " " + from.toFixed(2) + "% " + ((done / c.count) * 100).toFixed(2) + "%");
    });
    var size = 24 + Math.min(30, Math.round(Math.log(c.count) * 4));
    var title = Object.keys(config.types)
      .filter(function (code) {
        return c.types[code];
      })
      .map(function (code) {
        return config.types[code].short + " " + c.types[code];
      })
      .join("，");
    var ring = el("div", { class: "ring", "data-testid": "outfall-cluster" });
    ring.style.background = "conic-gradient(" + stops.join(", ") + ")";
    ring.appendChild(el("span", {}, formatCount(c.count)));
    var icon = L.divIcon({ className: "outfall-cluster", html: ring, iconSize: [size, size] });
    var marker = L.marker([c.lat, c.lon], {
      icon: icon,
      pane: "clusters",
      title: c.count + " 个排污口：" + title + "（点击放大）",
      riseOnHover: true,
    });
    marker.on("click", function () {
      map.setView([c.lat, c.lon], Math.min(map.getZoom() + 2, map.getMaxZoom()));
    });
    return marker;
  }

  function loadOutfalls() {
    var params = filterParams();
    params.set("bbox", bboxParam());
    params.set("zoom", map.getZoom());
    outfallStatus = "正在加载…";
    statusBox.dataset.mode = "loading";
    renderStatus();
    return fetchJSON("outfalls", config.api.outfalls + "?" + params.toString())
      .then(function (data) {
        outfallLayer.clearLayers();
        if (data.mode === "points") {
          data.points.forEach(function (p) {
            outfallLayer.addLayer(outfallMarker(p));
          });
          outfallStatus = "视野内 " + data.total + " 个入河排污口";
        } else {
          data.clusters.forEach(function (c) {
            outfallLayer.addLayer(clusterMarker(c));
          });
          outfallStatus = "视野内 " + data.total + " 个入河排污口（按网格聚合，放大查看单个排口）";
        }
        statusBox.dataset.mode = data.mode;
        statusBox.dataset.total = data.total;
        renderStatus();
      })
      .catch(failed("outfalls"));
  }

  // Reference layers ------------------------------------------------------------------------------
  var boundaryLayer = L.geoJSON(null, {
    pane: "boundaries",
    interactive: false,
    style: function (f) {
      var city = f.properties.level === "city";
      return {
        color: city ? "#222" : "#555",
        weight: city ? 2.5 : 1.5,
        dashArray: city ? null : "4 3",
        fill: false,
      };
    },
    onEachFeature: function (f, layer) {
      if (f.properties.level !== "city") {
        layer.bindTooltip(Safe.text(f.properties.name + (f.properties.approximate ? "（示意）" : "")), {
          permanent: true,
          direction: "center",
          className: "boundary-label",
        });
      }
    },
  });

  var riverLayer = L.geoJSON(null, {
    pane: "rivers",
    style: function (f) {
      return {
        color: "#3b8bd0",
        weight: 3,
        opacity: 0.9,
        dashArray: f.properties.approximate ? "6 4" : null,
        fillColor: "#9ecae1",
        fillOpacity: 0.5,
      };
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindTooltip(Safe.text(p.name + (p.approximate ? "（线位示意）" : "")), { sticky: true });
      layer.bindPopup(function () {
        return popup(p.name, [
          ["编码", p.code],
          ["流域", p.basin],
          ["水质目标", p.target_class],
          ["线位", p.approximate ? "示意，仅供参考" : "按数据来源"],
        ]);
      });
    },
  });

  var protectedLayer = L.geoJSON(null, {
    pane: "protected",
    style: { color: "#2c7a2c", weight: 1.5, fillColor: "#2ca02c", fillOpacity: 0.15 },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindPopup(function () {
        return popup(p.name, [
          ["类型", p.kind_label],
          ["范围", p.approximate ? "示意，仅供参考" : ""],
        ]);
      });
    },
  });

  var sectionLayer = L.geoJSON(null, {
    pointToLayer: function (f, latlng) {
      return L.marker(latlng, {
        pane: "sections",
        icon: L.divIcon({
          className: "section-marker" + (f.properties.approximate ? " approx" : ""),
          html: "▲",
          iconSize: [16, 16],
        }),
        title: f.properties.name,
      });
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindPopup(function () {
        return popup(p.name + "断面", [
          ["级别", p.level_label],
          ["所在水体", p.water_body],
          ["水质目标", p.target_class],
          ["位置", p.approximate ? "示意，仅供参考" : ""],
        ]);
      });
    },
  });

  var unitLayer = L.geoJSON(null, {
    pointToLayer: function (f, latlng) {
      return L.marker(latlng, {
        pane: "units",
        icon: L.divIcon({ className: "unit-marker", iconSize: [10, 10] }),
        title: f.properties.name,
      });
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindPopup(function () {
        var link = el("a", { class: "detail", href: config.unitUrl.replace("{id}", p.id) }, "查看排污单位 »");
        return popup(p.name, [
          ["统一社会信用代码", p.credit_code],
          ["单位类型", p.kind_label],
        ], link);
      });
    },
  });

  var CHAIN_STYLES = {
    owner: { color: "#6a3d9a", dashArray: null },
    responsible: { color: "#6a3d9a", dashArray: null },
    shares: { color: "#6a3d9a", dashArray: "6 4" },
    borrows: { color: "#d62728", dashArray: "2 4" },
  };
  var chainLayer = L.geoJSON(null, {
    pane: "chains",
    style: function (f) {
      var p = f.properties;
      if (p.segment === "river") return { color: "#1f78b4", weight: 2, dashArray: "2 3" };
      var style = CHAIN_STYLES[p.role] || CHAIN_STYLES.owner;
      return { color: style.color, weight: 2, dashArray: style.dashArray };
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      var text =
        p.segment === "river"
          ? "排口 → " + p.water_body + "（约 " + p.distance_m + " 米）"
          : p.unit + " → 排口（" + p.role_label + "）";
      layer.bindTooltip(Safe.text(text), { sticky: true });
    },
  });

  // Layers that depend only on the zoom are fetched again only when the simplification changes.
  function zoomKey() {
    return Math.min(map.getZoom(), FULL_DETAIL_ZOOM);
  }

  function geojsonLoader(key, layer, urlFor) {
    var loadedFor = null;
    return function (force) {
      var url = urlFor();
      if (!force && url === loadedFor) return Promise.resolve();
      return fetchJSON(key, url)
        .then(function (data) {
          layer.clearLayers();
          layer.addData(data);
          loadedFor = url;
          notes[key] = data.truncated && data.hint ? data.hint : "";
          renderStatus();
        })
        .catch(failed(key));
    };
  }

  function withFilters(base, extra) {
    var params = extra === "filters" ? filterParams() : new URLSearchParams();
    params.set("bbox", bboxParam());
    params.set("zoom", map.getZoom());
    return base + "?" + params.toString();
  }

  var sewerLayer = L.geoJSON(null, {
    pane: "protected",
    style: { color: "#6f42c1", weight: 1.5, dashArray: "4 3", fillColor: "#6f42c1", fillOpacity: 0.08 },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindPopup(function () {
        return popup(p.name, [
          ["图层", "污水管网覆盖范围"],
          ["范围", p.approximate ? "示意，仅供参考" : p.source],
        ]);
      });
    },
  });

  var layerNames = {
    outfalls: "入河排污口",
    rivers: "河流",
    sections: "考核断面",
    protected: "特殊保护区域",
    sewer: "污水管网覆盖范围",
    boundaries: "行政区划边界",
    units: "排污单位",
    chains: "排污链条",
  };
  var overlays = {
    outfalls: { layer: outfallLayer, on: true, load: loadOutfalls },
    rivers: {
      layer: riverLayer,
      on: true,
      load: geojsonLoader("rivers", riverLayer, function () {
        return config.api.rivers + "?zoom=" + zoomKey();
      }),
    },
    sections: {
      layer: sectionLayer,
      on: true,
      load: geojsonLoader("sections", sectionLayer, function () {
        return config.api.sections + "?bbox=" + bboxParam();
      }),
    },
    protected: {
      layer: protectedLayer,
      on: true,
      load: geojsonLoader("protected", protectedLayer, function () {
        return withFilters(config.api.protected_areas);
      }),
    },
    sewer: {
      layer: sewerLayer,
      on: false,
      load: geojsonLoader("sewer", sewerLayer, function () {
        return withFilters(config.api.sewer_coverage);
      }),
    },
    boundaries: {
      layer: boundaryLayer,
      on: true,
      load: geojsonLoader("boundaries", boundaryLayer, function () {
        return config.api.boundaries + "?zoom=" + zoomKey();
      }),
    },
    units: {
      layer: unitLayer,
      on: false,
      load: geojsonLoader("units", unitLayer, function () {
        return config.api.units + "?bbox=" + bboxParam();
      }),
    },
    chains: {
      layer: chainLayer,
      on: false,
      load: geojsonLoader("chains", chainLayer, function () {
        return withFilters(config.api.chains, "filters");
      }),
    },
  };

  var control = {};
  Object.keys(overlays).forEach(function (key) {
    var overlay = overlays[key];
    overlay.layer.overlayKey = key;
    control[layerNames[key]] = overlay.layer;
    if (overlay.on) overlay.layer.addTo(map);
  });

  // Base layers (static/maps/basemap.js): the offline base drawn from the platform's data by default,
  // tiles only when configured; the first one is shown.
  var baseLayers = {};
  (config.baseLayers || []).forEach(function (base, index) {
    var layer = Basemap.layer(base);
    baseLayers[base.name] = layer;
    if (index === 0) layer.addTo(map);
  });
  // Open beside a wide map; on a phone collapsed to its button, which opens it (map.css, map_panel.js).
  var narrow = window.matchMedia("(max-width: 768px)").matches;
  L.control.layers(baseLayers, control, { collapsed: narrow, position: "topright" }).addTo(map);

  function refresh(keys, force) {
    keys.forEach(function (key) {
      var overlay = overlays[key];
      if (map.hasLayer(overlay.layer)) overlay.load(force);
      else if (inflight[key]) inflight[key].abort();
    });
  }

  function refreshAll() {
    refresh(Object.keys(overlays));
  }

  map.on("overlayadd", function (event) {
    if (event.layer.overlayKey) refresh([event.layer.overlayKey], true);
  });
  map.on("overlayremove", function (event) {
    var key = event.layer.overlayKey;
    if (key && notes[key]) {
      notes[key] = "";
      renderStatus();
    }
  });

  // Views and filters in the address bar -----------------------------------------------------------
  function writeAddress() {
    var center = map.getCenter();
    var query = filterParams().toString();
    var hash = "#" + map.getZoom() + "/" + center.lat.toFixed(5) + "/" + center.lng.toFixed(5);
    history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + hash);
    ledgerLink.href = config.ledgerUrl + (query ? "?" + query : "");
  }

  function readHash() {
    var parts = location.hash.replace(/^#/, "").split("/").map(Number);
    if (parts.length !== 3 || parts.some(isNaN)) return null;
    return { zoom: parts[0], lat: parts[1], lon: parts[2] };
  }

  var timer = null;
  map.on("moveend", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      writeAddress();
      refreshAll();
    }, 150);
  });

  function applyFilters() {
    writeAddress();
    refresh(["outfalls", "chains"], true);
  }

  filterForm.addEventListener("submit", function (event) {
    event.preventDefault();
    applyFilters();
  });
  // (The town list narrows as a county is chosen in the page itself: static/js/narrow.js.)
  filterForm.addEventListener("change", function (event) {
    if (event.target.tagName === "SELECT") applyFilters();
  });
  resetLink.addEventListener("click", function (event) {
    event.preventDefault();
    location.href = location.pathname + location.hash;
  });

  var start = readHash();
  if (start) map.setView([start.lat, start.lon], start.zoom);
  else if (config.bounds) map.fitBounds(config.bounds, { padding: [10, 10] });
  else map.setView([35, 105], 5);
  // Setting the view fires moveend, which loads the layers.

  window.mapPage = { map: map, overlays: overlays, refresh: refreshAll };
})();
