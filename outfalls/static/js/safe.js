/* Text a user typed never becomes HTML in a script (docs/architecture.md, "Script and formula injection").
 *
 * Every page script builds what it shows from DOM nodes with text content, through these helpers:
 *   Safe.el(tag, attrs, text)  an element with attributes (set as attributes, never parsed) and text;
 *   Safe.text(text)            a <span> holding the text, for Leaflet tooltips and popups;
 *   Safe.escape(text)          HTML-escaped text, only where a library insists on an HTML string
 *                              (ECharts tooltip formatters);
 *   Safe.guardLeaflet()        makes Leaflet show any string given to bindTooltip/bindPopup/setContent as
 *                              text, so a string slipped in later cannot be parsed as HTML either.
 * The Content-Security-Policy (settings.CONTENT_SECURITY_POLICY) forbids inline script as a second wall.
 */
(function () {
  "use strict";

  function str(value) {
    return value === undefined || value === null ? "" : String(value);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === undefined || value === null) return;
      if (/^on/i.test(key)) throw new Error("Safe.el: no event handler attributes (" + key + ")");
      if ((key === "href" || key === "src") && !/^(\/(?!\/)|https?:|\?|#)/i.test(String(value))) {
        throw new Error("Safe.el: only relative or http(s) links (" + key + ")");
      }
      node.setAttribute(key, String(value));
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function text(value) {
    return el("span", {}, str(value));
  }

  var ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function escape(value) {
    return str(value).replace(/[&<>"']/g, function (c) {
      return ENTITIES[c];
    });
  }

  function guardLeaflet() {
    var L = window.L;
    if (!L || !L.DivOverlay || L.DivOverlay.prototype.__safeText) return;
    var setContent = L.DivOverlay.prototype.setContent;
    function asNode(content) {
      return typeof content === "string" ? text(content) : content;
    }
    L.DivOverlay.prototype.setContent = function (content) {
      if (typeof content === "function") {
        var make = content;
        content = function (source) {
          return asNode(make(source));
        };
      }
      return setContent.call(this, asNode(content));
    };
    L.DivOverlay.prototype.__safeText = true;
  }

  window.Safe = { el: el, text: text, escape: escape, guardLeaflet: guardLeaflet };
  guardLeaflet();
})();
