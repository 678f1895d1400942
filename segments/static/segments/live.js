/* The ingestion page: fetch the rows again every few seconds, filters kept. */
(function () {
  "use strict";
  const live = document.getElementById("live");
  if (!live) return;
  const seconds = Number(live.dataset.pollSeconds) || 3;
  async function refresh() {
    const params = new URLSearchParams(window.location.search);
    params.set("partial", "1");
    try {
      const response = await fetch(window.location.pathname + "?" + params, { headers: { Accept: "text/html" } });
      if (response.ok) live.innerHTML = await response.text();
    } finally {
      setTimeout(refresh, seconds * 1000);
    }
  }
  setTimeout(refresh, seconds * 1000);
})();
