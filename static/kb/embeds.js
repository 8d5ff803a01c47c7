// Embed links: Copy buttons for the link, the iframe snippet and the image URL, and the height
// option applied to the snippets as it is typed. Without this script the values are selectable
// text and the height form reloads the page.
(function () {
  "use strict";
  function copied(button, text) {
    const status = button.closest(".embed-row").querySelector("[data-copy-status]");
    status.textContent = text;
  }
  async function copy(button) {
    const input = document.getElementById(button.dataset.copy);
    const label = button.textContent.replace(/^Copy /, "");
    try {
      await navigator.clipboard.writeText(input.value);
    } catch (error) {
      // No clipboard permission (an http page, an old browser): copy the selected text instead.
      input.focus();
      input.select();
      if (!document.execCommand("copy")) { copied(button, `Select the ${label} and copy it (Ctrl+C).`); return; }
    }
    copied(button, `Copied the ${label}.`);
  }
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => copy(button));
  });
  function attr(text) {
    return String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  const height = document.querySelector("[data-embed-height]");
  height?.addEventListener("input", () => {
    const value = Math.min(Number(height.max), Math.max(Number(height.min), Math.round(Number(height.value) || 0)));
    document.querySelectorAll("[data-iframe-src]").forEach((input) => {
      input.value = `<iframe src="${attr(input.dataset.iframeSrc)}" width="100%" height="${value}" style="border:0" `
        + `title="${attr(input.dataset.iframeTitle)}" loading="lazy"></iframe>`;
    });
  });
})();
