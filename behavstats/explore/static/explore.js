// behavstats explorer page: the view lives in the URL; every change asks the API for
// the new field (superseded requests are aborted, sliders debounced).
"use strict";

const $ = (id) => document.getElementById(id);
const MOVES = ["LEFT", "DOWN", "NOOP", "UP", "RIGHT"];
const CSS = getComputedStyle(document.documentElement);
const colour = (name) => CSS.getPropertyValue(`--${name}`).trim();

const state = {
  info: null,
  view: null,          // the last view the server accepted
  ui: { show: "patched", paths: true, actLayer: null, actChannel: 0, seed: 0,
    map: "none", baseline: "cheese_removed", corruption: "cheese_removed", target: "logit_diff" },
  field: null,
  map: null,           // the heat map shown over the maze (or null)
  acts: null,
  episode: null,
  step: 0,
  hover: null,
};
const controllers = {};
const timers = {};
window.explorer = state;

// ---------- URL <-> view -----------------------------------------------------------

const cellStr = (c) => `${c[0]}.${c[1]}`;
const parseCell = (s) => s.split(".").map(Number);

function defaultView() {
  return {
    level: 0, mode: "hard",
    edits: { walls: [], mouse: null, cheese: null, remove_cheese: false },
    interventions: { layer: state.info.vector_layer, cheese_vector: { coeff: 0, level: null },
      top_right: 0, clamp: null, ablate: null },
  };
}

function viewFromURL() {
  const q = new URLSearchParams(location.search);
  const v = defaultView();
  const num = (k, d) => (q.has(k) ? Number(q.get(k)) : d);
  v.level = num("level", 0);
  if (q.get("mode") === "easy") v.mode = "easy";
  if (q.get("walls")) v.edits.walls = q.get("walls").split("_").map(parseCell);
  if (q.get("mouse")) v.edits.mouse = parseCell(q.get("mouse"));
  if (q.get("cheese") === "none") v.edits.remove_cheese = true;
  else if (q.get("cheese")) v.edits.cheese = parseCell(q.get("cheese"));
  const iv = v.interventions;
  if (q.get("layer")) iv.layer = q.get("layer");
  iv.cheese_vector.coeff = num("cv", 0);
  if (q.has("cvl")) iv.cheese_vector.level = num("cvl", 0);
  iv.top_right = num("tr", 0);
  if (q.get("clamp")) {
    const [channel, value, cell] = q.get("clamp").split("_");
    iv.clamp = { channel: Number(channel), value: Number(value), cell: parseCell(cell) };
  }
  if (q.get("ablate")) {
    iv.ablate = { channels: q.get("ablate").split(".").map(Number), mean: q.get("amean") === "1" };
  }
  const ui = state.ui;
  if (["original", "patched", "diff"].includes(q.get("show"))) ui.show = q.get("show");
  ui.paths = q.get("paths") !== "0";
  ui.actLayer = q.get("al") || state.info.vector_layer;
  ui.actChannel = num("ac", 0);
  ui.seed = num("seed", 0);
  if (["value", "attribution", "patching"].includes(q.get("map"))) ui.map = q.get("map");
  for (const [key, name] of [["base", "baseline"], ["corr", "corruption"], ["tgt", "target"]]) {
    if (q.get(key)) ui[name] = q.get(key);
  }
  return v;
}

