// The interactive neuron view: the compiled stages' forward pass, as nngraph's runtime runs it,
// recoloured on every input change. Reads its data from the JSON block #net; fetches nothing.
"use strict";
(function () {
  const net = JSON.parse(document.getElementById("net").textContent);

  function bytes(b64) {
    const s = atob(b64), out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out.buffer;
  }
  const f32 = (b) => new Float32Array(bytes(b));
  const i32 = (b) => new Int32Array(bytes(b));
  const stages = net.stages.map((st) => ({
    neurons: i32(st.neurons), bias: f32(st.bias), segments: st.segments,
    blocks: st.blocks.map((b) => ({
      src: b.src, rows: b.rows === null ? null : i32(b.rows), dense: b.dense, shape: b.shape,
      W: b.dense ? f32(b.W) : null,
      indptr: b.dense ? null : i32(b.indptr), indices: b.dense ? null : i32(b.indices),
      data: b.dense ? null : f32(b.data),
    })),
  }));

  // -- activations: the formulas of nngraph.activations, element by element --------------------
  const clip = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
  const SELU_L = 1.0507009873554804934193349852946, SELU_A = 1.6732632423543772848170429916717;
  const ACT = {
    linear: (z) => z,
    step: (z) => (z > 0 ? 1 : 0),
    sign: (z) => (z >= 0 ? 1 : -1),
    sigmoid: (z) => { const e = Math.exp(-Math.abs(z)); return (z >= 0 ? 1 : e) / (1 + e); },
    tanh: Math.tanh,
    relu: (z) => Math.max(z, 0),
    leaky_relu: (z, a) => (z >= 0 ? z : (a === null ? 0.01 : a) * z),
    elu: (z, a) => (z > 0 ? z : (a === null ? 1 : a) * Math.expm1(Math.min(z, 0))),
    softplus: (z) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))),
    selu: (z) => (z > 0 ? SELU_L * z : SELU_L * SELU_A * Math.expm1(Math.min(z, 0))),
    clamped: (z) => clip(z, -1, 1),
    abs: Math.abs,
    square: (z) => z * z,
    cube: (z) => z * z * z,
    hat: (z) => Math.max(0, 1 - Math.abs(z)),
    neat_sigmoid: (z) => 1 / (1 + Math.exp(-clip(5 * z, -60, 60))),
    neat_tanh: (z) => Math.tanh(clip(2.5 * z, -60, 60)),
    neat_sin: (z) => Math.sin(clip(5 * z, -60, 60)),
    neat_gauss: (z) => Math.exp(-5 * clip(z, -3.4, 3.4) ** 2),
    neat_softplus: (z) => 0.2 * Math.log1p(Math.exp(clip(5 * z, -60, 60))),
    neat_exp: (z) => Math.exp(clip(z, -60, 60)),
    neat_log: (z) => Math.log(Math.max(z, 1e-7)),
    neat_inv: (z) => (z === 0 ? 0 : 1 / z),
  };

  function softmax(Z, lo, hi) {
    let m = -Infinity, s = 0;
    for (let i = lo; i < hi; i++) m = Math.max(m, Z[i]);
    for (let i = lo; i < hi; i++) { Z[i] = Math.exp(Z[i] - m); s += Z[i]; }
    for (let i = lo; i < hi; i++) Z[i] /= s;
  }

  // -- the forward pass: stage by stage, Z = f(sum of A_src[rows] W + b) ----------------------
  function forward(x) {
    const bufs = [Float64Array.from(x)];
    const pre = new Float64Array(net.n), act = new Float64Array(net.n);
    const s0 = stages[0].neurons;
    for (let k = 0; k < s0.length; k++) { pre[s0[k]] = act[s0[k]] = x[k]; }
    for (let s = 1; s < stages.length; s++) {
      const st = stages[s], w = st.neurons.length, Z = new Float64Array(w);
      for (let j = 0; j < w; j++) Z[j] = st.bias[j];
      for (const b of st.blocks) {
        const A = bufs[b.src];
        if (b.dense) {
          const r = b.shape[0];
          for (let i = 0; i < r; i++) {
            const a = A[b.rows === null ? i : b.rows[i]];
            if (a === 0) continue;
            const off = i * w;
            for (let j = 0; j < w; j++) Z[j] += a * b.W[off + j];
          }
        } else {  // CSR of the transpose: a row per neuron of this stage
          for (let j = 0; j < w; j++) {
            let acc = 0;
            for (let k = b.indptr[j]; k < b.indptr[j + 1]; k++) {
              const c = b.indices[k];
              acc += b.data[k] * A[b.rows === null ? c : b.rows[c]];
            }
            Z[j] += acc;
          }
        }
      }
      for (let j = 0; j < w; j++) pre[st.neurons[j]] = Z[j];
      for (const [name, alpha, lo, hi] of st.segments) {
        if (name === "softmax") softmax(Z, lo, hi);
        else if (name !== "linear") { const f = ACT[name]; for (let j = lo; j < hi; j++) Z[j] = f(Z[j], alpha); }
      }
      for (let j = 0; j < w; j++) act[st.neurons[j]] = Z[j];
      bufs.push(Z);
    }
    return { pre, act, outputs: net.outputs.map((g) => act[g]) };
  }

  // -- drawing ------------------------------------------------------------------------------
  const svg = document.querySelector("#view svg");
  const POS = "#2166ac", NEG = "#c0392b", GREY = "#9e9e9e";
  const WHITE = [255, 255, 255], BLUE = [67, 147, 195], RED = [214, 96, 77];
  function colour(v, scale) {
    const t = Number.isFinite(v) ? Math.max(-1, Math.min(1, v / scale)) : 0;
    const to = t >= 0 ? BLUE : RED;
    return "#" + WHITE.map((c, i) => Math.round(c + Math.abs(t) * (to[i] - c)).toString(16).padStart(2, "0")).join("");
  }
  function short(v) {
    let s = String(Number(v.toPrecision(2)));
    if (s.length > 5) s = v.toExponential(0).replace("e+", "e");
    return s.length > 5 ? "\u2026" : s;
  }
  const fmt = (v) => String(Number(v.toPrecision(8)));
  const nodes = Array.from(svg.querySelectorAll("g.node")).map((el) => ({
    el, g: Number(el.id.slice(1)), circle: el.querySelector("circle"), text: el.querySelector("text"),
  }));
  const points = (el) => el.getAttribute("points").trim().split(/\s+/).map((p) => p.split(",").map(Number));
  const edges = Array.from(svg.querySelectorAll("g.edge")).map((el) => {
    const line = el.querySelector("polyline"), head = el.querySelector("polygon");
    const route = points(line).slice(0, -1).concat([points(head)[0]]);  // the line as routed, to the tip
    return { el, a: Number(el.dataset.from.slice(1)), b: Number(el.dataset.to.slice(1)),
      w: el.dataset.w === undefined ? null : Number(el.dataset.w), line, head, route };
  });
  // the line shortened by an arrowhead sized for its width, and the head's corners (as nngraph.draw.emit.arrow)
  function arrow(e, width) {
    const pts = e.route, [xa, ya] = pts[pts.length - 2], [xb, yb] = pts[pts.length - 1];
    const d = Math.hypot(xb - xa, yb - ya) || 1, ux = (xb - xa) / d, uy = (yb - ya) / d;
    const length = Math.min(5 + 1.2 * width, 0.6 * d), half = length * 0.4;
    const bx = xb - ux * length, by = yb - uy * length;
    const text = (ps) => ps.map(([px, py]) => px.toFixed(1) + "," + py.toFixed(1)).join(" ");
    e.line.setAttribute("points", text(pts.slice(0, -1).concat([[bx, by]])));
    e.head.setAttribute("points", text([[xb, yb], [bx - uy * half, by + ux * half], [bx + uy * half, by - ux * half]]));
  }
  let state = null;
  const api = { lastMs: 0, selected: null, redrawPad: null };

  function paint(r) {
    let scale = 0;
    for (let g = 0; g < net.n; g++) if (Number.isFinite(r.act[g])) scale = Math.max(scale, Math.abs(r.act[g]));
    scale = scale > 0 ? scale : 1;
    for (const n of nodes) {
      const v = r.act[n.g];
      n.circle.setAttribute("fill", colour(v, scale));
      if (n.text) n.text.textContent = short(v);
    }
    let top = 0;
    for (const e of edges) if (e.w !== null) top = Math.max(top, Math.abs(e.w * r.act[e.a]));
    top = top > 0 ? top : 1;
    for (const e of edges) {
      if (e.w === null || e.el.classList.contains("cycle")) continue;
      const s = e.w * r.act[e.a], rel = Math.abs(s) / top;
      const c = s === 0 ? GREY : s > 0 ? POS : NEG;
      e.line.setAttribute("stroke", c);
      const width = 0.4 + 2.6 * rel;
      e.line.setAttribute("stroke-width", width.toFixed(2));
      arrow(e, width);
      e.line.setAttribute("stroke-opacity", (0.25 + 0.75 * rel).toFixed(2));
      e.head.setAttribute("fill", c);
      e.head.setAttribute("fill-opacity", (0.25 + 0.75 * rel).toFixed(2));
    }
    const lo = document.getElementById("bar-lo"), hi = document.getElementById("bar-hi");
    if (lo) lo.textContent = short(-scale);
    if (hi) hi.textContent = short(scale);
    net.outputs.forEach((g, k) => { document.getElementById("out" + k).textContent = fmt(r.act[g]); });
  }

  function readInputs() {
    return Array.from(document.querySelectorAll("input.x")).map((el) => {
      const v = Number(el.value);
      return Number.isFinite(v) ? v : 0;
    });
  }
  let x = net.x0.slice();
  function recompute() {
    const t0 = performance.now();
    state = forward(x);
    paint(state);
    api.lastMs = performance.now() - t0;
    document.getElementById("timing").textContent = "recomputed in " + api.lastMs.toFixed(1) + " ms";
  }

  // -- input controls -----------------------------------------------------------------------
  for (const el of document.querySelectorAll("input.x, input.xs")) {
    el.addEventListener("input", () => {
      const k = Number(el.dataset.col);
      for (const other of document.querySelectorAll(`input[data-col="${k}"]`)) if (other !== el) other.value = el.value;
      x[k] = Number.isFinite(Number(el.value)) ? Number(el.value) : 0;
      recompute();
    });
  }
  const pad = document.getElementById("pad");
  if (pad) {
    const side = Number(pad.dataset.side), ctx = pad.getContext("2d"), cell = pad.width / side;
    const draw = () => {
      ctx.fillStyle = "#000"; ctx.fillRect(0, 0, pad.width, pad.height);
      for (let k = 0; k < side * side; k++) {
        const v = Math.max(0, Math.min(1, x[k])), c = Math.round(255 * v);
        ctx.fillStyle = `rgb(${c},${c},${c})`;
        ctx.fillRect((k % side) * cell, Math.floor(k / side) * cell, cell, cell);
      }
    };
    let down = false;
    const paintAt = (ev) => {
      const box = pad.getBoundingClientRect();
      const cx = ((ev.clientX - box.left) / box.width) * side, cy = ((ev.clientY - box.top) / box.height) * side;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const px = Math.floor(cx + dx), py = Math.floor(cy + dy);
        if (px < 0 || py < 0 || px >= side || py >= side) continue;
        const d = Math.hypot(px + 0.5 - cx, py + 0.5 - cy), k = py * side + px;
        x[k] = Math.max(x[k], Math.max(0, 1 - d / 1.5));
      }
      draw(); recompute();
    };
    pad.addEventListener("mousedown", (ev) => { down = true; paintAt(ev); });
    window.addEventListener("mouseup", () => { down = false; });
    pad.addEventListener("mousemove", (ev) => { if (down) paintAt(ev); });
    document.getElementById("clear").addEventListener("click", () => { x = x.map(() => 0); draw(); recompute(); });
    api.redrawPad = draw;
    draw();
  }

  // -- hover, click, pan and zoom -----------------------------------------------------------
  const info = document.getElementById("info");
  function describe(el) {
    const tip = el.querySelector("title").textContent;
    if (!state) return tip;
    if (el.classList.contains("node")) {
      const g = Number(el.id.slice(1));
      return tip + "\npre-activation = " + fmt(state.pre[g]) + "\nactivation = " + fmt(state.act[g]);
    }
    const e = edges.find((d) => d.el === el);
    return e && e.w !== null ? tip + "\nsignal = w \u00d7 source activation = " + fmt(e.w * state.act[e.a]) : tip;
  }
  svg.addEventListener("mouseover", (ev) => {
    const el = ev.target.closest("g.node, g.edge");
    if (el) info.textContent = describe(el);
  });
  function highlight(id) {
    svg.classList.toggle("focus", id !== null);
    const keep = new Set(id === null ? [] : [id]);
    for (const e of edges) {
      const on = id !== null && (e.el.dataset.from === id || e.el.dataset.to === id);
      e.el.classList.toggle("on", on);
      if (on) { keep.add(e.el.dataset.from); keep.add(e.el.dataset.to); }
    }
    for (const n of nodes) n.el.classList.toggle("on", keep.has(n.el.id));
  }
  svg.addEventListener("click", (ev) => {
    const el = ev.target.closest("g.node");
    highlight(el ? el.id : null);
    api.selected = el ? el.id : null;
  });
  const box0 = svg.viewBox.baseVal;
  let vb = [box0.x, box0.y, box0.width, box0.height];
  const setView = () => svg.setAttribute("viewBox", vb.map((v) => v.toFixed(2)).join(" "));
  svg.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = svg.getBoundingClientRect(), k = ev.deltaY < 0 ? 1 / 1.15 : 1.15;
    const px = vb[0] + ((ev.clientX - r.left) / r.width) * vb[2], py = vb[1] + ((ev.clientY - r.top) / r.height) * vb[3];
    vb = [px - (px - vb[0]) * k, py - (py - vb[1]) * k, vb[2] * k, vb[3] * k];
    setView();
  }, { passive: false });
  let drag = null;
  svg.addEventListener("mousedown", (ev) => { drag = [ev.clientX, ev.clientY, vb[0], vb[1]]; });
  window.addEventListener("mouseup", () => { drag = null; });
  window.addEventListener("mousemove", (ev) => {
    if (!drag) return;
    const r = svg.getBoundingClientRect();
    vb[0] = drag[2] - ((ev.clientX - drag[0]) / r.width) * vb[2];
    vb[1] = drag[3] - ((ev.clientY - drag[1]) / r.height) * vb[3];
    setView();
  });
  svg.addEventListener("dblclick", () => { vb = [box0.x, box0.y, box0.width, box0.height]; setView(); });

  // -- a small API for scripts and tests ----------------------------------------------------
  Object.assign(api, {
    forward: (xs) => forward(xs),
    setInputs(xs) {
      x = Array.from(xs, Number);
      for (const el of document.querySelectorAll("input.x, input.xs")) el.value = x[Number(el.dataset.col)];
      if (api.redrawPad) api.redrawPad();
      recompute();
    },
    outputs: () => (state ? Array.from(state.outputs) : null),
  });
  window.nngraph = api;
  recompute();
  document.body.dataset.ready = "1";
})();
