// The country picker's filter (templates/web/macros.html, places_field), served as /assets/places-filter.js.
// Progressive enhancement only: without it the picker works as it is, regions in <details> and names typed
// into the places_text field. With it, a search box above the regions hides the countries whose Japanese or
// English names do not contain what is typed, and opens the regions that still show some.
(function () {
  "use strict";

  function fold(text) {
    return (text || "").normalize("NFKC").toLowerCase().replace(/\s+/g, "");
  }

  function enhance(fieldset) {
    var regions = Array.prototype.slice.call(fieldset.querySelectorAll("details[data-region]"));
    if (regions.length === 0) {
      return;
    }
    var wasOpen = regions.map(function (region) { return region.open; });
    var box = document.createElement("div");
    box.className = "place-filter";
    var label = document.createElement("label");
    var input = document.createElement("input");
    input.type = "search";
    input.id = "place-filter";
    input.autocomplete = "off";
    label.htmlFor = input.id;
    label.textContent = fieldset.getAttribute("data-filter-label");
    var none = document.createElement("p");
    none.className = "place-filter-none";
    none.setAttribute("role", "status");
    none.hidden = true;
    none.textContent = fieldset.getAttribute("data-filter-none");
    box.appendChild(label);
    box.appendChild(input);
    box.appendChild(none);
    fieldset.insertBefore(box, regions[0]);

    function filter() {
      var query = fold(input.value);
      var shown = 0;
      regions.forEach(function (region, index) {
        var regionHit = query !== "" && fold(region.getAttribute("data-names")).indexOf(query) >= 0;
        var hits = 0;
        region.querySelectorAll(".countries label").forEach(function (country) {
          var hit = query === "" || regionHit || fold(country.getAttribute("data-names")).indexOf(query) >= 0;
          country.hidden = !hit;
          hits += hit ? 1 : 0;
        });
        region.hidden = query !== "" && hits === 0;
        // cleared: as the page came, but open where something is now checked, so it stays in sight
        region.open = query === "" ? wasOpen[index] || region.querySelector("input:checked") !== null : hits > 0;
        shown += region.hidden ? 0 : 1;
      });
      none.hidden = shown > 0;
    }

    input.addEventListener("input", filter);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // a search box, not the form's submit
      }
    });
  }

  document.querySelectorAll("fieldset[data-places]").forEach(enhance);
}());
