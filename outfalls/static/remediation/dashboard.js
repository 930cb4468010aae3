// 整治看板: stacked bars per jurisdiction (measures, plan statuses) and completion rate, from the page's
// json_script (the same figures as /remediation/dashboard/data/).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var charts = [];

  function stacked(id, series) {
    var el = document.getElementById(id);
    el.style.height = "360px";
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 40, right: 20, bottom: 60, top: 40 },
      xAxis: { type: "category", data: data.counties, axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value", minInterval: 1 },
      series: series.map(function (s) {
        return { name: s.name, type: "bar", stack: "total", data: s.data, emphasis: { focus: "series" } };
      }),
    });
    charts.push(chart);
  }

  stacked("chart-measures", data.measures);
  stacked("chart-statuses", data.statuses);

  var el = document.getElementById("chart-completion");
  el.style.height = "320px";
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 50, right: 50, bottom: 60, top: 40 },
    xAxis: { type: "category", data: data.counties, axisLabel: { interval: 0, rotate: 30 } },
    yAxis: [
      { type: "value", name: "完成率（%）", max: 100 },
      { type: "value", name: "逾期（个）", minInterval: 1 },
    ],
    series: [
      { name: "完成率（%）", type: "bar", data: data.completion, label: { show: true, position: "top" } },
      { name: "逾期（个）", type: "line", yAxisIndex: 1, data: data.overdue },
    ],
  });
  charts.push(chart);
  document.body.dataset.chartsReady = "true";
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
