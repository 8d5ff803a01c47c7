// Small progressive enhancements; every page works without this file.
// Keyboard: / search, j/k next/previous result, g graph of the current selection, t (graph pages)
// table twin, ? the list of shortcuts. The theme button cycles system -> dark -> light.

function typingIn(target) {
  return target.closest && target.closest("input, textarea, select, [contenteditable]");
}

function results() {
  return Array.from(document.querySelectorAll(".memory-item"));
}

function moveThroughResults(step) {
  const items = results();
  if (!items.length) return;
  const current = items.findIndex((item) => item.classList.contains("kb-current"));
  const next = Math.min(Math.max(current + step, 0), items.length - 1);
  items.forEach((item) => item.classList.remove("kb-current"));
  const item = items[next];
  item.classList.add("kb-current");
  const link = item.querySelector("a.title, .title a, a");
  if (link) link.focus();
  item.scrollIntoView({ block: "nearest" });
}

function openGraph() {
  const link = document.querySelector("[data-shortcut='g']") || document.querySelector("nav a[href$='/graph/']");
  if (link) window.location.assign(link.href);
}

function toggleShortcuts() {
  const dialog = document.getElementById("shortcuts");
  if (!dialog) return;
  if (dialog.open) dialog.close(); else dialog.showModal();
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || typingIn(event.target)) return;
  const actions = {
    "/": () => { const box = document.getElementById("q"); if (box) { box.focus(); box.select(); } },
    "j": () => moveThroughResults(1),
    "k": () => moveThroughResults(-1),
    "g": openGraph,
    "?": toggleShortcuts,
  };
  const action = actions[event.key];
  if (action) { event.preventDefault(); action(); }
});

document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

const THEMES = ["system", "dark", "light"];
const THEME_LABELS = { system: "Theme: as the system", dark: "Theme: dark", light: "Theme: light" };

function applyTheme(theme) {
  if (theme === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  const button = document.getElementById("theme-toggle");
  if (button) { button.textContent = button.title = THEME_LABELS[theme]; button.dataset.theme = theme; }
}

document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("theme-toggle");
  if (button) {
    button.hidden = false;
    applyTheme(document.documentElement.dataset.theme || "system");
    button.addEventListener("click", () => {
      const next = THEMES[(THEMES.indexOf(button.dataset.theme || "system") + 1) % THEMES.length];
      try { if (next === "system") localStorage.removeItem("kb-theme"); else localStorage.setItem("kb-theme", next); }
      catch (e) { /* storage blocked: the choice lasts for this page */ }
      applyTheme(next);
    });
  }
  const help = document.getElementById("shortcuts-button");
  if (help) {
    help.hidden = false;
    help.title = "Keyboard shortcuts (?)";
    help.addEventListener("click", toggleShortcuts);
  }
});
