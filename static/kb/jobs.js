// The jobs pages poll every second while a job is queued or running (hx-trigger on
// [data-job-poll]); a poll's swap would close a "Cancel…" confirmation being read, so the
// poll waits while one is open. (Not an hx-trigger filter: those are eval'd, which the CSP forbids.)
if (!window.kbJobsPoll) {
  window.kbJobsPoll = true;
  document.addEventListener("htmx:beforeRequest", (event) => {
    const element = event.detail.elt;
    if (element.matches("[data-job-poll]") && element.querySelector("details[open]")) event.preventDefault();
  });
}
