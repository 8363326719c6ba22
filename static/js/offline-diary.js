/* The offline diary on the patient's pages (docs/diary.md, "Offline diary").
 *
 * - Registers the service worker (/sw.js), which keeps the app shell and the diary form.
 * - On the entry form (#entry-form): Save sends the entry as JSON by the API's idempotent PUT,
 *   through the queue in js/offline-queue.js. Offline, or with the session ended, the entry stays
 *   on the phone ("Waiting to send") and is sent on the next page open, on `online`, or by
 *   Background Sync. A 400 falls back to the ordinary form POST so that the server shows its
 *   messages; a 412 means a newer copy (another device, the therapist) was kept.
 * - On every page: a notice of the entries waiting to send, and the send itself.
 *
 * Without JavaScript none of this runs and the form posts as it always has.
 */
(function () {
  "use strict";

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

  var Queue = window.PaisQueue;
  var script = document.currentScript;
  var workerUrl = script && script.getAttribute("data-worker");
  var loginUrl = (script && script.getAttribute("data-login")) || "/accounts/login/";
  var logoutUrl = script && script.getAttribute("data-logout");

  function metaContent(name) {
    var element = document.querySelector('meta[name="' + name + '"]');
    return element ? element.getAttribute("content") : null;
  }

  var user = metaContent("pais-user");
  var csrfToken = metaContent("csrf-token");
  var form = document.getElementById("entry-form");
  var statusBox = document.getElementById("entry-sync-status");
  var notice = document.getElementById("offline-queue-notice");
  var offlineCopy = document.documentElement.hasAttribute("data-offline-copy");
  // Said at the top of a page that the phone kept (the worker marks it data-offline-copy).
  var offlineLines = [];

  /* --- Words ------------------------------------------------------------------------------- */

  function dayName(isoDate) {
    return Queue.dayName(isoDate);
  }

  function localToday() {
    var now = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate());
  }

  function signInLink() {
    var link = document.createElement("a");
    link.href = loginUrl + "?next=" + encodeURIComponent(location.pathname + location.search);
    link.textContent = gettext("Sign in to send");
    return link;
  }

  /* "You have been signed out, so it could not be sent yet. Sign in to send." with the link in
   * its place: one sentence for the translator, split at its %(link)s. */
  function signedOutLine() {
    var sentence = gettext("You have been signed out, so it could not be sent yet. %(link)s.");
    var at = sentence.indexOf("%(link)s");
    if (at === -1) {
      return [sentence, " ", signInLink()];
    }
    return [sentence.slice(0, at), signInLink(), sentence.slice(at + "%(link)s".length)];
  }

  /* Replaces the content of a status element with paragraphs of text and elements. */
  function show(element, parts) {
    if (!element) {
      return;
    }
    element.textContent = "";
    parts.forEach(function (part) {
      if (!part) {
        return;
      }
      var paragraph = document.createElement("p");
      (Array.isArray(part) ? part : [part]).forEach(function (piece) {
        paragraph.appendChild(typeof piece === "string" ? document.createTextNode(piece) : piece);
      });
      element.appendChild(paragraph);
    });
    element.hidden = !element.firstChild;
  }

  function problemText(body) {
    if (!body || typeof body !== "object") {
      return "";
    }
    var texts = [];
    Object.keys(body).forEach(function (key) {
      var value = body[key];
      texts.push(Array.isArray(value) ? value.join(" ") : String(value));
    });
    return texts.join(" ");
  }

  function conflictText(isoDate) {
    return Queue.conflictText(isoDate);
  }

  /* --- The notice on every page ------------------------------------------------------------ */

  function addNotice(text, conflictDate) {
    return Queue.addNotice(user, text, conflictDate);
  }

  function refreshNotice() {
    if (!notice || !user) {
      return Promise.resolve();
    }
    return Promise.all([Queue.forUser(user), Queue.getMeta("notices")]).then(function (found) {
      var items = found[0];
      var notices = (found[1] || []).filter(function (n) { return String(n.user) === String(user); });
      var parts = offlineLines.concat(notices.map(function (n) { return n.conflictDate ? conflictText(n.conflictDate) : n.text; }));
      // A questionnaire's answers (js/questionnaire.js) are said apart from the diary's entries.
      var answers = items.filter(function (item) { return item.kind === "questionnaire"; });
      items = items.filter(function (item) { return item.kind !== "questionnaire"; });
      var waitingAnswers = answers.filter(function (item) { return item.state !== "failed"; });
      var waiting = items.filter(function (item) { return item.state !== "failed"; });
      if (waitingAnswers.length) {
        var answerLine = [interpolate(
          ngettext("%(count)s questionnaire waiting to send — saved on this phone.", "%(count)s questionnaires waiting to send — saved on this phone.", waitingAnswers.length),
          { count: waitingAnswers.length },
          true
        )];
        if (waitingAnswers.some(function (item) { return item.state === "sign-in"; })) {
          answerLine.push(" ", signInLink());
        }
        parts.push(answerLine);
      }
      answers.filter(function (item) { return item.state === "failed"; }).forEach(function (item) {
        var open = document.createElement("a");
        open.href = item.dayUrl;
        open.textContent = gettext("Open the questionnaire");
        parts.push([
          interpolate(gettext("Your questionnaire answers of %(day)s could not be sent."), { day: dayName(item.date) }, true) +
            " " + problemText(item.problem) + " ",
          open
        ]);
      });
      if (waiting.length) {
        var words = interpolate(
          ngettext("%(count)s entry waiting to send — saved on this phone.", "%(count)s entries waiting to send — saved on this phone.", waiting.length),
          { count: waiting.length },
          true
        );
        var line = [words];
        if (waiting.some(function (item) { return item.state === "sign-in"; })) {
          line.push(" ", signInLink());
        }
        parts.push(line);
      }
      items.filter(function (item) { return item.state === "failed"; }).forEach(function (item) {
        var link = document.createElement("a");
        link.href = item.dayUrl;
        link.textContent = interpolate(gettext("Open %(day)s"), { day: dayName(item.date) }, true);
        parts.push([
          interpolate(gettext("Your entry for %(day)s could not be sent."), { day: dayName(item.date) }, true) +
            " " + problemText(item.problem) + " ",
          link
        ]);
      });
      show(notice, parts);
      markDayLinks(waiting);
      if (notices.length) {
        // Shown once: a conflict is news, not a state.
        var others = (found[1] || []).filter(function (n) { return String(n.user) !== String(user); });
        return Queue.setMeta("notices", others.length ? others : null);
      }
      return null;
    });
  }

  /* "Correct a recent day": a day whose entry waits on the phone says so instead of "not
   * logged" (the server has not seen it yet). */
  function markDayLinks(waiting) {
    // By the day's API address (episode and date), not the page's: today's link is "/" while
    // its form goes to the day's dated address.
    var waitingApis = waiting.map(function (item) { return new URL(item.api, location.href).pathname; });
    Array.prototype.forEach.call(document.querySelectorAll(".recent-days a[data-entry-api]"), function (link) {
      var state = link.querySelector(".day-state");
      if (!state) {
        return;
      }
      if (state.hasAttribute("data-server-text")) {
        state.textContent = state.getAttribute("data-server-text");
      }
      if (waitingApis.indexOf(link.getAttribute("data-entry-api")) !== -1) {
        state.setAttribute("data-server-text", state.textContent);
        state.textContent = gettext("waiting to send");
      }
    });
  }

  /* --- Sending the queue ------------------------------------------------------------------- */

  function askForBackgroundSync() {
    if (!("serviceWorker" in navigator)) {
      return;
    }
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) {
        return registration.sync.register("entry-queue");
      }
      return null;
    }).catch(function () { /* Background Sync refused: page open and `online` still send. */ });
  }

  /* Notes what sending did, for the pages that did not start it. */
  function noteResults(report, except) {
    if (!report) {
      return Promise.resolve(report);
    }
    var pending = [];
    Object.keys(report.results).forEach(function (api) {
      var result = report.results[api];
      if (api === except) {
        return;
      }
      if (result.outcome === "conflict") {
        pending.push(addNotice(conflictText(result.item.date), result.item.date));
      }
      if (form && api === form.getAttribute("data-entry-api") && result.outcome === "sent") {
        // This page shows the day just sent: it is now the server's current version.
        form.setAttribute("data-entry-version", result.version || "");
        restore(result.item.body);
        show(statusBox, [interpolate(gettext("Your entry for %(day)s, saved on this phone, has been sent."), { day: dayName(result.item.date) }, true)]);
      }
    });
    if (report.retry) {
      askForBackgroundSync();
    }
    return Promise.all(pending).then(function () { return report; });
  }

  function flush(wait) {
    if (!Queue || !user) {
      return Promise.resolve(null);
    }
    return Queue.flush({ user: user, csrfToken: csrfToken, wait: wait });
  }

  function flushAndShow() {
    return flush(false).then(function (report) { return noteResults(report, null); })
      .then(refreshNotice)
      .catch(function () { /* IndexedDB unavailable (e.g. a private window): no queue. */ });
  }

  /* --- The entry form ---------------------------------------------------------------------- */

  function whole(text) {
    text = (text || "").trim();
    if (!text) {
      return null;
    }
    return /^\d+$/.test(text) ? parseInt(text, 10) : text; // Anything else: the server names it.
  }

  function degrees(text) {
    text = (text || "").trim();
    if (!text) {
      return null;
    }
    // One decimal comma or point, as the server reads it (rehab/forms.py DegreesField).
    return /^\d+([.,]\d+)?$/.test(text) ? Number(text.replace(",", ".")) : text;
  }

  function field(name) {
    return form.elements.namedItem(name);
  }

  function value(name) {
    var element = field(name);
    return element ? element.value : "";
  }

  /* The form as the API's JSON (api-contract.md, "Daily entries"). */
  function serialise() {
    var exercises = [];
    Array.prototype.forEach.call(form.querySelectorAll("[data-prescription]"), function (input) {
      var sets;
      if (input.type === "checkbox") {
        sets = input.checked ? parseInt(input.value, 10) || 0 : 0;
      } else {
        var all = form.querySelector('[data-all-for="' + input.name + '"]');
        sets = all && all.checked ? parseInt(input.max, 10) : parseInt(input.value || "0", 10);
      }
      exercises.push({ prescription: parseInt(input.getAttribute("data-prescription"), 10), sets_completed: sets });
    });
    return {
      pain_activity: whole(value("pain_activity")),
      pain_rest: whole(value("pain_rest")),
      pf_rom_affected: degrees(value("pf_rom_affected")),
      pf_rom_unaffected: degrees(value("pf_rom_unaffected")),
      exercises: exercises,
      note: value("note")
    };
  }

  /* Puts a saved body back into the form (an entry kept on this phone, or just sent). */
  function restore(body) {
    ["pain_activity", "pain_rest"].forEach(function (name) {
      Array.prototype.forEach.call(form.querySelectorAll('input[name="' + name + '"]'), function (radio) {
        radio.checked = body[name] !== null && radio.value === String(body[name]);
      });
    });
    ["pf_rom_affected", "pf_rom_unaffected", "note"].forEach(function (name) {
      var element = field(name);
      if (element && "value" in element) {
        element.value = body[name] === null || body[name] === undefined ? "" : String(body[name]);
      }
    });
    var sets = {};
    (body.exercises || []).forEach(function (row) { sets[row.prescription] = row.sets_completed; });
    Array.prototype.forEach.call(form.querySelectorAll("[data-prescription]"), function (input) {
      var done = sets[input.getAttribute("data-prescription")] || 0;
      if (input.type === "checkbox") {
        input.checked = done > 0;
      } else {
        input.value = String(done);
        var all = form.querySelector('[data-all-for="' + input.name + '"]');
        if (all) {
          all.checked = done > 0 && String(done) === input.max;
        }
      }
    });
  }

  function submitNatively() {
    // HTMLFormElement.submit() skips the submit event: the server answers as without JavaScript.
    HTMLFormElement.prototype.submit.call(form);
  }

  function withParameter(address, name, valueText) {
    return address + (address.indexOf("?") === -1 ? "?" : "&") + name + "=" + valueText;
  }

  function afterSave(item, result, button) {
    button.disabled = false;
    if (!result || result.outcome === "retry") {
      show(statusBox, [
        gettext("Waiting to send — saved on this phone. It is sent as soon as you are back online.")
      ]);
      askForBackgroundSync();
      return refreshNotice();
    }
    if (result.outcome === "sent") {
      location.assign(withParameter(item.dayUrl, "saved", result.status === 201 ? "created" : "replaced"));
      return null;
    }
    if (result.outcome === "refused") {
      // The server's own page shows what is wrong, next to each field.
      return Queue.remove(item.api).then(submitNatively);
    }
    if (result.outcome === "sign-in") {
      show(statusBox, [
        gettext("Waiting to send — saved on this phone."),
        signedOutLine()
      ]);
      return refreshNotice();
    }
    // 412: the newer copy stays; say so plainly and offer to show it.
    var link = document.createElement("a");
    link.href = item.dayUrl;
    link.textContent = gettext("Show the saved entry");
    show(statusBox, [conflictText(item.date), link]);
    statusBox.focus();
    return refreshNotice();
  }

  function onSubmit(event) {
    event.preventDefault();
    var body = serialise();
    if (body.pain_activity === null) {
      if (navigator.onLine) {
        submitNatively();
      } else {
        show(statusBox, [gettext("Choose a number for pain during activity, then press Save.")]);
      }
      return;
    }
    var button = event.submitter || form.querySelector("button[type=submit]");
    button.disabled = true;
    show(statusBox, [gettext("Saving…")]);
    var api = form.getAttribute("data-entry-api");
    var match = /\/episodes\/(\d+)\/entries\//.exec(api);
    var item = {
      api: api,
      date: form.getAttribute("data-entry-date"),
      episode: match ? parseInt(match[1], 10) : null,
      user: user,
      body: body,
      version: form.getAttribute("data-entry-version") || null,
      csrf: csrfToken,
      dayUrl: form.getAttribute("data-day-url")
    };
    Queue.save(item).then(
      function (saved) {
        item = saved;
        return flush(true)
          .then(function (report) {
            return noteResults(report, item.api).then(function () {
              return afterSave(item, report && report.results[item.api], button);
            });
          })
          .catch(function () {
            // Kept on the phone, whatever went wrong after: it is sent on the next occasion.
            afterSave(item, null, button);
          });
      },
      function () {
        // Nothing could be kept (no IndexedDB here): the ordinary form POST, as without
        // JavaScript.
        button.disabled = false;
        submitNatively();
      }
    );
  }

  function setUpForm() {
    if (!statusBox) {
      statusBox = document.createElement("div");
      statusBox.id = "entry-sync-status";
      statusBox.setAttribute("role", "status");
      statusBox.setAttribute("aria-live", "polite");
      form.insertBefore(statusBox, form.querySelector("button[type=submit]"));
    }
    statusBox.setAttribute("tabindex", "-1");
    var parts = [];
    if (offlineCopy) {
      Array.prototype.forEach.call(document.querySelectorAll(".messages"), function (box) { box.hidden = true; });
      offlineLines.push(gettext("You are offline: this is the copy of this page kept on your phone. What you save is sent when you are back online."));
      var date = form.getAttribute("data-entry-date");
      if (location.pathname === "/" && date && date !== localToday()) {
        offlineLines.push(interpolate(gettext("This form is for %(day)s, the last day this phone opened it online. Today's form opens when you are back online."), { day: dayName(date) }, true));
      }
    }
    var api = form.getAttribute("data-entry-api");
    return Queue.get(api).then(function (item) {
      if (item && String(item.user) === String(user)) {
        restore(item.body);
        if (item.state === "failed") {
          parts.push(gettext("Your entry for this day, saved on this phone, could not be sent.") + " " + problemText(item.problem) + " " + gettext("Check it and press Save again."));
        } else {
          parts.push(gettext("Waiting to send — saved on this phone. What you saved is filled in below."));
        }
      }
      show(statusBox, parts);
    });
  }

  /* --- Pages kept for offline use, and signing out ----------------------------------------- */

  function keepPagesForOffline() {
    // The diary's form and the questionnaires' (js/questionnaire.js) open offline too.
    var keptForm = form || document.getElementById("questionnaire-form");
    if (!keptForm || !("serviceWorker" in navigator) || offlineCopy) {
      return;
    }
    var urls = [location.href];
    // The recent days, and the Account page (Sign out must work on a shared phone offline).
    Array.prototype.forEach.call(document.querySelectorAll(".recent-days a[href], a[data-keep-offline]"), function (link) {
      if (link.href.indexOf(location.origin) === 0 && urls.indexOf(link.href) === -1) {
        urls.push(link.href);
      }
    });
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) {
        registration.active.postMessage({ type: "keep-pages", urls: urls });
      }
    });
  }

  /* Questionnaire answers kept as they were given (js/questionnaire.js): "pais-draft:<user>:…". */
  function forgetDrafts() {
    try {
      var keys = [];
      for (var i = 0; i < window.localStorage.length; i++) {
        var key = window.localStorage.key(i);
        if (key && key.indexOf("pais-draft:") === 0) {
          keys.push(key);
        }
      }
      keys.forEach(function (key) { window.localStorage.removeItem(key); });
    } catch (error) { /* No storage: nothing kept. */ }
  }

  function forgetThisPhone() {
    forgetDrafts();
    var steps = [Queue.setMeta("user", null)];
    if (window.caches) {
      steps.push(caches.keys().then(function (names) {
        return Promise.all(names.filter(function (name) { return name.indexOf("pais-pages-") === 0; })
          .map(function (name) { return caches.delete(name); }));
      }));
    }
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "signed-out" });
    }
    return Promise.all(steps);
  }

  function onSignOut(event) {
    var signOutForm = event.currentTarget;
    event.preventDefault();
    var done = function () { HTMLFormElement.prototype.submit.call(signOutForm); };
    flush(true)
      .then(function () { return Queue.forUser(user); })
      .then(function (items) {
        if (items.length) {
          var question = interpolate(
            ngettext(
              "%(count)s entry has not been sent yet. Signing out deletes them from this phone. Sign out anyway?",
              "%(count)s entries have not been sent yet. Signing out deletes them from this phone. Sign out anyway?",
              items.length
            ),
            { count: items.length },
            true
          );
          if (!window.confirm(question)) {
            return false;
          }
          return Promise.all(items.map(function (item) { return Queue.remove(item.api); })).then(function () { return true; });
        }
        return true;
      })
      .then(function (leave) {
        if (leave) {
          return forgetThisPhone().then(done, done);
        }
        return null;
      })
      .catch(done);
  }

  /* --- Start ------------------------------------------------------------------------------- */

  if (/[?&]saved=/.test(location.search) && window.history.replaceState) {
    // The "Saved" message is shown once: a reload or a kept copy does not say it again.
    var address = new URL(location.href);
    address.searchParams.delete("saved");
    history.replaceState(history.state, "", address.pathname + address.search + address.hash);
  }

  if ("serviceWorker" in navigator && workerUrl) {
    navigator.serviceWorker.register(workerUrl, { scope: "/" }).catch(function () { /* No worker: online only. */ });
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "queue-changed") {
        refreshNotice();
      }
    });
  }
  if (!Queue || !user || !window.indexedDB) {
    return;
  }
  if (form) {
    form.addEventListener("submit", onSubmit);
  }
  Queue.setMeta("user", user)
    .then(function () { return csrfToken ? Queue.refreshTokens(user, csrfToken) : null; })
    .then(function () { return form ? setUpForm() : null; })
    .then(function () { return offlineCopy ? refreshNotice() : flushAndShow(); })
    .then(keepPagesForOffline)
    .catch(function () { /* IndexedDB unavailable: the form posts as without JavaScript. */ });
  Queue.onChange(function () { refreshNotice(); });
  window.addEventListener("online", function () {
    offlineLines = [];
    flushAndShow();
  });
  if (logoutUrl) {
    Array.prototype.forEach.call(document.querySelectorAll('form[action="' + logoutUrl + '"]'), function (signOut) {
      signOut.addEventListener("submit", onSignOut);
    });
  }
})();
