// Applies the chosen colour theme before the page paints (loaded without defer, in <head>).
(function () {
  var theme = null;
  try { theme = localStorage.getItem("kb-theme"); } catch (e) { /* storage blocked, e.g. in an iframe */ }
  if (theme === "dark" || theme === "light") document.documentElement.dataset.theme = theme;
})();
