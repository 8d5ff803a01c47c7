// Admin, client database form: the synced-only fields show only while Mode is "Turso Sync replica".
// A static file (the CSP allows no inline script); without it every field shows, as before.
(function () {
  var SYNCED_ONLY = ["source", "remote_url", "token_ref", "sync_interval"];

  function update(select) {
    var synced = select.value === "synced";
    SYNCED_ONLY.forEach(function (name) {
      var input = document.getElementById("id_" + name);
      var row = document.querySelector(".form-row.field-" + name) || (input && input.closest(".form-row"));
      if (!row) return;
      row.hidden = !synced;
      row.style.display = synced ? "" : "none";  // CSSOM, which the CSP allows; admin CSS may set display
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("id_mode");
    if (!select) return;
    update(select);
    select.addEventListener("change", function () { update(select); });
  });
})();
