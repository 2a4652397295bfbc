// The segment form: the conditions only matter to a dynamic segment, so they are hidden
// while "static" is chosen (the server ignores them for a static segment anyway).
(function () {
  "use strict";
  function sync(form) {
    var chosen = form.querySelector("input[name=kind]:checked");
    var kind = chosen ? chosen.value : (form.dataset.kind || "dynamic");
    var input = form.querySelector("[name=conditions]");
    var field = input ? input.closest(".field") : null;
    if (field) field.hidden = kind === "static";
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("segment-form");
    if (!form) return;
    form.addEventListener("change", function (event) {
      if (event.target.name === "kind") sync(form);
    });
    sync(form);
  });
})();
