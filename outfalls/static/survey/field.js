/* 现场核查 on a phone (docs/survey-field.md).
 *
 * A record is never sent straight from the form: it is first written to IndexedDB (photos as Blobs) with a
 * UUID made here, then the queue is sent whenever the network is there (now, on the "online" event, and on a
 * timer). The server answers 201 for a new record and 200 with the same ids for a UUID it already has, so
 * sending twice never makes two records. A service worker (/survey/sw.js) keeps this page and its assets for
 * reopening without signal.
 */
(function () {
  "use strict";

  Safe.guardLeaflet();
  var config = JSON.parse(document.getElementById("field-config").textContent);
  var DB_NAME = "outfalls-field";
  var STORE = "queue";
  var RETRY_MS = 15000;
  var $ = function (id) {
    return document.getElementById(id);
  };
  var form = $("field-form");
  // queued: {point id: "pending" | "failed"} for the points with a record still on this phone (待上传).
  var state = { point: null, position: null, sending: false, sent: 0, lastSent: null, queued: {} };

  // ----------------------------------------------------------------------------------------------------
  // Small helpers
  // ----------------------------------------------------------------------------------------------------
  function uuid4() {
    if (window.crypto && crypto.randomUUID && window.isSecureContext) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) {
      return (x + 0x100).toString(16).slice(1);
    }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function distance(lon1, lat1, lon2, lat2) {
    var r = Math.PI / 180;
    var a = Math.pow(Math.sin(((lat2 - lat1) * r) / 2), 2) +
      Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.pow(Math.sin(((lon2 - lon1) * r) / 2), 2);
    return 2 * 6371000 * Math.asin(Math.min(1, Math.sqrt(a)));
  }
  function metres(m) {
    return m >= 1000 ? (m / 1000).toFixed(1) + " 公里" : Math.round(m) + " 米";
  }
  function say(text, kind) {
    var box = $("field-message");
    box.textContent = text;
    box.className = "alert small py-2 alert-" + (kind || "info");
  }
  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function option(select, value, label) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    select.appendChild(o);
  }

  // ----------------------------------------------------------------------------------------------------
  // IndexedDB queue
  // ----------------------------------------------------------------------------------------------------
  var dbPromise = new Promise(function (resolve, reject) {
    var request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = function () {
      request.result.createObjectStore(STORE, { keyPath: "client_uuid" });
    };
    request.onsuccess = function () {
      resolve(request.result);
    };
    request.onerror = function () {
      reject(request.error);
    };
  });
  function tx(mode, work) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var result = work(t.objectStore(STORE));
        t.oncomplete = function () {
          resolve(result && "result" in result ? result.result : undefined);
        };
        t.onerror = function () {
          reject(t.error);
        };
        t.onabort = function () {
          reject(t.error || new Error("事务中止"));
        };
      });
    });
  }
  function queued() {
    return tx("readonly", function (s) {
      return s.getAll();
    }).then(function (all) {
      return (all || []).filter(function (item) {
        return item.campaign === config.campaign.id;
      });
    });
  }
  function putQueued(item) {
    return tx("readwrite", function (s) {
      s.put(item);
    });
  }
  function removeQueued(id) {
    return tx("readwrite", function (s) {
      s.delete(id);
    });
  }

  function showQueue() {
    return queued().then(function (items) {
      var marks = {};
      items.forEach(function (item) {
        var point = item.kind !== "track" && item.record && item.record.point;
        if (point && marks[point] !== "pending") marks[point] = item.status === "failed" ? "failed" : "pending";
      });
      if (JSON.stringify(marks) !== JSON.stringify(state.queued)) {
        state.queued = marks;
        renderList();
      }
      var count = $("queue-count");
      count.dataset.count = String(items.length);
      count.textContent = "待上传 " + items.length + " 条";
      var list = $("queue-list");
      list.innerHTML = "";
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.className = "list-group-item" + (item.status === "failed" ? " list-group-item-danger" : "");
        li.dataset.uuid = item.client_uuid;
        li.textContent = item.label + " · " + item.savedAt.replace("T", " ").slice(0, 19) + " · 照片 " +
          item.photos.length + " 张" + (item.status === "failed" ? " · 未通过：" + item.error : " · 等待网络");
        if (item.status === "failed") {
          var drop = document.createElement("button");
          drop.type = "button";
          drop.className = "btn btn-sm btn-outline-danger ms-2 py-0";
          drop.textContent = "删除";
          drop.onclick = function () {
            if (confirm("删除这条未通过的记录？")) removeQueued(item.client_uuid).then(showQueue);
          };
          li.appendChild(drop);
        }
        list.appendChild(li);
      });
      return items.length;
    });
  }

  // ----------------------------------------------------------------------------------------------------
  // Sending
  // ----------------------------------------------------------------------------------------------------
  function formData(item) {
    var data = new FormData();
    data.append("record", JSON.stringify(item.record));
    item.photos.forEach(function (photo) {
      data.append(photo.kind, photo.blob, photo.name);
    });
    return data;
  }
  function post(item) {
    return fetch(item.kind === "track" ? config.trackSubmit : config.submit, {
      method: "POST",
      body: formData(item),
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest" },
      redirect: "manual",
    });
  }
  function errorText(body) {
    var errors = (body && body.errors) || {};
    return Object.keys(errors).map(function (k) {
      return (k === "__all__" ? "" : k + "：") + [].concat(errors[k]).join("；");
    }).join("；") || "服务器拒绝了该记录";
  }
  function sendOne(item) {
    return post(item).then(function (response) {
      if (response.status === 200 || response.status === 201) {
        return response.json().then(function (body) {
          state.lastSent = item;
          state.sent += 1;
          $("sent-count").dataset.count = String(state.sent);
          $("sent-count").textContent = "本次已上传 " + state.sent + " 条";
          if (item.kind !== "track") markDone(item.record.point, body);
          return removeQueued(item.client_uuid).then(function () {
            say("已上传：" + item.label + (body.created ? "" : "（服务器已有该记录）"), "success");
          });
        });
      }
      if (response.status === 400 || response.status === 403 || response.status === 404) {
        return response.json().catch(function () {
          return {};
        }).then(function (body) {
          item.status = "failed";
          item.error = response.status === 404 ? "排查任务不存在或无权访问" : errorText(body);
          return putQueued(item).then(function () {
            say("记录未通过：" + item.error, "danger");
          });
        });
      }
      // Logged out (redirect to the login page), server errors: keep it, try again later.
      throw new Error("HTTP " + response.status);
    });
  }
  function flush() {
    if (state.sending || !navigator.onLine) return showQueue();
    state.sending = true;
    return queued().then(function (items) {
      var pending = items.filter(function (i) {
        return i.status !== "failed";
      });
      return pending.reduce(function (chain, item) {
        return chain.then(function () {
          return sendOne(item);
        });
      }, Promise.resolve());
    }).catch(function () {
      say("网络不可用或未登录，记录已保存在手机上，恢复后自动上传。", "warning");
    }).then(function () {
      state.sending = false;
      return showQueue();
    });
  }

  // ----------------------------------------------------------------------------------------------------
  // Points list, map and position
  // ----------------------------------------------------------------------------------------------------
  var map = L.map("field-map", { minZoom: 3, maxZoom: 19, zoomControl: true });
  map.attributionControl.setPrefix(false);
  // The first configured base (static/maps/basemap.js): the offline base by default, or tiles.
  (config.baseLayers || []).slice(0, 1).forEach(function (base) {
    Basemap.layer(base).addTo(map);
  });
  var rivers = L.geoJSON(null, { style: { color: "#3b8bd0", weight: 3 } }).addTo(map);
  fetch(config.rivers + "?zoom=12", { credentials: "same-origin" }).then(function (r) {
    return r.ok ? r.json() : null;
  }).then(function (d) {
    if (d) rivers.addData(d);
  }).catch(function () {});
  var pointLayer = L.layerGroup().addTo(map);
  var marker = null;
  config.points.forEach(function (p) {
    L.circleMarker([p.lat, p.lon], { radius: 6, weight: 1, color: "#333", fillOpacity: 0.9, fillColor: config.colours[p.outcome] })
      .bindTooltip(Safe.text(p.number)).addTo(pointLayer);
  });
  if (config.points.length) {
    map.fitBounds(L.latLngBounds(config.points.map(function (p) { return [p.lat, p.lon]; })).pad(0.2), { maxZoom: 16 });
  } else {
    map.setView([40.08, 113.3], 10);
  }

  function setPosition(lon, lat, source, accuracy) {
    state.position = { lon: lon, lat: lat };
    $("lon").value = lon.toFixed(6);
    $("lat").value = lat.toFixed(6);
    $("position_source").value = source;
    $("accuracy_m").value = accuracy == null ? "" : String(Math.round(accuracy));
    $("position-source-label").textContent = { gps: "手机定位", map: "地图选点", typed: "手工输入" }[source];
    $("accuracy").textContent = accuracy == null ? "" : "定位精度约 " + Math.round(accuracy) + " 米";
    if (marker) marker.setLatLng([lat, lon]);
    else marker = L.marker([lat, lon]).addTo(map);
    if (source !== "map") map.setView([lat, lon], Math.max(map.getZoom(), 15));
    showDuplicates();
  }
  function locate(then) {
    if (!navigator.geolocation) {
      say("此浏览器不支持定位，请在地图上点选或手工输入坐标。", "warning");
      return;
    }
    say("正在定位…", "info");
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        say("已定位，精度约 " + Math.round(pos.coords.accuracy) + " 米。", "success");
        then(pos.coords.longitude, pos.coords.latitude, pos.coords.accuracy);
      },
      function (error) {
        say("定位失败（" + error.message + "），请在地图上点选或手工输入坐标。", "warning");
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 }
    );
  }
  var here = null;
  function renderList() {
    var list = $("point-list");
    list.innerHTML = "";
    var rows = config.points.slice();
    rows.forEach(function (p) {
      p.distance = here ? distance(here.lon, here.lat, p.lon, p.lat) : null;
    });
    rows.sort(function (a, b) {
      return here ? a.distance - b.distance : a.number < b.number ? -1 : 1;
    });
    rows.forEach(function (p) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "list-group-item list-group-item-action d-flex align-items-center";
      button.dataset.pointId = String(p.id);
      button.dataset.testid = "point-item";
      var dot = document.createElement("span");
      dot.className = "outcome-dot";
      dot.style.background = config.colours[p.outcome];
      button.appendChild(dot);
      var text = document.createElement("span");
      text.className = "me-auto";
      text.textContent = p.number + (p.outcome === "escalated" ? "（待专家研判）" : "") + (p.description ? " · " + p.description : "");
      button.appendChild(text);
      var waiting = state.queued[p.id];
      if (waiting) {
        // A record of this point is still on the phone: 待上传 until the server has it.
        var mark = document.createElement("span");
        mark.className = "badge me-1 " + (waiting === "failed" ? "text-bg-danger" : "text-bg-warning");
        mark.dataset.testid = "point-queued";
        mark.textContent = waiting === "failed" ? "未通过" : "待上传";
        button.appendChild(mark);
        button.dataset.queued = waiting;
      }
      if (p.distance != null) {
        var d = document.createElement("span");
        d.className = "badge text-bg-light";
        d.textContent = metres(p.distance);
        button.appendChild(d);
      }
      button.onclick = function () {
        openForm(p);
      };
      list.appendChild(button);
    });
    if (!rows.length) list.innerHTML = '<div class="list-group-item text-muted">本任务已没有待核查的疑似点。</div>';
  }
  function markDone(pointId, body) {
    if (!pointId) return;
    config.points = config.points.filter(function (p) {
      return p.id !== pointId || body.outcome === "escalated" || body.outcome === "pending";
    });
    renderList();
  }

  // ----------------------------------------------------------------------------------------------------
  // The form
  // ----------------------------------------------------------------------------------------------------
  config.waterBodies.forEach(function (w) {
    option($("water_body"), w.id, w.name);
  });
  option($("town"), "", "（不填）");
  config.towns.forEach(function (t) {
    option($("town"), t.id, t.name);
  });
  function fillVillages() {
    var town = $("town").value;
    $("village").innerHTML = "";
    option($("village"), "", "（不填）");
    config.villages.forEach(function (v) {
      if (String(v.parent_id) === town) option($("village"), v.id, v.name);
    });
  }
  $("town").onchange = fillVillages;
  fillVillages();

  function openForm(point) {
    form.reset();
    state.point = point;
    state.position = null;
    if (marker) {
      map.removeLayer(marker);
      marker = null;
    }
    $("form-title").textContent = point ? "核查疑似点 " + point.number : "现场新发现";
    $("accuracy").textContent = "";
    $("position-source-label").textContent = "—";
    $("form-errors").classList.add("d-none");
    $("photo-summary").textContent = "";
    $("pick-section").classList.add("d-none");
    form.classList.remove("d-none");
    if (point && point.water_body) $("water_body").value = String(point.water_body);
    fillVillages();
    toggleOutcome();
    setTimeout(function () {
      map.invalidateSize();
      if (point) map.setView([point.lat, point.lon], 16);
    }, 50);
    if (here) setPosition(here.lon, here.lat, "gps", here.accuracy);
    window.scrollTo(0, 0);
  }
  function closeForm() {
    form.classList.add("d-none");
    $("pick-section").classList.remove("d-none");
    state.point = null;
  }
  function toggleOutcome() {
    var outcome = (form.querySelector("input[name=outcome]:checked") || {}).value;
    $("confirmed-box").classList.toggle("d-none", outcome !== "confirmed");
    $("duplicate-box").classList.toggle("d-none", outcome !== "duplicate");
    showDuplicates();
  }
  function showDuplicates() {
    var box = $("duplicate-list");
    box.innerHTML = "";
    var at = state.position || (state.point ? { lon: state.point.lon, lat: state.point.lat } : null);
    if (!at) {
      box.textContent = "请先确定位置。";
      return;
    }
    var near = config.outfalls.map(function (o) {
      return { o: o, d: distance(at.lon, at.lat, o.lon, o.lat) };
    }).filter(function (x) {
      return x.d <= config.duplicateRadius;
    }).sort(function (a, b) {
      return a.d - b.d;
    });
    if (!near.length) box.textContent = "100 米内没有已有排口。";
    near.forEach(function (x) {
      var div = document.createElement("div");
      div.className = "form-check";
      div.innerHTML = '<input class="form-check-input" type="radio" name="duplicate_of">' + '<label class="form-check-label"></label>';
      div.firstChild.value = String(x.o.id);
      div.firstChild.id = "dup-" + x.o.id;
      div.lastChild.htmlFor = "dup-" + x.o.id;
      div.lastChild.textContent = x.o.name + "（" + x.o.code + "）约 " + Math.round(x.d) + " 米";
      box.appendChild(div);
    });
  }
  Array.prototype.forEach.call(form.querySelectorAll("input[name=outcome]"), function (r) {
    r.onchange = toggleOutcome;
  });
  ["lon", "lat"].forEach(function (id) {
    $(id).addEventListener("change", function () {
      var lon = parseFloat($("lon").value), lat = parseFloat($("lat").value);
      if (isFinite(lon) && isFinite(lat)) setPosition(lon, lat, "typed", null);
    });
  });
  map.on("click", function (e) {
    if (!form.classList.contains("d-none")) setPosition(e.latlng.lng, e.latlng.lat, "map", null);
  });
  $("locate").onclick = function () {
    locate(function (lon, lat, acc) {
      here = { lon: lon, lat: lat, accuracy: acc };
      setPosition(lon, lat, "gps", acc);
    });
  };
  $("locate-list").onclick = function () {
    locate(function (lon, lat, acc) {
      here = { lon: lon, lat: lat, accuracy: acc };
      $("list-position").textContent = "当前位置 " + lon.toFixed(5) + ", " + lat.toFixed(5) + "（精度约 " + Math.round(acc) + " 米）";
      renderList();
    });
  };
  $("new-point").onclick = function () {
    openForm(null);
  };
  $("back-to-list").onclick = closeForm;
  $("send-now").onclick = flush;
  // EXIF in the browser, before upload (the server reads it again with Pillow): DateTimeOriginal and GPS.
  function readExif(buffer) {
    var view = new DataView(buffer);
    if (view.byteLength < 4 || view.getUint16(0) !== 0xffd8) return null;
    var offset = 2;
    while (offset + 4 < view.byteLength) {
      var marker = view.getUint16(offset);
      var size = view.getUint16(offset + 2);
      if (marker === 0xffe1 && view.getUint32(offset + 4) === 0x45786966) return tiff(view, offset + 10);
      if ((marker & 0xff00) !== 0xff00) return null;
      offset += 2 + size;
    }
    return null;
  }
  function tiff(view, start) {
    var little = view.getUint16(start) === 0x4949;
    var u16 = function (o) { return view.getUint16(start + o, little); };
    var u32 = function (o) { return view.getUint32(start + o, little); };
    function entries(ifd) {
      var out = {};
      if (!ifd || start + ifd + 2 > view.byteLength) return out;
      var n = u16(ifd);
      for (var i = 0; i < n; i++) {
        var e = ifd + 2 + i * 12;
        out[u16(e)] = { type: u16(e + 2), count: u32(e + 4), at: e + 8 };
      }
      return out;
    }
    function ascii(entry) {
      var at = entry.count > 4 ? u32(entry.at) : entry.at;
      var text = "";
      for (var i = 0; i < entry.count - 1; i++) text += String.fromCharCode(view.getUint8(start + at + i));
      return text;
    }
    function rationals(entry) {
      var at = u32(entry.at), values = [];
      for (var i = 0; i < entry.count; i++) values.push(u32(at + i * 8) / (u32(at + i * 8 + 4) || 1));
      return values;
    }
    function degrees(entry, ref) {
      var v = rationals(entry);
      var d = v[0] + v[1] / 60 + v[2] / 3600;
      var r = String.fromCharCode(view.getUint8(start + ref.at));
      return r === "S" || r === "W" ? -d : d;
    }
    var ifd0 = entries(u32(4));
    var result = { time: null, lon: null, lat: null };
    if (ifd0[0x8769]) {
      var exif = entries(u32(ifd0[0x8769].at));
      if (exif[0x9003]) result.time = ascii(exif[0x9003]).replace(/^(\d{4}):(\d{2}):(\d{2})/, "$1-$2-$3");
    }
    if (!result.time && ifd0[0x0132]) result.time = ascii(ifd0[0x0132]).replace(/^(\d{4}):(\d{2}):(\d{2})/, "$1-$2-$3");
    if (ifd0[0x8825]) {
      var gps = entries(u32(ifd0[0x8825].at));
      if (gps[2] && gps[4] && gps[1] && gps[3]) {
        result.lat = degrees(gps[2], gps[1]);
        result.lon = degrees(gps[4], gps[3]);
      }
    }
    return result;
  }
  function describePhotos() {
    var box = $("photo-summary");
    var files = [];
    ["photo_close", "photo_distant"].forEach(function (kind) {
      Array.prototype.forEach.call($(kind).files, function (f) {
        files.push({ kind: kind === "photo_close" ? "近景" : "远景", file: f });
      });
    });
    box.innerHTML = "";
    if (!files.length) return;
    files.forEach(function (item) {
      item.file.slice(0, 131072).arrayBuffer().then(function (buffer) {
        var exif = null;
        try {
          exif = readExif(buffer);
        } catch (e) {
          exif = null;
        }
        var line = document.createElement("div");
        line.dataset.testid = "photo-exif";
        var text = item.kind + " " + item.file.name + "：";
        if (!exif || (!exif.time && exif.lon == null)) {
          text += "照片中无拍摄时间和位置";
        } else {
          text += "拍摄时间 " + (exif.time || "无");
          if (exif.lon != null) {
            text += "，拍摄位置 " + exif.lon.toFixed(6) + ", " + exif.lat.toFixed(6);
            var at = state.position;
            if (at) text += "（距记录位置约 " + metres(distance(at.lon, at.lat, exif.lon, exif.lat)) + "）";
          }
        }
        line.textContent = text;
        box.appendChild(line);
      });
    });
  }
  ["photo_close", "photo_distant"].forEach(function (id) {
    $(id).onchange = describePhotos;
  });

  function staffNames() {
    return $("staff").value.split(/[、，,;；\s]+/).map(function (s) {
      return s.trim();
    }).filter(Boolean);
  }
  function collect() {
    var errors = [];
    var outcome = (form.querySelector("input[name=outcome]:checked") || {}).value || "";
    var lon = parseFloat($("lon").value), lat = parseFloat($("lat").value);
    if (!isFinite(lon) || !isFinite(lat)) errors.push("位置：请用手机定位、在地图上点选或输入经纬度。");
    if (!$("flow").value) errors.push("排水特征：请选择。");
    if (staffNames().length < 2) errors.push("核查人员：至少填写两人。");
    if (!outcome) errors.push("核查结论：请选择。");
    var dup = form.querySelector("input[name=duplicate_of]:checked");
    if (outcome === "duplicate" && !dup) errors.push("重复的已有排口：请选择。");
    if (outcome === "confirmed" && !$("water_body").value) errors.push("受纳水体：请选择。");
    if (outcome === "confirmed" && !$("landmark").value.trim()) errors.push("地标或单位名：请填写。");
    var record = {
      client_uuid: uuid4(),
      point: state.point ? state.point.id : null,
      checked_at: new Date().toISOString(),
      lon: lon,
      lat: lat,
      accuracy_m: $("accuracy_m").value ? parseFloat($("accuracy_m").value) : null,
      position_source: $("position_source").value || "typed",
      flow: $("flow").value,
      dry_weather: $("dry_weather").checked,
      colour: $("colour").value,
      odour: $("odour").value,
      turbidity: $("turbidity").value,
      oil_film: $("oil_film").checked,
      foam: $("foam").checked,
      sampling_possible: $("sampling_possible").checked,
      outlet_form: $("outlet_form").value,
      outlet_size: $("outlet_size").value.trim(),
      entry_mode: $("entry_mode").value,
      suspected_source: $("suspected_source").value.trim(),
      notes: $("notes").value.trim(),
      staff: staffNames(),
      outcome: outcome,
      duplicate_of: dup ? parseInt(dup.value, 10) : null,
      water_body: outcome === "confirmed" || !state.point ? ($("water_body").value ? parseInt($("water_body").value, 10) : null) : null,
      landmark: $("landmark").value.trim(),
      town: $("town").value ? parseInt($("town").value, 10) : null,
      village: $("village").value ? parseInt($("village").value, 10) : null,
      type_code: $("type_code").value,
      decision_note: $("decision_note").value.trim(),
    };
    var photos = [];
    ["photo_close", "photo_distant"].forEach(function (kind) {
      Array.prototype.forEach.call($(kind).files, function (file) {
        photos.push({ kind: kind, name: file.name, type: file.type, blob: file });
      });
    });
    return { errors: errors, record: record, photos: photos };
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var got = collect();
    var box = $("form-errors");
    if (got.errors.length) {
      box.innerHTML = "";
      got.errors.forEach(function (e) {
        var div = document.createElement("div");
        div.textContent = e;
        box.appendChild(div);
      });
      box.classList.remove("d-none");
      return;
    }
    box.classList.add("d-none");
    // Files picked from the camera are read into Blobs now: the IndexedDB copy must not depend on them.
    Promise.all(got.photos.map(function (p) {
      return p.blob.arrayBuffer().then(function (buffer) {
        return { kind: p.kind, name: p.name, type: p.type, blob: new Blob([buffer], { type: p.type || "image/jpeg" }) };
      });
    })).then(function (photos) {
      var item = {
        client_uuid: got.record.client_uuid,
        campaign: config.campaign.id,
        record: got.record,
        photos: photos,
        label: state.point ? "疑似点 " + state.point.number : "现场新发现",
        savedAt: new Date().toISOString(),
        status: "pending",
      };
      return putQueued(item).then(function () {
        closeForm();
        say("记录已保存在手机上（" + item.label + "）" + (navigator.onLine ? "，正在上传…" : "，无网络，恢复后自动上传。"), navigator.onLine ? "info" : "warning");
        return flush();
      });
    }).catch(function (error) {
      say("保存失败：" + error, "danger");
    });
  });

  // ----------------------------------------------------------------------------------------------------
  // Walked track: positions while walking (accuracy under 50 m, at least 5 m apart), kept in localStorage
  // as they come so a reload loses nothing, queued like a check when the walk ends.
  // ----------------------------------------------------------------------------------------------------
  var TRACK_KEY = "outfalls-track-" + config.campaign.id;
  var walking = null;
  config.waterBodies.forEach(function (w) {
    option($("track-river"), w.id, w.name);
  });
  (config.banks || []).forEach(function (b) {
    option($("track-bank"), b.value, b.label);
  });
  function trackMetres(coords) {
    var total = 0;
    for (var i = 1; i < coords.length; i++) total += distance(coords[i - 1][0], coords[i - 1][1], coords[i][0], coords[i][1]);
    return total;
  }
  function showTrack() {
    var status = $("track-status");
    status.dataset.points = walking ? String(walking.coords.length) : "0";
    status.textContent = walking
      ? "记录中：" + walking.coords.length + " 个定位点，约 " + metres(trackMetres(walking.coords))
      : "未在记录。";
    $("track-toggle").textContent = walking ? "结束记录" : "开始记录";
    $("track-toggle").className = "btn btn-sm w-100 " + (walking ? "btn-danger" : "btn-outline-success");
  }
  function queueTrack(t) {
    localStorage.removeItem(TRACK_KEY);
    if (t.coords.length < 2) {
      say("轨迹定位点不足两个，未保存。", "warning");
      return Promise.resolve();
    }
    var river = config.waterBodies.filter(function (w) { return String(w.id) === String(t.river); })[0];
    var bank = (config.banks || []).filter(function (b) { return b.value === t.bank; })[0];
    var id = uuid4();
    var item = {
      client_uuid: id,
      campaign: config.campaign.id,
      kind: "track",
      record: { client_uuid: id, water_body: parseInt(t.river, 10), bank: t.bank, recorded_at: t.started, coordinates: t.coords },
      photos: [],
      label: "轨迹 " + (river ? river.name : "") + (bank ? bank.label : "") + "（" + t.coords.length + " 点）",
      savedAt: new Date().toISOString(),
      status: "pending",
    };
    return putQueued(item).then(flush);
  }
  $("track-toggle").onclick = function () {
    if (walking) {
      navigator.geolocation.clearWatch(walking.watch);
      var done = walking;
      walking = null;
      showTrack();
      queueTrack(done);
      return;
    }
    if (!navigator.geolocation || !$("track-river").value) {
      say(navigator.geolocation ? "请选择河流。" : "此浏览器不支持定位，无法记录轨迹。", "warning");
      return;
    }
    walking = { coords: [], started: new Date().toISOString(), river: $("track-river").value, bank: $("track-bank").value };
    walking.watch = navigator.geolocation.watchPosition(
      function (pos) {
        if (!walking || pos.coords.accuracy > 50) return;
        var c = [pos.coords.longitude, pos.coords.latitude];
        var last = walking.coords[walking.coords.length - 1];
        if (last && distance(last[0], last[1], c[0], c[1]) < 5) return;
        walking.coords.push(c);
        localStorage.setItem(TRACK_KEY, JSON.stringify({ coords: walking.coords, started: walking.started, river: walking.river, bank: walking.bank }));
        showTrack();
      },
      function (error) {
        say("轨迹定位失败（" + error.message + "）。", "warning");
      },
      { enableHighAccuracy: true, maximumAge: 0 }
    );
    showTrack();
  };
  // A walk the page lost (reload, crash) is queued as it was.
  try {
    var unfinished = JSON.parse(localStorage.getItem(TRACK_KEY) || "null");
    if (unfinished) queueTrack(unfinished);
  } catch (e) {
    localStorage.removeItem(TRACK_KEY);
  }
  showTrack();

  // ----------------------------------------------------------------------------------------------------
  // Network state, retries, service worker
  // ----------------------------------------------------------------------------------------------------
  function showNetwork() {
    var badge = $("net-status");
    badge.dataset.online = navigator.onLine ? "1" : "0";
    badge.textContent = navigator.onLine ? "在线" : "离线";
    badge.className = "badge " + (navigator.onLine ? "text-bg-light" : "text-bg-danger");
  }
  window.addEventListener("online", function () {
    showNetwork();
    flush();
  });
  window.addEventListener("offline", showNetwork);
  setInterval(flush, RETRY_MS);
  showNetwork();
  renderList();
  flush();

  var offline = $("field-offline");
  if ("serviceWorker" in navigator && offline && offline.dataset.sw) {
    var assets = (offline.dataset.static || "").split(/\s+/).filter(Boolean);
    navigator.serviceWorker.register(offline.dataset.sw, { scope: "/survey/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      if (registration.active) registration.active.postMessage({ cache: [location.pathname].concat(assets) });
    }).catch(function () {});
  }

  // For tests and support: the queue and a way to send the last record again (it must not duplicate).
  window.fieldApp = {
    flush: flush,
    queueCount: function () {
      return queued().then(function (items) {
        return items.length;
      });
    },
    resendLast: function () {
      if (!state.lastSent) return Promise.resolve(null);
      return post(state.lastSent).then(function (r) {
        return r.json().then(function (body) {
          return { status: r.status, body: body };
        });
      });
    },
  };
})();
