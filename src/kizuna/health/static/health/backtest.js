// The scorecard editor's backtest: show a threshold slider's value as it moves, keep
// "red below" at or under "green from", and copy the tried thresholds into the draft.
// The figures themselves come from the server (HTMX, on the slider's change).
(function () {
  "use strict";

  function byId(id) {
    return document.getElementById(id);
  }

  document.addEventListener("input", function (event) {
    var slider = event.target;
    if (!slider.matches || !slider.matches("input[data-bt-output]")) return;
    var red = byId("bt-red_below");
    var green = byId("bt-green_from");
    if (red && green && Number(red.value) > Number(green.value)) {
      if (slider === red) green.value = red.value;
      else red.value = green.value;
    }
    [red, green].forEach(function (input) {
      if (!input) return;
      var output = byId(input.getAttribute("data-bt-output"));
      if (output) output.value = input.value;
    });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-bt-apply]");
    if (!button) return;
    var pairs = [
      ["bt-red_below", "d-red_below"],
      ["bt-green_from", "d-green_from"],
    ];
    pairs.forEach(function (pair) {
      var from = byId(pair[0]);
      var to = document.querySelector('#scorecard-form input[name="' + pair[1] + '"]');
      if (from && to) {
        to.value = from.value;
        to.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
    button.textContent = button.getAttribute("data-done") || button.textContent;
  });
})();
