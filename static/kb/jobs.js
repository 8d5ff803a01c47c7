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

// After Cancel or Retry, whose answer replaces the list (or the job's part of its page), focus
// goes to that job's new state, which is read out, instead of being lost with the old buttons.
if (!window.kbJobsFocus) {
  window.kbJobsFocus = true;
  document.addEventListener("htmx:afterSettle", (event) => {
    const form = event.detail.requestConfig && event.detail.requestConfig.elt;
    const id = form && form.dataset && form.dataset.jobAction;
    if (!id) return;
    const state = document.getElementById(`job-state-${id}-row`)
      || document.getElementById(`job-state-${id}`);
    if (state) state.focus();
  });
}
