// One camera: the newest frame with its poses drawn on a canvas, zones, events, and a zone editor.
// Frames arrive over a WebSocket as a JSON message (poses, zones, events) followed by the JPEG.
"use strict";

const SKELETON_COLOUR = "rgb(0, 255, 255)"; // the browser test looks for this colour
const ZONE_COLOUR = "rgba(255, 200, 0, 0.9)";
const DRAFT_COLOUR = "rgba(255, 80, 255, 0.95)";
const MIN_SCORE = 0.3; // keypoints below this are not drawn, nor their edges
const NAME_PATTERN = /^[A-Za-z0-9_-]+$/;

const camera = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
const canvas = document.getElementById("view");
const ctx = canvas.getContext("2d");
const draft = []; // the zone being drawn: normalized [x, y] points
let skeletons = {};
let scoreColours = ["rgb(230, 40, 40)", "rgb(40, 200, 70)"]; // replaced by the server's (posed/draw.py)
let pending = null; // the JSON of the frame whose JPEG comes next
let lastImage = null;
let lastFrame = null;
let lastShown = 0;
// For scripts and the browser test: what the canvas shows now.
window.posedPreview = { camera: camera, drawn: null, frames: 0 };

document.getElementById("camera-name").textContent = camera;
document.title = "posed preview: " + camera;

function scoreColour(score) {
  // Equal bins from red (0) to green (1), as posed/draw.py's score_bins.
  const clipped = Number.isFinite(score) ? Math.max(0, Math.min(1, score)) : 0;
  return scoreColours[Math.min(Math.floor(clipped * scoreColours.length), scoreColours.length - 1)];
}

function polygon(points, width, height) {
  ctx.beginPath();
  points.forEach(([x, y], i) => (i ? ctx.lineTo(x * width, y * height) : ctx.moveTo(x * width, y * height)));
}

function drawZones(frame, w, h, unit) {
  ctx.lineWidth = 2 * unit;
  ctx.font = Math.round(14 * unit) + "px system-ui, sans-serif";
  for (const [name, zone] of Object.entries(frame.zones || {})) {
    const occupied = zone.occupancy !== null && zone.occupancy !== undefined && zone.occupancy > 0;
    polygon(zone.points, w, h);
    ctx.closePath();
    ctx.fillStyle = occupied ? "rgba(255, 200, 0, 0.25)" : "rgba(255, 200, 0, 0.08)";
    ctx.fill();
    ctx.strokeStyle = ZONE_COLOUR;
    ctx.stroke();
    const [x, y] = zone.points[0];
    const label = zone.occupancy === null || zone.occupancy === undefined ? name : name + ": " + zone.occupancy;
    ctx.fillStyle = ZONE_COLOUR;
    ctx.fillText(label, x * w + 4 * unit, y * h - 4 * unit);
  }
}

function drawDraft(w, h, unit) {
  if (!draft.length) return;
  ctx.setLineDash([6 * unit, 4 * unit]);
  ctx.lineWidth = 2 * unit;
  ctx.strokeStyle = DRAFT_COLOUR;
  polygon(draft, w, h);
  if (draft.length >= 3) ctx.closePath();
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = DRAFT_COLOUR;
  for (const [x, y] of draft) {
    ctx.beginPath();
    ctx.arc(x * w, y * h, 4 * unit, 0, 2 * Math.PI);
    ctx.fill();
  }
}

function drawPoses(frame, unit) {
  for (const pose of frame.poses) {
    const kp = pose.keypoints;
    const edges = skeletons[String(kp.length)] || [];
    ctx.lineWidth = 3 * unit;
    ctx.strokeStyle = SKELETON_COLOUR;
    ctx.beginPath();
    for (const [a, b] of edges) {
      if (kp[a][2] < MIN_SCORE || kp[b][2] < MIN_SCORE) continue;
      ctx.moveTo(kp[a][0], kp[a][1]);
      ctx.lineTo(kp[b][0], kp[b][1]);
    }
    ctx.stroke();
    for (const [x, y, score] of kp) {
      if (score < MIN_SCORE) continue;
      ctx.beginPath();
      ctx.arc(x, y, 4 * unit, 0, 2 * Math.PI);
      ctx.fillStyle = scoreColour(score);
      ctx.fill();
    }
    if (pose.id !== null && pose.id !== undefined) {
      const top = kp.reduce((best, p) => (p[2] >= MIN_SCORE && p[1] < best[1] ? p : best), [kp[0][0], Infinity]);
      ctx.font = "bold " + Math.round(18 * unit) + "px system-ui, sans-serif";
      ctx.fillStyle = "#fff";
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 3 * unit;
      const y = Number.isFinite(top[1]) ? top[1] - 12 * unit : 20 * unit;
      ctx.strokeText("#" + pose.id, top[0], y);
      ctx.fillText("#" + pose.id, top[0], y);
    }
  }
}

