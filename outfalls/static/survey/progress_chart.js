/* The progress page's bar chart: per county, outfalls found, traced, responsibility fixed, overdue. */
(function () {
  "use strict";
  var node = document.getElementById("progress-chart-data");
  var box = document.getElementById("progress-chart");
  if (!node || !box || !window.echarts) return;
  var data = JSON.parse(node.textContent);
  var chart = echarts.init(box);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { top: 4 },
    grid: { left: 48, right: 16, top: 40, bottom: 60 },
    xAxis: { type: "category", data: data.counties, axisLabel: { interval: 0, rotate: data.counties.length > 6 ? 30 : 0 } },
    yAxis: { type: "value", minInterval: 1 },
    color: ["#5470c6", "#91cc75", "#3ba272", "#ee6666"],
    series: data.series.map(function (s) { return { name: s.name, type: "bar", data: s.data }; })
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
