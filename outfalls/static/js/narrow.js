/* Pick-lists that narrow as you choose (core/forms.py NarrowedSelect): county → town → village, level-1 →
 * level-2 → level-3 type. A <select data-narrow-by="town county"> comes with a JSON block (its id + "-narrow")
 * mapping each option's value to its parents' values; the options shown are those under the nearest parent
 * that has a value (all of them while none has). An option with no parents (全部, 未填写) always stays. A
 * choice that no longer fits is cleared, and the change goes on down the chain (town → village). */
(function () {
  "use strict";

  function setUp(select) {
    var data = document.getElementById(select.id + "-narrow");
    var form = select.form;
    if (!data || !form) return;
    var parents = JSON.parse(data.textContent);
    var by = select.dataset.narrowBy.split(/\s+/).filter(Boolean);
    var options = Array.prototype.map.call(select.options, function (o) {
      return o;
    });

    function parentField(name) {
      var field = form.elements.namedItem(name);
      return field && field.tagName === "SELECT" ? field : null;
    }

    function rebuild() {
      var key = null;
      var value = "";
      by.some(function (name) {
        var field = parentField(name);
        if (field && field.value) {
          key = name;
          value = field.value;
          return true;
        }
        return false;
      });
      var current = select.value;
      var keep = options.filter(function (o) {
        var up = parents[o.value];
        return !up || key === null || up[key] === value;
      });
      select.replaceChildren.apply(select, keep);
      var stays = keep.some(function (o) {
        return o.value === current;
      });
      if (stays) {
        select.value = current;
      } else {
        select.selectedIndex = keep.length ? 0 : -1;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }

    by.forEach(function (name) {
      var field = parentField(name);
      if (field) field.addEventListener("change", rebuild);
    });
    rebuild();
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-narrow-by]"), setUp);
})();