function draw() {
  if (!lastImage || !lastFrame) return;
  const frame = lastFrame;
  if (canvas.width !== frame.width || canvas.height !== frame.height) {
    canvas.width = frame.width;
    canvas.height = frame.height;
  }
  const w = canvas.width;
  const h = canvas.height;
  const unit = Math.max(1, Math.min(w, h) / 480); // line widths scale with the image
  ctx.drawImage(lastImage, 0, 0, w, h);
  drawZones(frame, w, h, unit);
  drawPoses(frame, unit);
  drawDraft(w, h, unit);
  window.posedPreview.drawn = { width: w, height: h, number: frame.number, poses: frame.poses, zones: frame.zones };
}

function showEvents(events) {
  const list = document.getElementById("events");
  list.replaceChildren();
  for (const event of [...events].reverse()) {
    const item = document.createElement("li");
    const when = event.timestamp ? new Date(event.timestamp * 1000).toLocaleTimeString() + " " : "";
    // The server words each event (posed.events.wording), as `posed demo` prints it.
    item.textContent = when + event.text;
    list.append(item);
  }
  if (!events.length) {
    const item = document.createElement("li");
    item.className = "muted";
    item.textContent = "none yet";
    list.append(item);
  }
}

function showLive(text) {
  document.getElementById("live").textContent = text;
}

async function onFrame(blob, frame) {
  const image = await createImageBitmap(blob);
  if (lastImage) lastImage.close();
  lastImage = image;
  lastFrame = frame;
  lastShown = Date.now();
  window.posedPreview.frames += 1;
  draw();
  const age = Math.max(0, Date.now() - frame.wall * 1000);
  const people = frame.poses.length === 1 ? "1 person" : frame.poses.length + " people";
  showLive("live · frame " + frame.number + " · " + people + " · " + age.toFixed(0) + " ms old");
  showEvents(frame.events || []);
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + "/api/cameras/" + encodeURIComponent(camera) + "/ws");
  ws.binaryType = "blob";
  ws.onmessage = (message) => {
    if (typeof message.data === "string") {
      const data = JSON.parse(message.data);
      if (data.type === "hello") {
        skeletons = data.skeletons;
        scoreColours = data.score_colors.map(([r, g, b]) => "rgb(" + r + ", " + g + ", " + b + ")");
      }
      else if (data.type === "frame") pending = data;
    } else if (pending) {
      const frame = pending;
      pending = null;
      onFrame(message.data, frame);
    }
  };
  ws.onclose = (event) => {
    showLive("disconnected (" + (event.reason || "code " + event.code) + "); reconnecting…");
    setTimeout(connect, 2000);
  };
}

// -- zone editor ------------------------------------------------------------------------------

function zoneYaml() {
  const mask = document.getElementById("zone-kind").value === "mask";
  const name = document.getElementById("zone-name").value.trim();
  const problem = document.getElementById("zone-problem");
  const yaml = document.getElementById("zone-yaml");
  const points = draft.map(([x, y]) => "[" + x.toFixed(3) + ", " + y.toFixed(3) + "]").join(", ");
  document.getElementById("zone-name").disabled = mask; // masks have no name
  if (!mask && !NAME_PATTERN.test(name)) problem.textContent = "The name may use letters, digits, - and _ only.";
  else if (draft.length < 3) problem.textContent = "Click " + (3 - draft.length) + " more point(s) on the image.";
  else problem.textContent = "";
  yaml.textContent = mask
    ? "motion_gate:\n  masks:\n    " + camera + ":\n      - points: [" + points + "]\n"
    : "cameras:\n  " + camera + ":\n    zones:\n      " + (name || "zone1") + ":\n        points: [" + points + "]\n";
}

canvas.addEventListener("click", (event) => {
  const box = canvas.getBoundingClientRect();
  const x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
  const y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
  draft.push([x, y]);
  zoneYaml();
  draw();
});
document.getElementById("zone-undo").addEventListener("click", () => {
  draft.pop();
  zoneYaml();
  draw();
});
document.getElementById("zone-clear").addEventListener("click", () => {
  draft.length = 0;
  zoneYaml();
  draw();
});
document.getElementById("zone-name").addEventListener("input", zoneYaml);
document.getElementById("zone-kind").addEventListener("change", zoneYaml);

setInterval(() => {
  if (lastShown && Date.now() - lastShown > 5000) showLive("no new frame for " + ((Date.now() - lastShown) / 1000).toFixed(0) + " s");
}, 1000);

zoneYaml();
showEvents([]);
connect();
