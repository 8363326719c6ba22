// The entry form's small enhancements; the form works without them.
// - A − / + stepper around each exercise's number box (sets done, 0 … prescribed).
// - The "all done" tick and the number stay in step: ticking fills in the prescribed count,
//   a count below it clears the tick. (The server reads a ticked "all done" as the prescribed
//   count whatever the number says, so the form means the same with or without this script.)
"use strict";

(function () {
  // Django's JavaScript catalogue (/jsi18n/, loaded before this script) gives gettext and its
  // friends in the page's language; without it the English source text is shown.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (singular, plural, count) { return count === 1 ? singular : plural; };
  var interpolate = window.interpolate || function (format, values, named) {
    if (named) {
      return format.replace(/%\(\w+\)s/g, function (match) { return String(values[match.slice(2, -2)]); });
    }
    var index = 0;
    return format.replace(/%s/g, function () { return String(values[index++]); });
  };

  var form = document.getElementById("entry-form");
  if (!form) {
    return;
  }

  function clamp(input, value) {
    var low = Number(input.min || 0);
    var high = Number(input.max || value);
    return Math.min(high, Math.max(low, value));
  }

  function current(input) {
    var value = parseInt(input.value, 10);
    return isNaN(value) ? 0 : value;
  }

  function syncTick(input) {
    var tick = form.querySelector('input[data-all-for="' + input.name + '"]');
    if (tick) {
      tick.checked = current(input) >= Number(input.max);
    }
  }

  function stepButton(input, delta, label) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "step";
    button.textContent = delta < 0 ? "−" : "+";
    button.setAttribute("aria-label", label);
    button.setAttribute("aria-controls", input.id);
    button.addEventListener("click", function () {
      input.value = String(clamp(input, current(input) + delta));
      syncTick(input);
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    return button;
  }

  form.querySelectorAll("input[data-prescription]").forEach(function (input) {
    var name = input.closest(".exercise").querySelector(".exercise-name strong");
    var what = name ? name.textContent : gettext("this exercise");
    input.before(stepButton(input, -1, interpolate(gettext("One set fewer: %(exercise)s"), { exercise: what }, true)));
    input.after(stepButton(input, 1, interpolate(gettext("One set more: %(exercise)s"), { exercise: what }, true)));
    input.addEventListener("input", function () {
      syncTick(input);
    });
  });

  form.querySelectorAll("input[data-all-for]").forEach(function (tick) {
    tick.addEventListener("change", function () {
      var input = form.querySelector('input[name="' + tick.dataset.allFor + '"]');
      if (!input) {
        return;
      }
      if (tick.checked) {
        input.value = input.max;
      } else if (current(input) >= Number(input.max)) {
        input.value = "0";
      }
    });
  });

  // Focus the error summary on an error response where autofocus did not (an older browser,
  // or a page restored from the back/forward cache).
  var summary = document.getElementById("error-summary");
  if (summary && document.activeElement !== summary) {
    summary.focus();
  }
})();