function urlOf(v) {
  const q = new URLSearchParams();
  q.set("level", v.level);
  if (v.mode !== "hard") q.set("mode", v.mode);
  const e = v.edits, iv = v.interventions, ui = state.ui;
  if (e.walls.length) q.set("walls", e.walls.map(cellStr).join("_"));
  if (e.mouse) q.set("mouse", cellStr(e.mouse));
  if (e.remove_cheese) q.set("cheese", "none");
  else if (e.cheese) q.set("cheese", cellStr(e.cheese));
  if (iv.layer !== state.info.vector_layer) q.set("layer", iv.layer);
  if (iv.cheese_vector.coeff) q.set("cv", iv.cheese_vector.coeff);
  if (iv.cheese_vector.level !== null) q.set("cvl", iv.cheese_vector.level);
  if (iv.top_right) q.set("tr", iv.top_right);
  if (iv.clamp) q.set("clamp", `${iv.clamp.channel}_${iv.clamp.value}_${cellStr(iv.clamp.cell)}`);
  if (iv.ablate) {
    q.set("ablate", iv.ablate.channels.join("."));
    if (iv.ablate.mean) q.set("amean", "1");
  }
  if (ui.show !== "patched") q.set("show", ui.show);
  if (!ui.paths) q.set("paths", "0");
  if (ui.actLayer !== state.info.vector_layer) q.set("al", ui.actLayer);
  if (ui.actChannel) q.set("ac", ui.actChannel);
  if (ui.seed) q.set("seed", ui.seed);
  if (ui.map !== "none") q.set("map", ui.map);
  if (ui.map === "attribution" && ui.baseline !== "cheese_removed") q.set("base", ui.baseline);
  if (ui.map === "patching" && ui.corruption !== "cheese_removed") q.set("corr", ui.corruption);
  if (ui.map !== "none" && ui.map !== "value" && ui.target !== "logit_diff") q.set("tgt", ui.target);
  return `${location.pathname}?${q}`;
}

const saveURL = () => history.replaceState(null, "", urlOf(state.view));

// ---------- requests ---------------------------------------------------------------

async function api(key, path, body) {
  if (controllers[key]) controllers[key].abort();
  const controller = (controllers[key] = new AbortController());
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST", signal: controller.signal,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(explain(data.detail));
  return data;
}

function explain(detail) {
  if (!Array.isArray(detail)) return String(detail);
  return detail.map((d) => `${d.loc.filter((p) => p !== "body").join(".")}: ${d.msg}`).join("; ");
}

function debounce(key, fn, ms = 120) {
  clearTimeout(timers[key]);
  timers[key] = setTimeout(fn, ms);
}

function busy(on) { document.body.dataset.state = on ? "busy" : "idle"; }

function message(text, ok = false) {
  const m = $("message");
  m.textContent = text;
  m.className = ok ? "ok" : "";
}

// Ask for the field of a candidate view; keep the last good view when it is refused.
async function submit(candidate) {
  busy(true);
  try {
    const field = await api("field", "/api/field", candidate);
    state.view = candidate;
    state.field = field;
    state.episode = null;
    message(field.notes.join("; "), true);
    saveURL();
    syncControls();
    draw();
    loadActivations();
    loadMap();
  } catch (err) {
    if (err.name === "AbortError") return;
    message(`refused: ${err.message}`);
    syncControls();
  }
  busy(false);
}

function change(mutate, wait = 0) {
  const candidate = structuredClone(state.view);
  mutate(candidate);
  if (wait) debounce("field", () => submit(candidate), wait);
  else submit(candidate);
}

async function loadActivations() {
  const ui = state.ui;
  try {
    state.acts = await api("acts", "/api/activations",
      { view: state.view, layer: ui.actLayer, channel: ui.actChannel });
    drawActivations();
  } catch (err) {
    if (err.name !== "AbortError") message(`activations: ${err.message}`);
  }
}

// Ask for the chosen heat map of the current view (none: clear it).
async function loadMap() {
  const ui = state.ui;
  if (ui.map === "none") {
    if (controllers.map) controllers.map.abort();
    state.map = null; drawMapLegend(); draw(); return;
  }
  try {
    const map = await api("map", `/api/maps/${ui.map}`, { view: state.view, target: ui.target,
      baseline: ui.baseline, corruption: ui.corruption, layer: state.view.interventions.layer });
    state.map = map;
  } catch (err) {
    if (err.name === "AbortError") return;
    state.map = null;
    message(`${ui.map} map: ${err.message}`);
  }
  drawMapLegend();
  draw();
}

// ---------- drawing ----------------------------------------------------------------

function geometry() {
  const n = state.field.maze.maze_dim;
  const cell = Math.floor(600 / n);
  return { n, cell, size: cell * n };
}

