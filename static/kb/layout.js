// Layout on narrow screens; every page works without this file.
// On a phone the facets come before the results, folded behind a "Filters" button.
// (The facets themselves are the search page's; this only adds the button and folds them.)

function addFiltersToggle(root) {
  const facets = (root || document).querySelector(".listing > .facets");
  if (!facets || facets.previousElementSibling?.classList.contains("filters-toggle")) return;
  if (!facets.id) facets.id = "facets";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "filters-toggle";
  button.setAttribute("aria-controls", facets.id);
  button.setAttribute("aria-expanded", "false");
  const active = facets.querySelectorAll(".active-filters .chip").length;
  button.textContent = active ? `Filters (${active})` : "Filters";
  button.addEventListener("click", () => {
    const open = facets.classList.toggle("open");
    button.setAttribute("aria-expanded", String(open));
  });
  facets.before(button);
}

const OPEN_MENUS = "details.menu[open], details.switcher[open], details.account[open]";

// Closing the menu and the switcher when the pointer or focus goes elsewhere, as menus do.
function closeOpenMenus(event) {
  document.querySelectorAll(OPEN_MENUS).forEach((details) => {
    if (!details.contains(event.target)) details.open = false;
  });
}

document.addEventListener("DOMContentLoaded", () => addFiltersToggle());
document.addEventListener("htmx:afterSettle", () => addFiltersToggle());
document.addEventListener("click", closeOpenMenus);
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  document.querySelectorAll(OPEN_MENUS).forEach((details) => {
    details.open = false;
    details.querySelector("summary").focus();
  });
});

// Controls that only work with JavaScript (htmx) are hidden in the page and shown here.
function showScripted() {
  document.querySelectorAll("[data-needs-js][hidden]").forEach((element) => { element.hidden = false; });
}

document.addEventListener("DOMContentLoaded", showScripted);
document.addEventListener("htmx:afterSettle", showScripted);
