// Draws a graph view from the JSON in #graph-data with vis-network, then freezes physics.
// Memory text (agents write titles and summaries) is only ever set with textContent, never as HTML.
// vis-network's own title tooltip is not used: it is placed outside the canvas and clipped there.
(function () {
  "use strict";
  const root = document.querySelector("[data-graph]");
  if (!root || !window.vis) return;
  const container = document.getElementById("graph-canvas");
  const stage = root.querySelector("[data-stage]");
  const payload = JSON.parse(document.getElementById("graph-data").textContent);
  const panel = document.getElementById("graph-panel");
  const twin = document.getElementById("twin");
  const undoButton = root.querySelector("[data-undo]");
  const expansions = [];  // stack of {node, nodes: [...ids added], edges: [...ids added]}
  // Below LABEL_ZOOM only the important nodes may be labelled; above EDGE_ZOOM edges name their type.
  // Labels aim at LABEL_PX on screen whatever the zoom, and one that would overlap another is left out.
  const LABEL_ZOOM = 1.25, EDGE_ZOOM = 1.6, LABEL_PX = 14, GROUP_ABOVE = 150;
  const style = getComputedStyle(container);
  const fg = style.color, bg = style.backgroundColor;
  const danger = getComputedStyle(document.documentElement).getPropertyValue("--danger").trim() || "#b3261e";
  let colourBy = "type", edgesNamed = false, labelSize = 12;

  // Node dicts as vis wants them; what we need of the original is kept on the node itself.
  function prepare(node) {
    if (node.fullLabel === undefined) {
      node.fullLabel = node.label;
      node.tip = node.title || "";
      node.typeColor = node.color;
      node.label = "";  // relabel() decides, once the layout is known
      delete node.title;
    }
    // Every shape has a rim in the text colour: the light type colours and a few community hues
    // are under 3:1 against one of the two themes' canvas, the rim is well over it in both.
    const fill = colourBy === "community" && node.community_color ? node.community_color : node.typeColor;
    // Rims keep their width on screen, as labels do, but never swallow a small node. An unsolved
    // problem glows in the danger colour besides its thick rim: dashes on a polygon's rim ran into
    // a fuzz at an overview's zoom, the glow (blurred in screen pixels) shows at any.
    const open = node.role === "open" && !node.center, border = open ? danger : fg;
    const unit = labelSize / LABEL_PX;
    const width = node.center ? 5 : open ? 3 : 1.5;
    node.borderWidth = Math.min(width * unit, (node.size || 10) * (width > 2 ? 0.3 : 0.15));
    if (open) node.shadow = { enabled: true, color: danger, size: 14, x: 0, y: 0 };
    node.color = { background: fill, border, highlight: { background: fill, border }, hover: { background: fill, border } };
    if (node.center) node.font = { color: fg, strokeWidth: labelSize / 3, strokeColor: bg };
    return node;
  }
  function prepareEdge(edge) {
    if (edge.tip === undefined) { edge.tip = edge.title || edge.rel_type || ""; delete edge.title; }
    edge.label = edgesNamed ? String(edge.rel_type || "") : "";
    return edge;
  }

  const nodes = new vis.DataSet(payload.nodes.map(prepare));
  const edges = new vis.DataSet(payload.edges.map(prepareEdge));
  // Labels in the page's text colour (vis's default grey is unreadable in dark mode), with a halo
  // of the canvas background so the edges crossing a label do not hide it.
  const options = payload.options || {};
  options.nodes = { ...options.nodes, font: { ...options.nodes?.font, color: fg, strokeWidth: 3, strokeColor: bg } };
  options.edges = { ...options.edges, font: { size: 10, color: fg, strokeWidth: 3, strokeColor: bg, align: "middle" } };
  const network = new vis.Network(container, { nodes, edges }, options);
  function count() { container.dataset.nodeCount = String(nodes.length); container.dataset.edgeCount = String(edges.length); }
  count();
  // vis's own fit after stabilising is off (render.py): it counts the labels (see fitView).
  network.once("stabilizationIterationsDone", () => {
    network.setOptions({ physics: false });
    fitView();
    relabel();
    const done = () => { container.dataset.stable = "1"; };
    // Grouping stabilises again: after this event's other listeners, or vis's end of this
    // stabilisation would be taken for the end of that one.
    if (payload.nodes.length > GROUP_ABOVE && communities().length > 1) setTimeout(() => group(true, done));
    else done();
  });
  const pinned = payload.options?.physics === false || payload.options?.physics?.enabled === false;
  if (pinned) {  // positions from the server (a path, a view past KB_GRAPH_PHYSICS_MAX): no stabilising
    network.once("afterDrawing", () => { fitView(); relabel(); container.dataset.stable = "1"; });
  }
  // A phone turned or a window resized: fit again. Not when the panel opening or closing
  // narrowed the canvas, which would move the node just clicked away from the pointer.
  let panelWas = false;
  new ResizeObserver(() => {
    const panelIs = stage.classList.contains("panel-open");
    if (panelIs !== panelWas) { panelWas = panelIs; return; }
    if (container.dataset.stable === "1") { fitView(); relabelSoon(); }
  }).observe(container);
  // Settle again after nodes were added or grouped, without vis's fit, then freeze.
  function settle(iterations, then, forces = payload.options?.physics?.barnesHut) {
    network.setOptions({ physics: { enabled: true, barnesHut: forces, stabilization: { iterations, fit: false } } });
    network.once("stabilizationIterationsDone", () => { network.setOptions({ physics: false }); then?.(); });
    network.stabilize(iterations);
  }
  window.kbGraph = { network, nodes, edges };

  // The tooltip: a box inside the canvas, at the pointer, kept within the canvas's edges.
  const tip = document.createElement("div");
  tip.className = "graph-tip";
  tip.hidden = true;
  tip.setAttribute("role", "tooltip");
  container.appendChild(tip);
  function showTip(parts, pointer) {
    tip.replaceChildren(...parts.filter((p) => p.text).map((p) => {
      const el = document.createElement(p.tag);
      el.className = p.className;
      el.textContent = p.text;
      return el;
    }));
    tip.hidden = false;
    const pad = 12, width = container.clientWidth, height = container.clientHeight;
    let x = pointer.x + pad, y = pointer.y + pad;
    if (x + tip.offsetWidth > width) x = Math.max(0, pointer.x - pad - tip.offsetWidth);
    if (y + tip.offsetHeight > height) y = Math.max(0, pointer.y - pad - tip.offsetHeight);
    tip.style.left = `${x}px`;
    tip.style.top = `${y}px`;
  }
  function nodeParts(node) {
    const [title, ...rest] = String(node.tip || node.fullLabel || "").split("\n\n");
    const kind = node.role === "open" ? `${node.type} · unsolved` : node.center ? `${node.type} · where the view starts` : node.type;
    return [{ tag: "strong", className: "tip-title", text: title }, { tag: "span", className: "tip-type", text: kind },
            { tag: "span", className: "tip-summary", text: rest.join("\n\n") }];
  }
  function pointerOf(params, id) {
    if (params.pointer) return params.pointer.DOM;
    const at = id !== undefined && network.getPositions([id])[id];
    return at ? network.canvasToDOM(at) : { x: 0, y: 0 };
  }
  network.on("hoverNode", (params) => {
    const node = nodes.get(params.node);
    if (node) showTip(nodeParts(node), pointerOf(params, params.node));
    else {  // a community gathered into one node
      showTip([{ tag: "strong", className: "tip-title", text: clusterLabel(params.node) },
               { tag: "span", className: "tip-type", text: "click to open it" }], pointerOf(params, params.node));
    }
  });
  network.on("hoverEdge", (params) => {
    const edge = edges.get(params.edge);
    if (edge) showTip([{ tag: "strong", className: "tip-title", text: edge.tip }], pointerOf(params));
  });
  ["blurNode", "blurEdge", "dragStart", "zoom"].forEach((name) => network.on(name, () => { tip.hidden = true; }));

  // Fit what is drawn by node positions alone: vis's fit() counts the labels, whose size follows the
  // zoom, so each fit would zoom out further.
  function fitView() {
    const ids = network.body.nodeIndices;
    const at = Object.values(network.getPositions(ids));
    if (!at.length) return;
    const xs = at.map((p) => p.x), ys = at.map((p) => p.y);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    // Labels hang below their nodes: more room at the foot than at the head.
    const side = 45, head = 35, foot = 65;
    const width = Math.max(container.clientWidth - 2 * side, 50), height = Math.max(container.clientHeight - head - foot, 50);
    const scale = Math.min(width / Math.max(x1 - x0, 1), height / Math.max(y1 - y0, 1), 1.5);
    network.moveTo({ position: { x: (x0 + x1) / 2, y: (y0 + y1) / 2 + (foot - head) / 2 / scale }, scale });
  }
  // Labels follow the zoom: the most important first, each only where it overlaps none shown.
  function priority(n) { return (n.center ? 1e6 : 0) + (n.role === "open" ? 1e5 : 0) + (n.important ? 1e4 : 0) + (n.size || 0); }
  function relabel() {
    const scale = network.getScale();
    // Edge labels too, a little smaller: drawn at graph size they grew to 22 px at 2x and hid the nodes.
    const size = Math.min(240, Math.max(3, LABEL_PX / scale));
    if (Math.abs(size - labelSize) > 0.1 * Math.min(size, labelSize)) {
      labelSize = size;
      network.setOptions({ nodes: { font: { size, strokeWidth: size / 4 } },
                           edges: { font: { size: size * 0.75, strokeWidth: size / 5 } } });
      nodes.update(nodes.get().map(prepare));
    }
    const px = size * scale, width = container.clientWidth, height = container.clientHeight;
    // What is drawn: memories, and communities gathered into one node (those label themselves first).
    const items = network.body.nodeIndices.map((id) => (network.isCluster(id)
      ? { id, cluster: true, fullLabel: clusterShort[id] || "", size: network.body.nodes[id].options.size, rank: 1e7 }
      : nodes.get(id))).filter((n) => n && (n.cluster || n.important || scale >= LABEL_ZOOM));
    items.sort((a, b) => (b.rank || priority(b)) - (a.rank || priority(a)) || (b.size || 0) - (a.size || 0));
    const positions = network.getPositions(items.map((n) => n.id));
    const boxes = [], shown = new Map(), charWidth = px * 0.56;
    items.forEach((n) => {
      if (!positions[n.id]) return;
      const p = network.canvasToDOM(positions[n.id]);
      const top = p.y + (n.size || 10) * scale + 2;
      if (p.y < 0 || top + px * 1.6 > height) return;
      // A label is centred under its node: cut to what fits before the nearer edge, never clipped there.
      const fits = Math.floor((2 * (Math.min(p.x, width - p.x) - 4)) / charWidth);
      const text = n.fullLabel.length <= fits ? n.fullLabel
        : fits >= 10 ? `${n.fullLabel.slice(0, fits - 1).trimEnd()}…` : "";
      if (!text) return;
      const w = text.length * charWidth;
      const box = [p.x - w / 2 - 2, top, p.x + w / 2 + 2, top + px * 1.3];
      if (boxes.some((b) => box[0] < b[2] && box[2] > b[0] && box[1] < b[3] && box[3] > b[1])) return;
      boxes.push(box);
      shown.set(n.id, text);
    });
    items.filter((n) => n.cluster).forEach((n) => network.clustering.updateClusteredNode(n.id, {
      label: shown.get(n.id) || "", font: { size: size * 1.1, color: fg, strokeWidth: 3, strokeColor: bg } }));
    const changes = nodes.get().filter((n) => n.label !== (shown.get(n.id) || ""))
      .map((n) => ({ id: n.id, label: shown.get(n.id) || "" }));
    if (changes.length) nodes.update(changes);
    container.dataset.labelled = String(shown.size);
    if ((scale >= EDGE_ZOOM) !== edgesNamed) { edgesNamed = !edgesNamed; edges.update(edges.get().map(prepareEdge)); }
  }
  let relabelTimer = null;
  function relabelSoon() { clearTimeout(relabelTimer); relabelTimer = setTimeout(relabel, 120); }
  ["zoom", "dragEnd", "animationFinished", "stabilized"].forEach((name) => network.on(name, relabelSoon));

  // The panel: beside the canvas on a wide screen, a sheet over its foot on a phone (graph.css).
  let selected = null;
  function openPanel(id) {
    selected = id;
    const node = nodes.get(id);
    if (!node) { closePanel(); return; }
    const [title, ...rest] = String(node.tip || node.fullLabel).split("\n\n");
    panel.querySelector(".panel-title").textContent = title;
    panel.querySelector(".panel-type").textContent = node.role === "open" ? `${node.type} · unsolved` : node.type;
    panel.querySelector(".panel-summary").textContent = rest.join("\n\n");
    const open = panel.querySelector(".panel-open");
    open.hidden = !node.url;
    if (node.url) open.href = node.url;
    panel.querySelectorAll("[data-href]").forEach((link) => { link.href = link.dataset.href + encodeURIComponent(id); });
    panel.hidden = false;
    stage.classList.add("panel-open");
    network.redraw();
    keepAbovePanel(id);
  }
  // On a phone the panel is a sheet over the canvas's foot: a node it would cover moves up, into
  // the middle of what the sheet leaves of the canvas.
  function keepAbovePanel(id) {
    if (getComputedStyle(panel).position !== "fixed") return;
    const at = network.getPositions([id])[id];
    if (!at) return;
    const box = container.getBoundingClientRect();
    const free = Math.min(panel.getBoundingClientRect().top, box.bottom) - Math.max(box.top, 0);
    const y = network.canvasToDOM(at).y + box.top, wanted = Math.max(box.top, 0) + free / 2;
    if (free < 60 || (y > Math.max(box.top, 0) + 20 && y < wanted + free / 2 - 30)) return;
    const view = network.getViewPosition();
    network.moveTo({ position: { x: view.x, y: view.y + (y - wanted) / network.getScale() },
                     animation: { duration: 250, easingFunction: "easeOutQuad" } });
  }
  function closePanel() {
    selected = null;
    panel.hidden = true;
    stage.classList.remove("panel-open");
  }
  network.on("click", (params) => {
    const id = params.nodes.length ? params.nodes[0] : null;
    if (id !== null && network.isCluster(id)) { network.openCluster(id); return; }
    if (id === null) closePanel(); else openPanel(id);
  });
  panel.querySelector("[data-panel-close]").addEventListener("click", () => { network.unselectAll(); closePanel(); });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape" && !panel.hidden) closePanel(); });
  network.on("doubleClick", (params) => {
    const node = params.nodes.length && nodes.get(params.nodes[0]);
    if (node && node.url) window.location.href = node.url;
  });

  function setExpandParams() {
    const url = new URL(window.location.href);
    url.searchParams.delete("expand");
    expansions.forEach((e) => url.searchParams.append("expand", e.node));
    history.replaceState(null, "", url);
    if (undoButton) undoButton.hidden = expansions.length === 0;
  }

  // New nodes start beside a node they link to, then physics settles them and freezes again.
  function addAll(data, near) {
    const added = { nodes: [], edges: [] };
    const at = near && network.getPositions([near])[near];
    // One add() per batch: vis redraws after each, and 150 single adds took seconds.
    const fresh = data.vis.nodes.filter((n) => !nodes.get(n.id)).map((n) => {
      delete n.x; delete n.y;
      n.physics = true;
      if (at) { n.x = at.x + (Math.random() - 0.5) * 80; n.y = at.y + (Math.random() - 0.5) * 80; }
      return prepare(n);
    });
    const links = data.vis.edges.filter((e) => !edges.get(e.id)).map(prepareEdge);
    nodes.add(fresh);
    edges.add(links);
    added.nodes = fresh.map((n) => n.id);
    added.edges = links.map((e) => e.id);
    settle(100, relabel);
    count();
    refreshFind();
    return added;
  }

  async function expand(nodeId) {
    const base = container.dataset.expandUrl;
    if (!base) return;
    const url = `${base}?view=neighbourhood&memory=${encodeURIComponent(nodeId)}&depth=1&format=json&vis=1&limit=60`;
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    expansions.push({ node: nodeId, ...addAll(await response.json(), nodeId) });
    setExpandParams();
  }

  function remove(entry) {
    edges.remove(entry.edges);
    nodes.remove(entry.nodes);
    count();
    refreshFind();
  }

  function collapse(nodeId) {
    for (let i = expansions.length - 1; i >= 0; i--) {
      if (expansions[i].node === nodeId) { remove(expansions[i]); expansions.splice(i, 1); }
    }
    setExpandParams();
  }

  root.querySelector("[data-expand]")?.addEventListener("click", () => selected && expand(selected));
  root.querySelector("[data-collapse]")?.addEventListener("click", () => selected && collapse(selected));
  undoButton?.addEventListener("click", () => { const last = expansions.pop(); if (last) remove(last); setExpandParams(); });

  // "Load more": the JSON twin with the next limit, added to the drawing in place.
  const more = root.querySelector("[data-load-more]");
  more?.addEventListener("click", async (event) => {
    event.preventDefault();
    const url = new URL(more.href);
    url.searchParams.set("format", "json");
    url.searchParams.set("vis", "1");
    more.setAttribute("aria-busy", "true");
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    more.removeAttribute("aria-busy");
    if (!response.ok) { window.location.href = more.href; return; }
    const data = await response.json();
    addAll(data, null);
    root.querySelector("[data-shown]").textContent = String(nodes.length);
    const limit = Number(url.searchParams.get("limit")) || nodes.length;
    const next = new URL(more.href);
    next.searchParams.set("limit", String(Math.min(2000, limit * 2)));
    more.href = next.toString();
    if (nodes.length >= Number(more.dataset.total) || limit >= 2000) root.querySelector("[data-more]").hidden = true;
  });

  // Find in this graph: a memory's title (any part of it) focuses and selects it on the canvas.
  const find = root.querySelector("[data-find]");
  const findList = document.getElementById("graph-find-list");
  const findStatus = root.querySelector("[data-find-status]");
  function refreshFind() {
    findList.replaceChildren(...nodes.get().map((n) => { const o = document.createElement("option"); o.value = n.fullLabel; return o; }));
  }
  function findNode(text) {
    const wanted = text.trim().toLowerCase();
    if (!wanted) return;
    const all = nodes.get();
    const hit = all.find((n) => n.fullLabel.toLowerCase() === wanted)
      || all.find((n) => n.fullLabel.toLowerCase().includes(wanted) || String(n.tip).toLowerCase().includes(wanted));
    if (!hit) { findStatus.textContent = `No memory in this graph matches “${text.trim()}”.`; return; }
    findStatus.textContent = "";
    openCluster(hit.id);
    network.selectNodes([hit.id]);
    network.focus(hit.id, { scale: Math.max(network.getScale(), 1.4), animation: { duration: 300 } });
    openPanel(hit.id);
  }
  find.hidden = false;
  refreshFind();
  find.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); findNode(find.value); } });
  find.addEventListener("change", () => findNode(find.value));

  // Communities: colour by them, or gather each into one node that opens on a click.
  function communities() {
    return [...new Set(payload.nodes.map((n) => n.community).filter((c) => c !== undefined && c >= 0))];
  }
  const colourSelect = root.querySelector("[data-colour-by]");
  const clusterButton = root.querySelector("[data-cluster]");
  const clusterNames = {}, clusterShort = {};
  function clusterLabel(id) { return clusterNames[id] || "A group of memories"; }
  function openCluster(nodeId) {
    const clusterId = network.clustering.findNode(nodeId)[0];
    if (clusterId !== nodeId && network.isCluster(clusterId)) network.openCluster(clusterId);
  }
  function group(on, done) {
    clusterButton.setAttribute("aria-pressed", String(on));
    clusterButton.textContent = on ? "Show every memory" : "Group communities";
    if (!on) { Object.keys(clusterNames).forEach((id) => network.isCluster(id) && network.openCluster(id)); relabel(); done?.(); return; }
    communities().forEach((c) => {
      const members = nodes.get({ filter: (n) => n.community === c });
      if (members.length < 2) return;
      const id = `community-${c}`;
      const top = members.reduce((a, b) => ((b.size || 0) > (a.size || 0) ? b : a));
      clusterNames[id] = `Community ${c + 1}: ${members.length} memories, around “${top.fullLabel}”`;
      clusterShort[id] = `${members.length} · ${top.fullLabel}`;
      network.cluster({
        joinCondition: (n) => n.community === c,
        clusterNodeProperties: { id, label: "", shape: "dot", borderWidth: 2,
                                 size: 14 + Math.min(30, Math.sqrt(members.length) * 4), color: members[0].community_color,
                                 font: { size: labelSize * 1.1, color: fg, strokeWidth: 3, strokeColor: bg } },
      });
    });
    // Each community sits where its members were, all near the middle, and the memories in none were
    // pushed far out by the 300 others: spread the communities apart, draw the loners in.
    const loners = network.body.nodeIndices.filter((id) => !network.isCluster(id));
    const at = network.getPositions(loners);
    loners.forEach((id) => network.moveNode(id, at[id].x / 4, at[id].y / 4));
    settle(150, () => { fitView(); relabel(); done?.(); },
           { gravitationalConstant: -9000, centralGravity: 0.6, springLength: 220, avoidOverlap: 0.6 });
    relabel();
  }
  if (communities().length > 1) {
    colourSelect.closest("label").hidden = false;
    clusterButton.hidden = false;
    if (payload.nodes.length > 60) { colourBy = "community"; colourSelect.value = "community"; nodes.update(nodes.get().map(prepare)); }
    colourSelect.addEventListener("change", () => { colourBy = colourSelect.value; nodes.update(nodes.get().map(prepare)); });
    clusterButton.addEventListener("click", () => group(clusterButton.getAttribute("aria-pressed") !== "true", null));
  }

  function toggleTwin() {
    twin.hidden = !twin.hidden;
    stage.hidden = !twin.hidden;
    container.hidden = !twin.hidden;
    if (!twin.hidden) twin.querySelector("button, a")?.focus();
  }
  root.querySelector("[data-toggle-twin]").addEventListener("click", toggleTwin);
  document.addEventListener("keydown", (event) => {
    if (event.key === "t" && !event.target.closest("input, textarea, select") && !event.ctrlKey && !event.metaKey) toggleTwin();
  });

  // Sortable table twin: click a header to sort, again to reverse.
  twin.querySelectorAll("[data-sort]").forEach((button) => {
    button.addEventListener("click", () => {
      const column = Number(button.dataset.sort);
      const numeric = button.hasAttribute("data-numeric");
      const body = twin.querySelector("tbody");
      const rows = Array.from(body.rows);
      const descending = button.getAttribute("aria-sort") !== "descending" && numeric
        || button.getAttribute("aria-sort") === "ascending";
      rows.sort((a, b) => {
        const x = a.cells[column].textContent.trim(), y = b.cells[column].textContent.trim();
        const order = numeric ? (Number(x) || 0) - (Number(y) || 0) : x.localeCompare(y);
        return descending ? -order : order;
      });
      twin.querySelectorAll("th").forEach((th) => th.removeAttribute("aria-sort"));
      button.closest("th").setAttribute("aria-sort", descending ? "descending" : "ascending");
      button.setAttribute("aria-sort", descending ? "descending" : "ascending");
      rows.forEach((row) => body.appendChild(row));
    });
  });
})();