const centre = (g, c) => [(c[0] + 0.5) * g.cell, (g.n - 1 - c[1] + 0.5) * g.cell];

function shownProbs() {
  const f = state.field, show = state.ui.show;
  if (!f.patched || show === "original") return { probs: f.original, kind: "orig" };
  if (show === "patched") return { probs: f.patched, kind: "patched" };
  return { probs: f.patched.map((p, i) => p.map((v, j) => v - f.original[i][j])), kind: "diff" };
}

function draw() {
  const canvas = $("maze"), g = geometry(), dpr = window.devicePixelRatio || 1;
  canvas.width = g.size * dpr; canvas.height = g.size * dpr;
  canvas.style.width = `${g.size}px`; canvas.style.height = `${g.size}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const m = state.field.maze;
  m.rows.forEach((row, r) => [...row].forEach((ch, x) => {
    ctx.fillStyle = ch === "#" ? colour("wall") : colour("floor");
    ctx.fillRect(x * g.cell, r * g.cell, g.cell, g.cell);
  }));
  drawMap(ctx, g);
  if (state.ui.paths) {
    drawPath(ctx, g, m.path_to_top_right, colour("tr-path"), 0.22);
    drawPath(ctx, g, m.path_to_cheese, colour("cheese-path"), 0.22);
  }
  markCell(ctx, g, m.top_right, colour("tr-path"), false);
  if (m.decision_square) markCell(ctx, g, m.decision_square, colour("dsq"), false);
  const clamp = state.view.interventions.clamp;
  if (clamp) markCell(ctx, g, clamp.cell, colour("clamp"), true);
  drawArrows(ctx, g);
  if (m.cheese) drawCheese(ctx, g, m.cheese);
  drawEpisode(ctx, g);
  const ep = state.episode;
  drawMouse(ctx, g, ep ? ep.original.path[Math.min(state.step, ep.original.path.length - 1)]
    : m.mouse, "#6d6d6d");
  if (ep && ep.patched) {
    drawMouse(ctx, g, ep.patched.path[Math.min(state.step, ep.patched.path.length - 1)],
      colour("patched"));
  }
  drawReadout();
  canvas.dataset.version = String(Number(canvas.dataset.version || 0) + 1);
}

// Colour scales: a sequential one (viridis stops) and a diverging one (blue, white, red)
// whose white is 0.
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const DIVERGING = [[33, 102, 172], [146, 197, 222], [247, 247, 247], [244, 165, 130], [178, 24, 43]];

function ramp(stops, t) {
  const u = Math.min(1, Math.max(0, t)) * (stops.length - 1), i = Math.min(stops.length - 2, Math.floor(u));
  const f = u - i, a = stops[i], b = stops[i + 1];
  return `rgb(${a.map((v, k) => Math.round(v + f * (b[k] - v))).join(",")})`;
}

function mapColour(map, v) {
  if (map.signed) return ramp(DIVERGING, map.high > 0 ? 0.5 + v / (2 * map.high) : 0.5);
  return ramp(VIRIDIS, map.high > map.low ? (v - map.low) / (map.high - map.low) : 0.5);
}

function drawMap(ctx, g) {
  const map = state.map, canvas = $("maze");
  canvas.dataset.map = "";
  if (!map || map.grid.length !== g.n) return;
  canvas.dataset.map = map.kind;
  const walls = state.field.maze.rows;
  ctx.save();
  map.grid.forEach((row, r) => row.forEach((v, x) => {
    if (v === null) return;
    ctx.fillStyle = mapColour(map, v);
    if (walls[r][x] !== "#") {
      ctx.fillRect(x * g.cell, r * g.cell, g.cell, g.cell);
      return;
    }
    // a wall stays dark; its value shows as an inset square, as opaque as it is large
    const t = map.signed ? Math.abs(v) / (map.high || 1) : 1, inset = g.cell * 0.2;
    if (t < 0.1) return;  // faint insets read as noise on the walls
    ctx.globalAlpha = Math.min(1, 1.5 * t);
    ctx.fillRect(x * g.cell + inset, r * g.cell + inset, g.cell - 2 * inset, g.cell - 2 * inset);
    ctx.globalAlpha = 1;
  }));
  ctx.restore();
  if (map.kind === "patching") markCell(ctx, g, map.edited, "#8a6400", true);  // the corruption's cell
}

function drawMapLegend() {
  const map = state.map, box = $("map-legend");
  box.hidden = !map;
  if (!map) return;
  const bar = $("map-bar"), ctx = bar.getContext("2d");
  for (let i = 0; i < bar.width; i++) {
    const t = i / (bar.width - 1);
    ctx.fillStyle = map.signed ? ramp(DIVERGING, t) : ramp(VIRIDIS, t);
    ctx.fillRect(i, 0, 1, bar.height);
  }
  const fmt = (v) => (Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : v.toFixed(2));
  $("map-low").textContent = fmt(map.low);
  $("map-high").textContent = fmt(map.high);
  $("map-caption").textContent = map.caption + (map.signed ? " (red: positive, blue: negative)" : "")
    + (map.kind === "patching" ? "; dashed gold box: the cell the corruption edited" : "");
  $("map-notes").textContent = [...map.notes, `${map.compute_ms.toFixed(0)} ms`].join("; ");
}

function drawPath(ctx, g, path, stroke, alpha) {
  if (path.length < 2) return;
  ctx.save();
  ctx.globalAlpha = alpha;
  ctx.strokeStyle = stroke; ctx.lineWidth = g.cell * 0.55;
  ctx.lineJoin = "round"; ctx.lineCap = "round";
  ctx.beginPath();
  path.forEach((c, i) => { const [x, y] = centre(g, c); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
  ctx.stroke();
  ctx.restore();
}

function markCell(ctx, g, c, stroke, dashed) {
  const [x, y] = centre(g, c), h = g.cell / 2 - 1.5;
  ctx.save();
  ctx.strokeStyle = stroke; ctx.lineWidth = 2.5;
  if (dashed) ctx.setLineDash([4, 3]);
  ctx.strokeRect(x - h, y - h, 2 * h, 2 * h);
  ctx.restore();
}

function drawArrows(ctx, g) {
  const { probs, kind } = shownProbs();
  const nets = probs.map((p) => [p[4] - p[0], p[3] - p[1]]);
  let scale = 1;
  if (kind === "diff") {
    const top = Math.max(1e-9, ...nets.map(([a, b]) => Math.hypot(a, b)));
    scale = 1 / top;
    $("compute").textContent = `difference arrows scaled x${scale.toFixed(1)}`;
  }
  ctx.save();
  ctx.strokeStyle = ctx.fillStyle = colour(kind);
  ctx.lineCap = "round";
  const width = Math.max(1.5, g.cell * 0.085);
  state.field.cells.forEach((c, i) => {
    const [dx, dy] = nets[i].map((v) => v * scale);
    const length = Math.hypot(dx, dy) * g.cell * 0.9;
    if (length < 1) return;
    const [x, y] = centre(g, c), ux = dx / Math.hypot(dx, dy), uy = -dy / Math.hypot(dx, dy);
    const x0 = x - ux * length / 2, y0 = y - uy * length / 2;
    const x1 = x + ux * length / 2, y1 = y + uy * length / 2;
    const head = Math.min(length * 0.45, Math.max(4, g.cell * 0.3));
    ctx.lineWidth = width;
    ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1 - ux * head * 0.6, y1 - uy * head * 0.6);
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - ux * head - uy * head * 0.5, y1 - uy * head + ux * head * 0.5);
    ctx.lineTo(x1 - ux * head + uy * head * 0.5, y1 - uy * head - ux * head * 0.5);
    ctx.closePath(); ctx.fill();
  });
  ctx.restore();
}

function drawCheese(ctx, g, c) {
  const [x, y] = centre(g, c), r = g.cell * 0.36;
  ctx.save();
  ctx.fillStyle = "#ffc928"; ctx.strokeStyle = "#8a6400"; ctx.lineWidth = 1.5;
  ctx.beginPath(); ctx.moveTo(x - r, y + r * 0.7); ctx.lineTo(x + r, y + r * 0.7);
  ctx.lineTo(x + r, y - r * 0.2); ctx.lineTo(x - r, y - r * 0.9); ctx.closePath();
  ctx.fill(); ctx.stroke();
  ctx.fillStyle = "#d9a400";
  [[0.3, 0.25], [-0.35, 0.2], [0.55, -0.05]].forEach(([a, b]) => {
    ctx.beginPath(); ctx.arc(x + a * r, y + b * r, r * 0.13, 0, 2 * Math.PI); ctx.fill();
  });
  ctx.restore();
}

function drawMouse(ctx, g, c, fill) {
  const [x, y] = centre(g, c), r = g.cell * 0.3;
  ctx.save();
  ctx.fillStyle = fill; ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5;
  for (const side of [-1, 1]) {
    ctx.beginPath(); ctx.arc(x + side * r * 0.75, y - r * 0.8, r * 0.45, 0, 2 * Math.PI);
    ctx.fill(); ctx.stroke();
  }
  ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
  ctx.restore();
}

function drawEpisode(ctx, g) {
  const ep = state.episode;
  if (!ep) return;
  const runs = [[ep.original, "#444", -0.12]];
  if (ep.patched) runs.push([ep.patched, colour("patched"), 0.12]);
  for (const [run, stroke, shift] of runs) {
    const path = run.path.slice(0, state.step + 1);
    ctx.save();
    ctx.strokeStyle = stroke; ctx.lineWidth = Math.max(2, g.cell * 0.12);
    ctx.globalAlpha = 0.8; ctx.lineJoin = "round";
    ctx.beginPath();
    path.forEach((c, i) => {
      const [x, y] = centre(g, c).map((v) => v + shift * g.cell);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
    ctx.restore();
  }
}

const pct = (p) => (p === null || p === undefined ? "–" : p.toFixed(3));

function drawReadout() {
  const f = state.field, o = f.decision_original, p = f.decision_patched;
  for (const [id, key] of [["p-cheese", "p_cheese"], ["p-topright", "p_topright"]]) {
    const el = $(id);
    el.dataset.original = o ? o[key] : "";
    el.dataset.patched = p ? p[key] : "";
    el.innerHTML = !o ? "–" : p ? `${pct(o[key])} &rarr; <b class="patched">${pct(p[key])}</b>`
      : `<b>${pct(o[key])}</b>`;
  }
  $("readout-note").textContent = o ? `at the decision square (${f.maze.decision_square})`
    : f.maze.cheese ? "no decision square in this maze" : "no cheese";
  if (state.ui.show !== "diff") $("compute").textContent = `${f.compute_ms.toFixed(0)} ms`;
  drawHover();
}

function drawHover() {
  const f = state.field, h = state.hover, box = $("hover");
  const i = h ? f.cells.findIndex((c) => c[0] === h[0] && c[1] === h[1]) : -1;
  if (i < 0) { box.textContent = h ? `cell (${h}): no field here` : "hover a cell to read its move probabilities"; return; }
  const row = (name, p) => `<tr><th>${name}</th>${p.map((v) => `<td>${v.toFixed(3)}</td>`).join("")}</tr>`;
  const map = state.map, value = map && map.grid.length === f.maze.maze_dim
    ? map.grid[f.maze.maze_dim - 1 - h[1]][h[0]] : null;
  box.innerHTML = `<table><tr><th>(${h})</th>${MOVES.map((m) => `<th>${m}</th>`).join("")}</tr>`
    + row("original", f.original[i]) + (f.patched ? row("patched", f.patched[i]) : "")
    + (value === null ? "" : `<tr><th>${map.kind} map</th><td>${value.toFixed(3)}</td></tr>`) + "</table>";
}

function drawActivations() {
  const a = state.acts, show = state.ui.show;
  let map = a.original;
  if (a.patched && show === "patched") map = a.patched;
  if (a.patched && show === "diff") map = a.patched.map((r, i) => r.map((v, j) => v - a.original[i][j]));
  const side = map.length, canvas = $("act-map"), ctx = canvas.getContext("2d");
  const px = canvas.width / side;
  const top = Math.max(1e-6, ...map.flat().map(Math.abs));
  map.forEach((r, i) => r.forEach((v, j) => {
    const t = v / top, w = Math.round(255 * (1 - Math.abs(t)));
    ctx.fillStyle = t >= 0 ? `rgb(255,${w},${w})` : `rgb(${w},${w},255)`;
    ctx.fillRect(j * px, i * px, Math.ceil(px), Math.ceil(px));
  }));
  const box = (cell, stroke) => {
    if (!cell) return;
    ctx.strokeStyle = stroke; ctx.lineWidth = 2;
    ctx.strokeRect(cell[1] * px + 1, cell[0] * px + 1, px - 2, px - 2);
  };
  box(a.cheese_cell, "#d99a00");
  box(a.mouse_cell, "#222");
  const lo = Math.min(...map.flat()), hi = Math.max(...map.flat());
  $("act-range").textContent = `${a.layer.replace("embedder.", "")} ch ${a.channel}: ${lo.toFixed(2)} to ${hi.toFixed(2)}`
    + " (black box: mouse, gold: cheese)";
  const list = $("ranked");
  list.innerHTML = "";
  a.ranked.forEach((r) => {
    const li = document.createElement("li");
    li.textContent = `ch ${r.channel} · ${r.score.toFixed(2)}`;
    if (r.channel === a.channel) li.className = "current";
    li.onclick = () => { state.ui.actChannel = r.channel; syncControls(); saveURL(); loadActivations(); };
    list.appendChild(li);
  });
}

// ---------- controls ---------------------------------------------------------------

function syncControls() {
  const v = state.view, iv = v.interventions, ui = state.ui;
  $("level").value = v.level;
  $("mode").value = v.mode;
  $("toggle-cheese").textContent = v.edits.remove_cheese ? "restore cheese" : "remove cheese";
  document.querySelector(`input[name=show][value=${ui.show}]`).checked = true;
  $("show-paths").checked = ui.paths;
  $("iv-layer").value = iv.layer;
  $("cv-coeff").value = $("cv-coeff-num").value = iv.cheese_vector.coeff;
  $("cv-source").value = iv.cheese_vector.level === null ? "this" : "level";
  $("cv-level").disabled = iv.cheese_vector.level === null;
  if (iv.cheese_vector.level !== null) $("cv-level").value = iv.cheese_vector.level;
  $("tr-coeff").value = $("tr-coeff-num").value = iv.top_right;
  $("clamp-on").checked = Boolean(iv.clamp);
  if (iv.clamp) {
    $("clamp-channel").value = iv.clamp.channel;
    $("clamp-value").value = iv.clamp.value;
    $("clamp-cell").textContent = `(${iv.clamp.cell})`;
  }
  $("ablate-on").checked = Boolean(iv.ablate);
  if (iv.ablate) {
    $("ablate-channels").value = iv.ablate.channels.join(",");
    $("ablate-kind").value = iv.ablate.mean ? "mean" : "zero";
  }
  const layer = state.info.layers.find((l) => l.name === ui.actLayer) || state.info.layers[0];
  $("act-layer").value = layer.name;
  const channels = $("act-channel");
  if (channels.options.length !== layer.channels) {
    channels.innerHTML = "";
    for (let c = 0; c < layer.channels; c++) channels.add(new Option(String(c), String(c)));
  }
  channels.value = String(ui.actChannel);
  $("ep-seed").value = ui.seed;
  document.querySelector(`input[name=map][value=${ui.map}]`).checked = true;
  $("map-baseline").value = ui.baseline;
  $("map-corruption").value = ui.corruption;
  $("map-target").value = ui.target;
  $("map-baseline").disabled = ui.map !== "attribution";
  $("map-corruption").disabled = ui.map !== "patching";
  $("map-target").disabled = ui.map !== "attribution" && ui.map !== "patching";
}

function clampSpec(cell) {
  return { channel: Number($("clamp-channel").value), value: Number($("clamp-value").value), cell };
}

function ablateSpec() {
  const channels = $("ablate-channels").value.split(/[\s,]+/).filter(Boolean).map(Number);
  return { channels, mean: $("ablate-kind").value === "mean" };
}

function cellAt(event) {
  const g = geometry(), rect = $("maze").getBoundingClientRect();
  const x = Math.floor((event.clientX - rect.left) / g.cell);
  const row = Math.floor((event.clientY - rect.top) / g.cell);
  return x >= 0 && x < g.n && row >= 0 && row < g.n ? [x, g.n - 1 - row] : null;
}

function onClick(event) {
  const cell = cellAt(event);
  if (!cell) return;
  const tool = document.querySelector("input[name=tool]:checked").value;
  change((v) => {
    if (tool === "cheese") { v.edits.cheese = cell; v.edits.remove_cheese = false; }
    if (tool === "mouse") v.edits.mouse = cell;
    if (tool === "clamp") v.interventions.clamp = clampSpec(cell);
    if (tool === "wall") {
      const walls = v.edits.walls, i = walls.findIndex((c) => c[0] === cell[0] && c[1] === cell[1]);
      if (i >= 0) walls.splice(i, 1); else walls.push(cell);
    }
  });
}

function bindSlider(range, number, set) {
  range.addEventListener("input", () => {
    number.value = range.value;
    change((v) => set(v, Number(range.value)), 150);
  });
  number.addEventListener("change", () => change((v) => set(v, Number(number.value))));
}

function bind() {
  const canvas = $("maze");
  canvas.addEventListener("click", onClick);
  canvas.addEventListener("mousemove", (e) => { state.hover = cellAt(e); drawHover(); });
  canvas.addEventListener("mouseleave", () => { state.hover = null; drawHover(); });
  $("level").addEventListener("change", () => change((v) => newLevel(v, Number($("level").value))));
  $("prev").onclick = () => change((v) => newLevel(v, Math.max(0, v.level - 1)));
  $("next").onclick = () => change((v) => newLevel(v, v.level + 1));
  $("mode").addEventListener("change", () => change((v) => { newLevel(v, v.level); v.mode = $("mode").value; }));
  $("toggle-cheese").onclick = () => change((v) => { v.edits.remove_cheese = !v.edits.remove_cheese; });
  $("reset-edits").onclick = () => change((v) => { newLevel(v, v.level); });
  document.querySelectorAll("input[name=show]").forEach((r) => r.addEventListener("change", () => {
    state.ui.show = r.value; saveURL(); draw(); if (state.acts) drawActivations();
  }));
  $("show-paths").addEventListener("change", () => { state.ui.paths = $("show-paths").checked; saveURL(); draw(); });
  $("iv-layer").addEventListener("change", () => change((v) => { v.interventions.layer = $("iv-layer").value; }));
  bindSlider($("cv-coeff"), $("cv-coeff-num"), (v, x) => { v.interventions.cheese_vector.coeff = x; });
  bindSlider($("tr-coeff"), $("tr-coeff-num"), (v, x) => { v.interventions.top_right = x; });
  const cvSource = () => change((v) => {
    v.interventions.cheese_vector.level = $("cv-source").value === "this" ? null : Number($("cv-level").value);
  });
  $("cv-source").addEventListener("change", cvSource);
  $("cv-level").addEventListener("change", cvSource);
  const clampChanged = () => change((v) => {
    const old = v.interventions.clamp;
    v.interventions.clamp = $("clamp-on").checked ? clampSpec(old ? old.cell : v.edits.cheese || state.field.maze.cheese || [0, 0]) : null;
  }, 150);
  ["clamp-on", "clamp-channel", "clamp-value"].forEach((id) => $(id).addEventListener("change", clampChanged));
  const ablateChanged = () => change((v) => { v.interventions.ablate = $("ablate-on").checked ? ablateSpec() : null; });
  ["ablate-on", "ablate-channels", "ablate-kind"].forEach((id) => $(id).addEventListener("change", ablateChanged));
  $("act-layer").addEventListener("change", () => {
    state.ui.actLayer = $("act-layer").value; state.ui.actChannel = 0;
    syncControls(); saveURL(); loadActivations();
  });
  $("act-channel").addEventListener("change", () => {
    state.ui.actChannel = Number($("act-channel").value); saveURL(); loadActivations();
  });
  $("ep-seed").addEventListener("change", () => { state.ui.seed = Number($("ep-seed").value); saveURL(); });
  const mapChanged = () => {
    const ui = state.ui;
    ui.map = document.querySelector("input[name=map]:checked").value;
    ui.baseline = $("map-baseline").value;
    ui.corruption = $("map-corruption").value;
    ui.target = $("map-target").value;
    syncControls(); saveURL(); loadMap();
  };
  document.querySelectorAll("input[name=map]").forEach((r) => r.addEventListener("change", mapChanged));
  ["map-baseline", "map-corruption", "map-target"].forEach((id) => $(id).addEventListener("change", mapChanged));
  $("ep-run").onclick = runEpisode;
  $("ep-play").onclick = play;
  $("ep-step").addEventListener("input", () => { state.step = Number($("ep-step").value); draw(); });
  $("copy-link").onclick = () => copy(location.href, "link copied");
  $("copy-python").onclick = copyPython;
  $("save-png").onclick = savePNG;
}

function newLevel(v, level) {
  v.level = level;
  v.edits = { walls: [], mouse: null, cheese: null, remove_cheese: false };
  if (v.interventions.clamp) v.interventions.clamp = null;
}

async function runEpisode() {
  busy(true);
  try {
    state.episode = await api("episode", "/api/episode",
      { view: state.view, seed: state.ui.seed, max_steps: 250 });
    const e = state.episode, longest = Math.max(e.original.steps, e.patched ? e.patched.steps : 0);
    const say = (run) => `${run.reached_cheese ? "reached the cheese" : "no cheese"} in ${run.steps} steps`;
    $("ep-summary").innerHTML = `original: ${say(e.original)}`
      + (e.patched ? `; <span style="color:${colour("patched")}">patched: ${say(e.patched)}</span>` : "");
    $("ep-step").max = longest; $("ep-step").disabled = false; $("ep-play").disabled = false;
    state.step = 0;
    play();
  } catch (err) {
    if (err.name !== "AbortError") message(`episode: ${err.message}`);
  }
  busy(false);
}

function play() {
  clearInterval(timers.play);
  if (state.step >= Number($("ep-step").max)) state.step = 0;
  timers.play = setInterval(() => {
    if (!state.episode || state.step >= Number($("ep-step").max)) { clearInterval(timers.play); return; }
    state.step += 1; $("ep-step").value = state.step; draw();
  }, 70);
}

async function copy(text, done) {
  try { await navigator.clipboard.writeText(text); message(done, true); } catch { message("copy failed: select and copy by hand", true); }
}

async function copyPython() {
  try {
    const { code } = await api("python", "/api/python", state.view);
    $("python-code").value = code;
    $("python-dialog").showModal();
    copy(code, "Python copied");
  } catch (err) {
    if (err.name !== "AbortError") message(err.message);
  }
}

function savePNG() {
  $("maze").toBlob((blob) => {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `maze-level${state.view.level}-${state.ui.show}.png`;
    a.click();
    URL.revokeObjectURL(a.href);
  });
}

async function start() {
  state.info = await api("info", "/api/info");
  $("policy").textContent = `policy ${state.info.policy} (scale ${state.info.scale})`;
  for (const id of ["iv-layer", "act-layer"]) {
    state.info.layers.forEach((l) => $(id).add(new Option(`${l.name.replace("embedder.", "")} (${l.channels}x${l.size}x${l.size})`, l.name)));
  }
  bind();
  const wanted = viewFromURL();
  state.view = defaultView();
  syncControls();
  await submit(wanted);
  if (!state.field) await submit(defaultView());
}

start();
