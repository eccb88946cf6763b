// Redraws the preview whenever a setting changes: the page posts the unsaved form to the preview endpoint, which
// draws the logo with the same function the worker uses, so what the merchant sees is what results will get.
"use strict";
(function () {
  const DEBOUNCE_MS = 150;

  function init() {
    const img = document.getElementById("watermark-preview");
    const form = document.getElementById("watermarksettings_form");
    const error = document.getElementById("watermark-preview-error");
    if (!img || !form || !error) {
      return;
    }
    let timer = null;
    let controller = null;
    let objectUrl = null;
    let version = 0;

    function settle(state) {
      version += 1;
      img.dataset.state = state;
      img.dataset.version = String(version);
    }

    function showError(message) {
      error.textContent = message;
      error.hidden = false;
      settle("error");
    }

    async function refresh() {
      if (controller) {
        controller.abort();
      }
      controller = new AbortController();
      img.dataset.state = "loading";
      const body = new FormData(form);
      let response;
      try {
        response = await fetch(img.dataset.previewUrl, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { "X-CSRFToken": body.get("csrfmiddlewaretoken") || "" },
          signal: controller.signal,
        });
      } catch (exc) {
        if (exc.name !== "AbortError") {
          showError("The preview could not be loaded.");
        }
        return;
      }
      if (!response.ok) {
        const data = await response.json().catch(() => ({ errors: ["The preview could not be drawn."] }));
        showError((data.errors || []).join(" ") || "The preview could not be drawn.");
        return;
      }
      const blob = await response.blob();
      if (objectUrl) {
        URL.revokeObjectURL(objectUrl);
      }
      objectUrl = URL.createObjectURL(blob);
      img.onload = () => settle("ready");
      img.src = objectUrl;
      error.hidden = true;
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, DEBOUNCE_MS);
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    refresh();
  }

  document.addEventListener("DOMContentLoaded", init);
})();
