// The scorecard editor: running totals of the weights (each must reach 100) and the mark
// on the input an error is about. The rows themselves are rendered by the server (HTMX).
(function () {
  "use strict";

  function number(text) {
    var value = parseFloat(String(text).replace(/,/g, ""));
    return isNaN(value) ? 0 : value;
  }

  function totals(root) {
    root.querySelectorAll("output[data-total]").forEach(function (output) {
      var key = output.getAttribute("data-total");
      var sum = 0;
      root.querySelectorAll('input[data-weight="' + key + '"]').forEach(function (input) {
        sum += number(input.value);
      });
      sum = Math.round(sum * 100) / 100;
      output.textContent = String(sum);
      output.classList.toggle("sc-off", Math.abs(sum - 100) > 0.01);
    });
  }

  function markError(root) {
    var name = root.getAttribute("data-error-input");
    if (!name) return;
    var input = root.querySelector('[name="' + name.replace(/"/g, '\\"') + '"]');
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.classList.add("sc-invalid");
    }
  }

  function init() {
    var root = document.getElementById("definition-editor");
    if (!root) return;
    totals(root);
    markError(root);
  }

  document.addEventListener("input", function (event) {
    var root = document.getElementById("definition-editor");
    if (root && root.contains(event.target)) totals(root);
  });
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSwap", init);
})();
