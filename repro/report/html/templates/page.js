(function () {
  function all(open) {
    document.querySelectorAll("details").forEach(function (d) { d.open = open; });
  }
  document.querySelectorAll("button[data-details]").forEach(function (b) {
    b.addEventListener("click", function () { all(b.getAttribute("data-details") === "open"); });
  });
  window.addEventListener("beforeprint", function () { all(true); });
  window.addEventListener("load", function () {
    document.documentElement.setAttribute("data-loaded-ms", String(Math.round(performance.now())));
  });
})();
