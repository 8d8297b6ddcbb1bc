// The camera's event timeline: stored events with their snapshot as a thumbnail, filtered by kind.
// A click opens the snapshot and, for a fall with a clip, the clip. Everything comes from
// /api/timeline and /api/evidence/, behind the page's own token and origin checks.
"use strict";

const TIMELINE_REFRESH_MS = 5000;
const timelineCamera = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
const timelineShown = new Map(); // id -> entry, for the viewer

function openViewer(entry) {
  const body = document.getElementById("viewer-body");
  body.replaceChildren();
  document.getElementById("viewer-title").textContent =
    new Date(entry.timestamp * 1000).toLocaleString() + " · " + entry.text;
  if (entry.clip) {
    const video = document.createElement("video");
    video.src = entry.clip;
    video.controls = true;
    video.muted = true;
    video.autoplay = true;
    video.id = "viewer-clip";
    body.append(video);
  }
  if (entry.snapshot) {
    const image = document.createElement("img");
    image.src = entry.snapshot;
    image.alt = "snapshot of " + entry.text;
    image.id = "viewer-snapshot";
    body.append(image);
  }
  document.getElementById("viewer").showModal();
}

function showTimeline(document_) {
  const list = document.getElementById("timeline");
  const note = document.getElementById("timeline-note");
  if (!document_.enabled) {
    note.textContent = "Snapshots are off (snapshots.enabled in the config).";
    list.replaceChildren();
    return;
  }
  note.textContent = document_.events.length ? "" : "No stored events yet.";
  const items = [];
  timelineShown.clear();
  for (const entry of document_.events) {
    timelineShown.set(entry.id, entry);
    const item = document.createElement("li");
    item.dataset.id = entry.id;
    item.dataset.kind = entry.kind;
    if (entry.thumbnail || entry.snapshot) {
      const thumb = document.createElement("img");
      thumb.src = entry.thumbnail || entry.snapshot;
      thumb.loading = "lazy";
      thumb.alt = "";
      item.append(thumb);
    }
    const text = document.createElement("span");
    text.textContent =
      new Date(entry.timestamp * 1000).toLocaleTimeString() + " " + entry.text + (entry.clip ? " · clip" : "");
    item.append(text);
    item.addEventListener("click", () => openViewer(entry));
    items.push(item);
  }
  list.replaceChildren(...items);
}

async function refreshTimeline() {
  const kind = document.getElementById("timeline-kind").value;
  const query = new URLSearchParams({ camera: timelineCamera });
  if (kind) query.set("kind", kind);
  try {
    const response = await fetch("/api/timeline?" + query, { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    showTimeline(await response.json());
  } catch (error) {
    document.getElementById("timeline-note").textContent = "Timeline unavailable (" + error.message + ").";
  }
}

document.getElementById("timeline-kind").addEventListener("change", refreshTimeline);
document.getElementById("viewer-close").addEventListener("click", () => {
  document.getElementById("viewer-body").replaceChildren(); // stops a playing clip
  document.getElementById("viewer").close();
});
refreshTimeline();
setInterval(refreshTimeline, TIMELINE_REFRESH_MS);
