// The outfall's monitoring curves: one ECharts chart per parameter, from the page's json_script
// (monitoring/series.py). The limit is a dashed line (two for a range); a non-detect is an empty circle at its
// detection limit; an estimate a diamond; online day means a thin line. Text is set as text (ECharts escapes
// names in its default tooltips; ours are built from numbers and the library's own labels through Safe.escape).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("series-data").textContent);
  var holder = document.getElementById("charts");
  var charts = [];

  function fmtTime(ms) {
    var d = new Date(ms);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + two(d.getHours()) + ":" + two(d.getMinutes());
  }

  function limitLines(limit) {
    if (!limit) { return []; }
    var lines = [];
    if (limit.upper !== null && limit.kind !== "min") { lines.push({ yAxis: limit.upper, name: "上限" }); }
    if (limit.lower !== null && (limit.kind === "min" || limit.kind === "range")) { lines.push({ yAxis: limit.lower, name: "下限" }); }
    if (limit.cold_upper !== null) { lines.push({ yAxis: limit.cold_upper, name: "水温≤12℃" }); }
    return lines;
  }

  data.parameters.forEach(function (p) {
    var box = document.createElement("div");
    var title = document.createElement("div");
    title.className = "small fw-bold mt-2";
    title.textContent = p.name + "（" + p.unit + "）" + (p.limit ? " · 限值：" + p.limit.label : " · 无适用限值");
    box.appendChild(title);
    var el = document.createElement("div");
    el.className = "monitoring-chart";
    el.dataset.parameter = p.code;
    box.appendChild(el);
    holder.appendChild(box);
    var chart = echarts.init(el);
    var points = p.points.map(function (pt) {
      var symbol = pt[2] === "below_lod" ? "emptyCircle" : (pt[2] === "estimated" ? "diamond" : "circle");
      return { value: [pt[0], pt[1]], symbol: symbol, qualifier: pt[2] };
    });
    var series = [{
      name: "样品", type: "scatter", data: points, symbolSize: 8,
      markLine: { silent: true, symbol: "none", lineStyle: { type: "dashed", color: "#c0392b" },
        label: { formatter: "{b} {c}" }, data: limitLines(p.limit) },
    }];
    if (p.online.length) {
      series.push({ name: "在线日均值", type: "line", showSymbol: false, lineStyle: { width: 1 },
        data: p.online.map(function (o) { return [o[0], o[1]]; }) });
    }
    chart.setOption({
      animation: false,
      grid: { left: 50, right: 30, top: 20, bottom: 40 },
      tooltip: { trigger: "item", formatter: function (item) {
        var v = item.value[1];
        var q = item.data && item.data.qualifier;
        var shown = q === "below_lod" ? "未检出（<" + v + "）" : (q === "estimated" ? "约 " + v : String(v));
        return Safe.escape(fmtTime(item.value[0]) + " " + item.seriesName + "：" + shown + " " + p.unit);
      } },
      xAxis: { type: "time", min: data.start, max: data.end },
      yAxis: { type: "value", scale: true },
      series: series,
    });
    charts.push(chart);
  });
  if (!data.parameters.length) {
    holder.textContent = "该时段没有监测数据。";
  }
  document.body.dataset.chartsReady = "true";
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
