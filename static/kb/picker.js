// The memory picker (templates/graphs/_picker.html): the box searches as you type (htmx, /pick/),
// a click on a match puts its id in a hidden field of the box's name and its title in the box.
// Without this script the box itself is the field (an id, an address, or words the server resolves).
(function () {
  "use strict";

  function setUp(picker) {
    const box = picker.querySelector("input[type=search]");
    const list = picker.querySelector(".picker-results");
    if (!box || box.dataset.pickerReady) return;
    box.dataset.pickerReady = "1";
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = box.name;
    // A box that already names a memory shows its title; one holding words keeps them to search on.
    hidden.value = box.dataset.title ? box.value : "";
    if (box.dataset.title) box.value = box.dataset.title;
    box.name = "q";
    box.setAttribute("form", "kb-picker-no-form");  // belongs to no form: only the hidden id is sent
    box.after(hidden);
    list.querySelectorAll("input[type=radio]").forEach((radio) => { radio.dataset.pickId = radio.value; radio.removeAttribute("name"); });

    function choose(id, title) {
      hidden.value = id;
      box.value = title;
      box.dataset.title = title;
      list.replaceChildren();
      box.setAttribute("aria-expanded", "false");
      picker.classList.add("picked");
      hidden.dispatchEvent(new Event("change", { bubbles: true }));
    }
    list.addEventListener("click", (event) => {
      const choice = event.target.closest("[data-pick-id]");
      if (choice && choice.type !== "radio") choose(choice.dataset.pickId, choice.dataset.pickTitle);
    });
    list.addEventListener("change", (event) => {
      if (event.target.dataset.pickId) choose(event.target.dataset.pickId, event.target.dataset.pickTitle);
    });
    box.addEventListener("input", () => {
      // Typed over a choice: nothing is picked until a match is chosen (or the words are sent as they are).
      if (box.value !== box.dataset.title) { hidden.value = ""; picker.classList.remove("picked"); }
    });
    box.addEventListener("keydown", (event) => {
      const options = Array.from(list.querySelectorAll("[data-pick-id]"));
      if (event.key === "ArrowDown" && options.length) { event.preventDefault(); options[0].focus(); }
      if (event.key === "Enter" && options.length === 1) { event.preventDefault(); options[0].click(); }
    });
    list.addEventListener("keydown", (event) => {
      const options = Array.from(list.querySelectorAll("[data-pick-id]"));
      const at = options.indexOf(document.activeElement);
      if (event.key === "ArrowDown" && at < options.length - 1) { event.preventDefault(); options[at + 1].focus(); }
      if (event.key === "ArrowUp") { event.preventDefault(); (at > 0 ? options[at - 1] : box).focus(); }
      if (event.key === "Escape") { list.replaceChildren(); box.focus(); }
    });
    document.body.addEventListener("htmx:afterSwap", (event) => {
      if (event.detail.target === list) box.setAttribute("aria-expanded", list.children.length ? "true" : "false");
    });
    const form = hidden.form;
    form?.addEventListener("submit", () => {
      // Words never picked from the list go as they are: the server lists their matches.
      if (!hidden.value && box.value.trim()) hidden.value = box.value.trim();
    });
  }

  function setUpAll(root) { (root || document).querySelectorAll("[data-picker]").forEach(setUp); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => setUpAll());
  else setUpAll();
  document.addEventListener("htmx:load", (event) => setUpAll(event.detail.elt));
})();

// The graph page's View menu shows the fields of the chosen view (the pickers of a path or a
// neighbourhood) before Show is pressed; without this script the page shows them after Show.
(function () {
  "use strict";
  const select = document.querySelector("[data-graph-form] [data-view-select]");
  if (!select) return;
  select.addEventListener("change", () => {
    select.form.querySelectorAll("[data-for-view]").forEach((set) => { set.hidden = set.dataset.forView !== select.value; });
  });
})();
