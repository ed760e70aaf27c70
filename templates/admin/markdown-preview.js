// The live preview of the meeting and promotion forms: once typing pauses, the text goes to the console's
// /markdown (the mail's own Markdown renderer) and what readers will get is shown beside it. Without this
// script the form's プレビュー button does the same; the server's HTML is already escaped and safe.
(function () {
  "use strict";
  var WAIT = 500; // milliseconds of quiet before asking

  function watch(area) {
    var form = area.form;
    var target = document.getElementById(area.getAttribute("data-preview"));
    if (!form || !target || !form.getAttribute("data-markdown")) return;
    var token = form.elements[form.getAttribute("data-csrf-field")];
    var timer = 0;
    var asked = 0;
    area.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var body = new URLSearchParams();
        body.set(token.name, token.value);
        body.set("text", area.value);
        body.set("language", area.lang === "en" ? "en" : "ja");
        var mine = ++asked;
        fetch(form.getAttribute("data-markdown"), { method: "POST", body: body, credentials: "same-origin" })
          .then(function (answer) { return answer.ok ? answer.text() : Promise.reject(answer.status); })
          .then(function (html) { if (mine === asked) target.innerHTML = html; })
          .catch(function () { /* the プレビュー button still works */ });
      }, WAIT);
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-preview]"), watch);
})();
