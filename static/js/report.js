// Reports fold their sections on a phone; on paper every section prints open.
(function () {
  "use strict";
  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.report-section:not([open])").forEach(function (section) {
      section.open = true;
      opened.push(section);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (section) { section.open = false; });
    opened = [];
  });
})();
