// The email template editor's variable palette: a click inserts {{ variable }} at the cursor
// of the content field that last had the focus (the Japanese HTML body at first).
(function () {
  "use strict";
  function init() {
    var palette = document.getElementById("variable-palette");
    if (!palette) return;
    var fields = document.querySelectorAll(".template-content");
    var target = document.querySelector('.template-content[data-field="html_ja"]') || fields[0];
    fields.forEach(function (field) {
      field.addEventListener("focus", function () { target = field; });
    });
    palette.addEventListener("mousedown", function (event) {
      // Keep the focus (and the selection) in the field being edited.
      if (event.target.closest("button[data-variable]")) event.preventDefault();
    });
    palette.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-variable]");
      if (!button || !target) return;
      var text = "{{ " + button.dataset.variable + " }}";
      var start = target.selectionStart != null ? target.selectionStart : target.value.length;
      var end = target.selectionEnd != null ? target.selectionEnd : start;
      target.value = target.value.slice(0, start) + text + target.value.slice(end);
      target.focus();
      target.setSelectionRange(start + text.length, start + text.length);
      target.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
