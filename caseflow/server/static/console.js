// The console's only script: draws the Mermaid diagram and the ranking chart from data
// the server put in the page (no inline scripts: the pages' CSP allows 'self' only).
"use strict";

function drawDiagrams() {
  const blocks = document.querySelectorAll("pre.mermaid");
  if (!blocks.length || typeof mermaid === "undefined") return;
  mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "default" });
  mermaid
    .run({ nodes: blocks })
    .then(() => document.body.setAttribute("data-diagram", "rendered"))
    .catch((err) => {
      document.body.setAttribute("data-diagram", "failed");
      console.error("mermaid:", err);
    });
}

function drawRanking() {
  const canvas = document.getElementById("ranking-chart");
  const source = document.getElementById("ranking-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [{ label: "按时率 on-time rate (%)", data: data.rates, backgroundColor: "#2563eb" }],
    },
    options: {
      indexAxis: "y",
      maintainAspectRatio: false,
      animation: false,
      scales: { x: { min: 0, max: 100 } },
    },
  });
  document.body.setAttribute("data-chart", "rendered");
}

document.addEventListener("DOMContentLoaded", () => {
  drawDiagrams();
  drawRanking();
});
