// Progressive enhancements for dispute pages; every form works without this file.
(function () {
  "use strict";

  // Rouble equivalent beside the amount typed in the order's currency.
  document.querySelectorAll("[data-amount-input]").forEach(function (input) {
    var rate = parseFloat(input.dataset.rate);
    var output = document.querySelector("[data-amount-equivalent]");
    if (!rate || !output) return;
    function update() {
      var amount = parseFloat(input.value.replace(/\s/g, "").replace(",", "."));
      output.textContent = amount > 0 ? "≈ " + (amount * rate).toLocaleString("ru-RU", {maximumFractionDigits: 2}) + " ₽" : "";
    }
    input.addEventListener("input", update);
    update();
  });

  // Upload progress for forms with files: send with XHR so the browser reports progress.
  document.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      var hasFiles = Array.prototype.some.call(form.querySelectorAll("input[type=file]"), function (input) {
        return input.files && input.files.length > 0;
      });
      if (!hasFiles || !window.FormData || (submitter && submitter.name === "back")) return;
      event.preventDefault();
      var data = new FormData(form);
      if (submitter && submitter.name) data.append(submitter.name, submitter.value);
      var bar = form.querySelector("[data-upload-bar]");
      if (bar) bar.classList.remove("d-none");
      form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
      var request = new XMLHttpRequest();
      request.open("POST", form.action || window.location.href);
      request.setRequestHeader("X-Upload-Progress", "1");
      request.upload.addEventListener("progress", function (progress) {
        if (bar && progress.lengthComputable) bar.value = Math.round((progress.loaded / progress.total) * 100);
      });
      request.addEventListener("load", function () {
        // Done: the server answers where to go next (core.middleware.UploadRedirectMiddleware).
        // A form with errors comes back as the page itself, with what was typed kept.
        var type = request.getResponseHeader("Content-Type") || "";
        if (type.indexOf("application/json") === 0) {
          var target = new URL(JSON.parse(request.responseText).location, window.location.href);
          if (target.pathname === window.location.pathname && target.search === window.location.search) {
            // Only the #fragment differs: assigning it would not load the page again.
            window.location.hash = target.hash;
            window.location.reload();
          } else {
            window.location.assign(target.href);
          }
        } else {
          document.open();
          document.write(request.responseText);
          document.close();
        }
      });
      request.addEventListener("error", function () { form.submit(); });
      request.send(data);
    });
  });
})();
