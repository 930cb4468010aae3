/* Base layers for the platform's maps (MAP_BASE_LAYER, docs/map.md): tile layers (Tianditu, an intranet tile
 * server) or the offline base, drawn here from the platform's own data (/maps/api/basemap/): land, the
 * county and town areas with their names, the rivers with their names, the area outside the city greyed.
 * Nothing is fetched from outside the platform for the offline base.
 *
 *   Basemap.layer(base)  ->  a Leaflet layer for one entry of config.baseLayers
 *
 * Names are text nodes (Safe.el), never HTML.
 */
(function () {
  "use strict";

  var COUNTY_FILLS = ["#f3e7d3", "#e4eedb", "#e3e9f2", "#f1e1e7", "#ece7d6", "#dfece9"];
  var TOWN_LABEL_ZOOM = 11;
  var ZONE_LABEL_ZOOM = 10; // development zones lie inside counties: named once the view is closer
  var RIVER_LABEL_ZOOM = 9;
  var COUNTY_LABEL_MIN_ZOOM = 8; // below, the whole city is a few hundred pixels: names would overlap
  var COUNTY_LABEL_MAX_ZOOM = 15;

  function tiles(base) {
    return L.layerGroup(
      base.tiles.map(function (t) {
        return L.tileLayer(t.url, {
          subdomains: t.subdomains || "abc",
          maxZoom: t.maxZoom || 18,
          attribution: t.attribution || "",
        });
      })
    );
  }

  function label(latlng, text, kind, pane) {
    var icon = L.divIcon({
      className: "basemap-label basemap-label-" + kind,
      html: Safe.el("span", {}, text),
      iconSize: null,
    });
    return L.marker(latlng, { icon: icon, pane: pane, interactive: false, keyboard: false });
  }

  var OfflineBase = L.LayerGroup.extend({
    initialize: function (url) {
      L.LayerGroup.prototype.initialize.call(this, []);
      this._url = url;
      this._labels = { county: L.layerGroup(), zone: L.layerGroup(), town: L.layerGroup(), river: L.layerGroup() };
    },

    onAdd: function (map) {
      ["basemap", 150, "basemapLabels", 398].forEach(function (value, i, list) {
        if (i % 2 === 0 && !map.getPane(value)) map.createPane(value).style.zIndex = list[i + 1];
      });
      map.getPane("basemapLabels").style.pointerEvents = "none";
      L.LayerGroup.prototype.onAdd.call(this, map);
      map.getContainer().classList.add("basemap-offline");
      map.on("zoomend", this._showLabels, this);
      if (!this._loaded) this._load();
      else this._showLabels();
    },

    onRemove: function (map) {
      map.getContainer().classList.remove("basemap-offline");
      map.off("zoomend", this._showLabels, this);
      Object.keys(this._labels).forEach(function (key) {
        map.removeLayer(this._labels[key]);
      }, this);
      L.LayerGroup.prototype.onRemove.call(this, map);
    },

    _load: function () {
      var self = this;
      this._loaded = true;
      fetch(this._url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          self._draw(data);
        })
        .catch(function () {
          self._loaded = false; // tried again the next time the base is chosen
        });
    },

    _draw: function (data) {
      var self = this;
      if (data.mask) {
        this.addLayer(
          L.geoJSON(data.mask, {
            pane: "basemap",
            interactive: false,
            style: { stroke: false, fillColor: "#d9d9d6", fillOpacity: 0.85 },
          })
        );
      }
      var index = 0;
      this.addLayer(
        L.geoJSON(data.areas, {
          pane: "basemap",
          interactive: false,
          style: function (f) {
            var level = f.properties.level;
            if (level === "city") return { color: "#8a7658", weight: 2.2, fill: false };
            if (level === "town") return { color: "#b9a88c", weight: 0.8, dashArray: "2 3", fill: false };
            if (level === "zone") return { color: "#9c8a6c", weight: 1, dashArray: "5 4", fill: false };
            index += 1;
            return {
              color: "#a89472",
              weight: 1,
              fillColor: COUNTY_FILLS[(index - 1) % COUNTY_FILLS.length],
              fillOpacity: 1,
            };
          },
          onEachFeature: function (f) {
            var level = f.properties.level;
            if (level === "city" || !f.properties.label) return;
            var kind = level === "town" || level === "zone" ? level : "county";
            var at = [f.properties.label[1], f.properties.label[0]];
            self._labels[kind].addLayer(label(at, f.properties.name, kind, "basemapLabels"));
          },
        })
      );
      this.addLayer(
        L.geoJSON(data.rivers, {
          pane: "basemap",
          interactive: false,
          style: function (f) {
            var area = /Polygon/.test(f.geometry.type);
            return {
              color: "#8fbde3",
              weight: area ? 1 : 3.5,
              lineCap: "round",
              fillColor: "#b7d6ef",
              fillOpacity: area ? 1 : 0,
            };
          },
          onEachFeature: function (f) {
            (f.properties.labels || []).forEach(function (point) {
              self._labels.river.addLayer(label([point[1], point[0]], f.properties.name, "river", "basemapLabels"));
            });
          },
        })
      );
      this._showLabels();
    },

    _showLabels: function () {
      var map = this._map;
      if (!map) return;
      var zoom = map.getZoom();
      var wanted = {
        county: zoom >= COUNTY_LABEL_MIN_ZOOM && zoom <= COUNTY_LABEL_MAX_ZOOM,
        zone: zoom >= ZONE_LABEL_ZOOM && zoom <= COUNTY_LABEL_MAX_ZOOM,
        town: zoom >= TOWN_LABEL_ZOOM,
        river: zoom >= RIVER_LABEL_ZOOM,
      };
      Object.keys(wanted).forEach(function (key) {
        var layer = this._labels[key];
        if (wanted[key] && !map.hasLayer(layer)) layer.addTo(map);
        if (!wanted[key] && map.hasLayer(layer)) map.removeLayer(layer);
      }, this);
    },
  });

  window.Basemap = {
    /* A Leaflet layer for one configured base: {name, tiles: [...], vector: url of the offline data}. */
    layer: function (base) {
      return base.vector ? new OfflineBase(base.vector) : tiles(base);
    },
  };
})();
