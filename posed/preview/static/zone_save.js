// Saving the drawn zone into posed's config (only with `preview.allow_edit: true`).
// The page sends the version of the file it loaded; posed refuses a save when the file
// changed since, or when the zone would make the config invalid, and says why.
"use strict";

let configVersion = null;

async function loadConfigVersion() {
  const response = await fetch("/api/config/version", { cache: "no-store" });
  if (!response.ok) return; // editing is off: the page keeps to the snippet
  configVersion = (await response.json()).version;
  document.getElementById("zone-save").hidden = false;
}

async function saveZone() {
  const name = document.getElementById("zone-name").value.trim();
  const problem = document.getElementById("zone-problem");
  const saved = document.getElementById("zone-saved");
  saved.textContent = "";
  if (draft.length < 3) {
    problem.textContent = "Click at least 3 points on the image first.";
    return;
  }
  const response = await fetch("/api/cameras/" + encodeURIComponent(camera) + "/zones", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: name, points: draft, version: configVersion }),
    cache: "no-store",
  });
  if (!response.ok) {
    // posed's own words: a config error names the file, line and key.
    problem.textContent = "Not saved (HTTP " + response.status + "): " + (await response.text());
    return;
  }
  const result = await response.json();
  configVersion = result.version;
  problem.textContent = "";
  saved.textContent = "Saved zone " + name + " (backup: " + result.backup + "); posed is reloading.";
  draft.length = 0;
  zoneYaml();
  draw();
}

document.getElementById("zone-save").addEventListener("click", saveZone);
loadConfigVersion();
