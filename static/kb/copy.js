// Copy buttons: <button data-copy="ID" hidden> copies the value of the input (or the text of the
// element) with that id, and the [data-copy-status] of the button's [data-copy-scope] says so.
// Without this script the buttons stay hidden and the text is there to select. Used by the embed
// links page and the API keys page.
(function () {
  "use strict";
  function say(button, text) {
    const scope = button.closest("[data-copy-scope]") || document;
    const status = scope.querySelector("[data-copy-status]");
    if (status) status.textContent = text;
  }
  function selectText(element) {
    if (element.select) { element.focus(); element.select(); return; }
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  async function copy(button) {
    const source = document.getElementById(button.dataset.copy);
    const text = source.value !== undefined ? source.value : source.textContent;
    const label = button.textContent.replace(/^Copy /, "");
    try {
      await navigator.clipboard.writeText(text);
    } catch (error) {
      // No clipboard permission (an http page, an old browser): copy the selected text instead.
      selectText(source);
      if (!document.execCommand("copy")) { say(button, `Select the ${label} and copy it (Ctrl+C).`); return; }
    }
    say(button, `Copied the ${label}.`);
  }
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => copy(button));
  });
})();
