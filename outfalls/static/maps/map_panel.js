/* The one-map page's side panel on a phone (docs/map.md): the map comes first (map.css), and the filters
 * and the legend fold away under it, so that the map is what the page opens on. Beside the map (a wider
 * screen) they stay open. Runs before map.js, whose layer control reads the same media query. */
(function () {
  "use strict";
  if (!window.matchMedia("(max-width: 768px)").matches) return;
  Array.prototype.forEach.call(document.querySelectorAll(".map-fold"), function (fold) {
    fold.open = false;
  });
})();
