// Draws a graph view from the JSON in #graph-data with vis-network, then freezes physics.
// Hover text is plain text (agents write titles and summaries: never HTML).
(function () {
  "use strict";
  const root = document.querySelector("[data-graph]");
  if (!root || !window.vis) return;
  const container = document.getElementById("graph-canvas");
  const payload = JSON.parse(document.getElementById("graph-data").textContent);
  const panel = document.getElementById("graph-panel");
  const twin = document.getElementById("twin");
  const undoButton = root.querySelector("[data-undo]");
  const expansions = [];  // stack of {node, nodes: [...ids added], edges: [...ids added]}

  function textTitle(node) {
    if (typeof node.title === "string") {
      const el = document.createElement("div");
      el.className = "graph-tip";
      el.textContent = node.title;
      node.title = el;
    }
    return node;
  }

  const nodes = new vis.DataSet(payload.nodes.map(textTitle));
  const edges = new vis.DataSet(payload.edges);
  // Labels in the page's text colour (vis's default grey is unreadable in dark mode), with a halo
  // of the canvas background so the edges crossing a label do not hide it.
  const style = getComputedStyle(container);
  const options = payload.options || {};
  options.nodes = { ...options.nodes, font: { ...options.nodes?.font, color: style.color, strokeWidth: 3, strokeColor: style.backgroundColor } };
  const network = new vis.Network(container, { nodes, edges }, options);
  function count() { container.dataset.nodeCount = String(nodes.length); container.dataset.edgeCount = String(edges.length); }
  count();
  network.once("stabilizationIterationsDone", () => { network.setOptions({ physics: false }); container.dataset.stable = "1"; });
  if (payload.options && payload.options.physics === false) container.dataset.stable = "1";
  window.kbGraph = { network, nodes, edges };

  let selected = null;
  network.on("click", (params) => {
    selected = params.nodes.length ? params.nodes[0] : null;
    if (!selected) { panel.hidden = true; return; }
    const node = nodes.get(selected);
    panel.hidden = false;
    panel.querySelector(".panel-title").textContent = node.label;
    const open = panel.querySelector(".panel-open");
    open.hidden = !node.url;
    if (node.url) open.href = node.url;
  });
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

  async function expand(nodeId) {
    const base = container.dataset.expandUrl;
    if (!base) return;
    const url = `${base}?view=neighbourhood&memory=${encodeURIComponent(nodeId)}&depth=1&format=json&vis=1&limit=60`;
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const data = await response.json();
    const added = { node: nodeId, nodes: [], edges: [] };
    data.vis.nodes.forEach((n) => { if (!nodes.get(n.id)) { delete n.x; delete n.y; n.physics = true; nodes.add(textTitle(n)); added.nodes.push(n.id); } });
    data.vis.edges.forEach((e) => { if (!edges.get(e.id)) { edges.add(e); added.edges.push(e.id); } });
    expansions.push(added);
    network.setOptions({ physics: { enabled: true, stabilization: { iterations: 100 } } });
    network.stabilize(100);
    count();
    setExpandParams();
  }

  function remove(entry) {
    edges.remove(entry.edges);
    nodes.remove(entry.nodes);
    count();
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

  function toggleTwin() {
    twin.hidden = !twin.hidden;
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
