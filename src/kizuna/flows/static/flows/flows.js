/* Success flow pages: show only the inputs of the chosen trigger type. Without JavaScript
 * every input is shown and the server ignores those of other types. */
(function () {
  "use strict";

  function sync(scope) {
    scope.querySelectorAll("select[name=trigger_type]").forEach((select) => {
      const form = select.closest("form");
      if (!form) return;
      const apply = () => {
        form.querySelectorAll("[data-trigger-for]").forEach((group) => {
          group.hidden = !group.dataset.triggerFor.split(" ").includes(select.value);
        });
      };
      if (!select.dataset.flowsBound) {
        select.addEventListener("change", apply);
        select.dataset.flowsBound = "1";
      }
      apply();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => sync(document));
  else sync(document);
  document.addEventListener("htmx:load", (event) => sync(event.detail.elt.parentNode || document));
})();
