// The camera list, refreshed from /api/stats (what the `stats` MQTT topic publishes).
"use strict";

const REFRESH_MS = 2000;

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function render(stats) {
  const body = document.querySelector("#cameras tbody");
  body.replaceChildren();
  const names = Object.keys(stats.cameras || {}).sort();
  for (const name of names) {
    const cam = stats.cameras[name];
    const row = body.insertRow();
    row.dataset.camera = name;
    const link = document.createElement("a");
    link.href = "/camera/" + encodeURIComponent(name);
    link.textContent = name;
    row.insertCell().append(link);
    cell(row, cam.status, "status status-" + cam.status);
    // null: not measured yet (the camera just came online, or no frame yet).
    cell(row, cam.processed_fps == null ? "–" : cam.processed_fps.toFixed(1), "num fps");
    cell(row, cam.latency_ms == null ? "–" : cam.latency_ms.p50.toFixed(0) + " ms", "num latency");
    cell(row, String(cam.people), "num people");
  }
  document.getElementById("device").textContent =
    (stats.device_id || "") + (stats.backend ? " · " + stats.backend : "");
  document.getElementById("note").textContent = names.length
    ? "Updated " + new Date().toLocaleTimeString() + ". Open a camera to see its poses and draw zones."
    : "Waiting for the first stats…";
}

async function refresh() {
  try {
    const response = await fetch("/api/stats", { cache: "no-store" });
    if (response.status === 401) {
      document.getElementById("note").textContent = "This page needs its token: open /?token=TOKEN once.";
      return;
    }
    if (!response.ok) throw new Error("HTTP " + response.status);
    render(await response.json());
  } catch (error) {
    document.getElementById("note").textContent = "posed is not answering (" + error.message + "); retrying…";
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
