// Embed links: the height option applied to the snippets as it is typed (their Copy buttons are
// copy.js). Without this script the height form reloads the page.
(function () {
  "use strict";
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
