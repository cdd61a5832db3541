// Live view of a running execution: follows the run's events and refreshes the steps as they come.
(function () {
  const run = document.getElementById("run");
  if (!run || !run.dataset.live) return;
  const steps = document.getElementById("steps");
  const status = document.getElementById("run-status");
  let refreshing = null;
  function refresh() {
    if (refreshing) return refreshing;
    refreshing = fetch(run.dataset.steps, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
      .then((html) => {
        // Keep unfolded steps unfolded across refreshes.
        const open = new Set([...steps.querySelectorAll("details[open] .name")].map((n) => n.textContent));
        steps.innerHTML = html;
        steps.querySelectorAll("details .name").forEach((n) => { if (open.has(n.textContent)) n.closest("details").open = true; });
        const state = steps.querySelector("[data-status]");
        if (state) { status.textContent = state.dataset.status; status.className = "badge " + state.dataset.status; }
      })
      .finally(() => { refreshing = null; });
    return refreshing;
  }
  const source = new EventSource(run.dataset.live);
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.kind === "execution.completed" || event.kind === "execution.failed" || event.kind === "execution.cancelled") {
      source.close();
      // The final state: reload the whole page (header, duration, no cancel button).
      refresh().then(() => window.location.reload());
    } else {
      refresh();
    }
  };
  source.addEventListener("end", () => { source.close(); window.location.reload(); });
})();

// A mock's request log: refreshes itself every second, keeping unfolded requests unfolded.
(function () {
  const log = document.getElementById("mock-log");
  if (!log) return;
  let busy = false;
  setInterval(() => {
    if (busy || document.hidden) return;
    busy = true;
    fetch(log.dataset.src, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
      .then((html) => {
        const open = new Set([...log.querySelectorAll("details[open]")].map((d) => d.dataset.id));
        log.innerHTML = html;
        log.querySelectorAll("details").forEach((d) => { if (open.has(d.dataset.id)) d.open = true; });
      })
      .catch(() => {})
      .finally(() => { busy = false; });
  }, 1000);
})();
