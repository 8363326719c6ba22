/* The questionnaires on the patient's phone (FAAM and PSFS; docs/patient-pages.md,
 * "Questionnaires", and docs/diary.md, "Offline diary").
 *
 * - Every answer is kept on the phone as it is given (localStorage, per patient, episode and
 *   questionnaire), so a closed tab or a dropped connection resumes where it stopped.
 * - FAAM: one question per screen, big answers; a tap on an answer moves on; Back and Next; a last
 *   screen that counts what is answered and jumps to what was skipped.
 * - PSFS: the rows after the first named one open with "Add another activity".
 * - Send puts the answers into the offline queue (js/offline-queue.js) and sends them to
 *   POST /api/v1/episodes/{id}/questionnaire-responses/: offline, they wait on the phone and go
 *   once when the connection returns (a page open, `online`, or Background Sync).
 *
 * Without JavaScript the form shows every question and posts to its page as a plain form.
 */
(function () {
  "use strict";

  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (singular, plural, count) { return count === 1 ? singular : plural; };
  var interpolate = window.interpolate || function (format, values, named) {
    if (named) {
      return format.replace(/%\(\w+\)s/g, function (match) { return String(values[match.slice(2, -2)]); });
    }
    var index = 0;
    return format.replace(/%s/g, function () { return String(values[index++]); });
  };

  var form = document.getElementById("questionnaire-form");
  if (!form) {
    return;
  }

  function metaContent(name) {
    var element = document.querySelector('meta[name="' + name + '"]');
    return element ? element.getAttribute("content") : null;
  }

  var Queue = window.PaisQueue;
  var user = metaContent("pais-user");
  var csrfToken = metaContent("csrf-token");
  var instrument = form.getAttribute("data-instrument");
  var episode = form.getAttribute("data-episode");
  var statusBox = document.getElementById("questionnaire-sync-status");
  var sendButton = form.querySelector("[data-send]");
  var saveBar = form.querySelector(".save-bar");
  var offlineCopy = document.documentElement.hasAttribute("data-offline-copy");
  // The server answered a POST with messages: what it shows is the latest, not the draft.
  var bound = form.hasAttribute("data-bound");
  var draftKey = "pais-draft:" + user + ":" + episode + ":" + instrument;
  var dateInput = form.querySelector('input[name="questionnaire_date"]');

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function localToday() {
    var now = new Date();
    return now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate());
  }

  /* The day is fixed when the form opens: the server's day on a page fetched now; on the copy
   * kept on the phone (opened offline another day), the phone's today, when the page opens. */
  var day = form.getAttribute("data-date");
  if (offlineCopy && day && localToday() > day) {
    day = localToday();
    if (dateInput) {
      dateInput.value = day;
    }
    form.setAttribute("data-date", day);
  }

  function show(parts) {
    if (!statusBox) {
      return;
    }
    statusBox.textContent = "";
    parts.forEach(function (part) {
      var paragraph = document.createElement("p");
      (Array.isArray(part) ? part : [part]).forEach(function (piece) {
        paragraph.appendChild(typeof piece === "string" ? document.createTextNode(piece) : piece);
      });
      statusBox.appendChild(paragraph);
    });
  }

  /* --- The answers ------------------------------------------------------------------------- */

  function radios() {
    return Array.prototype.slice.call(form.querySelectorAll('input[type="radio"]'));
  }

  function texts() {
    return Array.prototype.slice.call(form.querySelectorAll('input[type="text"]'));
  }

  function readValues() {
    var values = {};
    radios().forEach(function (radio) {
      if (radio.checked) {
        values[radio.name] = radio.value;
      }
    });
    texts().forEach(function (input) {
      if (input.value) {
        values[input.name] = input.value;
      }
    });
    return values;
  }

  function applyValues(values) {
    radios().forEach(function (radio) {
      radio.checked = values[radio.name] === radio.value;
    });
    texts().forEach(function (input) {
      input.value = values[input.name] || "";
    });
  }

  function fieldValue(name) {
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    if (checked) {
      return checked.value;
    }
    var element = form.elements.namedItem(name);
    return element && "value" in element && element.type !== "radio" ? element.value.trim() : "";
  }

  /* The form as the API's JSON (api-contract.md, "Questionnaires"); null when it is incomplete
   * (the server's page then says what is missing, next to it). */
  function serialise() {
    if (instrument === "faam") {
      var answers = {};
      Array.prototype.forEach.call(form.querySelectorAll("[data-step]"), function (item) {
        var value = fieldValue(item.getAttribute("data-step"));
        if (value) {
          answers[item.getAttribute("data-step")] = value === "na" ? "na" : parseInt(value, 10);
        }
      });
      return Object.keys(answers).length ? { instrument: "faam", date: day, answers: answers } : null;
    }
    var activities = [];
    var complete = true;
    Array.prototype.forEach.call(form.querySelectorAll("[data-psfs-row]"), function (row, index) {
      var name = fieldValue("activity_" + (index + 1));
      var score = fieldValue("score_" + (index + 1));
      if (!name && !score) {
        return;
      }
      if (!name || !score) {
        complete = false;
      }
      activities.push({ activity: name, score: score === "" ? null : parseInt(score, 10) });
    });
    return complete && activities.length ? { instrument: "psfs", date: day, activities: activities } : null;
  }

  /* A body from the queue back into the form. */
  function restoreBody(body) {
    var values = {};
    if (body.answers) {
      Object.keys(body.answers).forEach(function (key) { values[key] = String(body.answers[key]); });
    }
    (body.activities || []).forEach(function (row, index) {
      values["activity_" + (index + 1)] = row.activity;
      if (row.score !== null && row.score !== undefined) {
        values["score_" + (index + 1)] = String(row.score);
      }
    });
    // Fixed activities (a follow-up) keep their hidden names.
    Array.prototype.forEach.call(form.querySelectorAll('input[type="hidden"][name^="activity_"]'), function (hidden) {
      delete values[hidden.name];
    });
    applyValues(values);
  }

  /* --- Kept on the phone as they are given ------------------------------------------------- */

  var step = 0;
  var resumed = false;

  function saveDraft() {
    try {
      window.localStorage.setItem(draftKey, JSON.stringify({ values: readValues(), step: step, day: day }));
    } catch (error) { /* Storage full or refused: the answers stay on the page. */ }
  }

  function loadDraft() {
    try {
      return JSON.parse(window.localStorage.getItem(draftKey) || "null");
    } catch (error) {
      return null;
    }
  }

  function clearDraft() {
    try {
      window.localStorage.removeItem(draftKey);
    } catch (error) { /* Nothing kept. */ }
  }

  /* --- FAAM: one question per screen ------------------------------------------------------- */

  var items = Array.prototype.slice.call(form.querySelectorAll("[data-step]"));
  var review = form.querySelector("[data-review]");
  // After the server's messages (a plain POST refused) every question shows, with its message.
  var stepping = form.hasAttribute("data-one-per-screen") && items.length > 0 && review && !bound;
  var nav = null;
  var progress = null;
  var progressText = null;

  function answered(item) {
    return Boolean(form.querySelector('input[name="' + item.getAttribute("data-step") + '"]:checked'));
  }

  function answeredCount() {
    return items.filter(answered).length;
  }

  function button(text, className) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = className;
    element.textContent = text;
    return element;
  }

  function updateReview() {
    var count = answeredCount();
    var counter = review.querySelector("[data-review-count]");
    counter.textContent = interpolate(
      ngettext("You answered %(count)s of %(total)s question.", "You answered %(count)s of %(total)s questions.", items.length),
      { count: count, total: items.length },
      true
    );
    var list = review.querySelector(".q-skipped");
    if (list) {
      list.remove();
    }
    var skipped = items.filter(function (item) { return !answered(item); });
    if (!skipped.length) {
      return;
    }
    var intro = document.createElement("p");
    intro.textContent = gettext("Skipped (tap to answer):");
    list = document.createElement("div");
    list.className = "q-skipped";
    list.appendChild(intro);
    skipped.forEach(function (item) {
      var jump = button(item.querySelector(".q-number").textContent + " · " + item.querySelector(".q-text").textContent, "button q-jump");
      jump.addEventListener("click", function () { showStep(items.indexOf(item), true); });
      list.appendChild(jump);
    });
    review.appendChild(list);
  }

  function showStep(index, focus) {
    step = Math.max(0, Math.min(index, items.length));
    items.forEach(function (item, i) {
      item.hidden = i !== step;
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-section]"), function (section) {
      section.hidden = !section.contains(items[step] || null);
    });
    var atReview = step === items.length;
    review.hidden = !atReview;
    saveBar.hidden = !atReview;
    nav.querySelector("[data-back]").disabled = step === 0;
    nav.querySelector("[data-next]").hidden = atReview;
    var count = answeredCount();
    progress.value = count;
    progressText.textContent = interpolate(gettext("%(count)s of %(total)s answered"), { count: count, total: items.length }, true);
    if (atReview) {
      updateReview();
    }
    if (focus && resumed) {
      // "Welcome back" is said once, on the screen where the patient comes back.
      resumed = false;
      show([]);
    }
    if (focus) {
      var target = atReview ? review : items[step].querySelector("legend");
      target.focus({ preventScroll: true });
      window.scrollTo(0, Math.max(0, form.getBoundingClientRect().top + window.scrollY - 8));
    }
    saveDraft();
  }

  function setUpStepping() {
    form.classList.add("stepping");
    nav = document.createElement("div");
    nav.className = "q-nav";
    var back = button(gettext("Back"), "button");
    back.setAttribute("data-back", "");
    var next = button(gettext("Next"), "button primary");
    next.setAttribute("data-next", "");
    var meter = document.createElement("div");
    meter.className = "q-progress";
    progress = document.createElement("progress");
    progress.max = items.length;
    progress.id = "q-progress-meter";
    progressText = document.createElement("label");
    progressText.htmlFor = progress.id;
    meter.appendChild(progressText);
    meter.appendChild(progress);
    nav.appendChild(back);
    nav.appendChild(meter);
    nav.appendChild(next);
    form.insertBefore(nav, saveBar);
    back.addEventListener("click", function () { showStep(step - 1, true); });
    next.addEventListener("click", function () { showStep(step + 1, true); });
    items.forEach(function (item, index) {
      item.addEventListener("click", function (event) {
        // A tap (or click) on an answer moves on; keys (arrows, space) stay on the question,
        // and Next moves on: a keyboard user is not carried past a question.
        if (event.target.type === "radio" && event.detail > 0 && index === step) {
          window.setTimeout(function () {
            if (step === index) {
              showStep(index + 1, true);
            }
          }, 250);
        }
      });
    });
  }

  /* --- PSFS: one row at a time ------------------------------------------------------------- */

  function setUpRows() {
    var rows = Array.prototype.slice.call(form.querySelectorAll("[data-psfs-row]"));
    if (rows.length < 2 || form.querySelector('input[type="hidden"][name^="activity_"]')) {
      return; // A follow-up re-rates the activities named before: every row shows.
    }
    var add = button(gettext("Add another activity"), "button wide q-add");
    function filled(row) {
      return Array.prototype.some.call(row.querySelectorAll("input"), function (input) {
        return input.type === "radio" ? input.checked : Boolean(input.value);
      }) || row.classList.contains("field-error");
    }
    function update() {
      var lastFilled = 0;
      rows.forEach(function (row, index) {
        if (filled(row)) {
          lastFilled = index;
        }
      });
      var shown = rows.filter(function (row) { return !row.hidden; }).length;
      var visible = Math.max(shown, lastFilled + 1, 1);
      rows.forEach(function (row, index) {
        row.hidden = index >= visible;
      });
      add.hidden = visible >= rows.length;
    }
    rows.forEach(function (row, index) {
      row.hidden = index > 0;
    });
    add.addEventListener("click", function () {
      var next = rows.filter(function (row) { return row.hidden; })[0];
      if (next) {
        next.hidden = false;
        var input = next.querySelector('input[type="text"]');
        if (input) {
          input.focus();
        }
      }
      add.hidden = !rows.some(function (row) { return row.hidden; });
      saveDraft();
    });
    form.insertBefore(add, saveBar);
    update();
    form.addEventListener("change", update);
  }

  /* --- Sending through the offline queue --------------------------------------------------- */

  function queueKey() {
    // One queued item per questionnaire and day: the address the answers are sent to, with the
    // questionnaire and day after "#" (never sent), so that a newer Send of the same day
    // replaces the queued one.
    return form.getAttribute("data-api") + "#" + instrument + "-" + day;
  }

  function askForBackgroundSync() {
    if (!("serviceWorker" in navigator)) {
      return;
    }
    navigator.serviceWorker.ready.then(function (registration) {
      return registration.sync ? registration.sync.register("entry-queue") : null;
    }).catch(function () { /* No Background Sync: a page open and `online` still send. */ });
  }

  function submitNatively() {
    HTMLFormElement.prototype.submit.call(form);
  }

  function signInLine() {
    var link = document.createElement("a");
    link.href = "/accounts/login/?next=" + encodeURIComponent(location.pathname + location.search);
    link.textContent = gettext("Sign in to send");
    var sentence = gettext("You have been signed out, so it could not be sent yet. %(link)s.");
    var at = sentence.indexOf("%(link)s");
    if (at === -1) {
      return [sentence, " ", link];
    }
    return [sentence.slice(0, at), link, sentence.slice(at + "%(link)s".length)];
  }

  function doneAddress() {
    var address = form.getAttribute("data-done-url");
    return address + (address.indexOf("?") === -1 ? "?" : "&") + "saved=" + instrument;
  }

  function afterSend(item, result) {
    sendButton.disabled = false;
    if (!result || result.outcome === "retry") {
      show([gettext("Waiting to send — saved on this phone. Your answers are sent as soon as you are back online.")]);
      askForBackgroundSync();
      return null;
    }
    if (result.outcome === "sent") {
      location.assign(doneAddress());
      return null;
    }
    if (result.outcome === "refused") {
      // The server's own page shows what is wrong, next to each question.
      return Queue.remove(item.api).then(submitNatively);
    }
    show([gettext("Waiting to send — saved on this phone."), signInLine()]);
    return null;
  }

  function onSubmit(event) {
    event.preventDefault();
    var body = serialise();
    if (!body) {
      if (navigator.onLine) {
        submitNatively(); // The server's page says what is missing.
      } else if (instrument === "faam") {
        show([gettext("Answer at least one question, then press Send.")]);
      } else {
        show([gettext("Name at least one activity and rate each one you name from 0 to 10, then press Send.")]);
      }
      return;
    }
    sendButton.disabled = true;
    show([gettext("Sending…")]);
    var item = {
      api: queueKey(),
      method: "POST",
      kind: "questionnaire",
      instrument: instrument,
      date: day,
      episode: parseInt(episode, 10),
      user: user,
      body: body,
      version: null,
      csrf: csrfToken,
      dayUrl: form.getAttribute("data-page-url")
    };
    Queue.save(item).then(
      function (saved) {
        item = saved;
        clearDraft(); // The queue holds the answers now.
        return Queue.flush({ user: user, csrfToken: csrfToken, wait: true })
          .then(function (report) { return afterSend(item, report && report.results[item.api]); })
          .catch(function () { return afterSend(item, null); });
      },
      function () {
        sendButton.disabled = false;
        submitNatively(); // No IndexedDB here: the plain form POST.
      }
    );
  }

  /* --- Start ------------------------------------------------------------------------------- */

  function start(queued) {
    var lines = [];
    if (offlineCopy) {
      Array.prototype.forEach.call(document.querySelectorAll(".messages"), function (box) { box.hidden = true; });
      lines.push(gettext("You are offline: this is the copy of this page kept on your phone. What you send goes when you are back online."));
    }
    var draft = bound ? null : loadDraft();
    if (queued && String(queued.user) === String(user)) {
      restoreBody(queued.body);
      lines.push(queued.state === "failed"
        ? gettext("Your answers, saved on this phone, could not be sent. Check them and press Send answers again.")
        : gettext("Waiting to send — saved on this phone. What you sent is filled in below."));
    } else if (draft && draft.values && Object.keys(draft.values).length) {
      applyValues(draft.values);
      resumed = true;
      lines.push(gettext("Welcome back: the answers you gave earlier on this phone are filled in."));
    }
    if (stepping) {
      setUpStepping();
      // Where the patient stopped: the first question not answered yet, else the last screen.
      var first = items.findIndex(function (item) { return !answered(item); });
      showStep(first === -1 ? items.length : first, false);
    }
    if (instrument === "psfs") {
      setUpRows();
    }
    show(lines);
    form.addEventListener("change", saveDraft);
    form.addEventListener("input", saveDraft);
    if (Queue && user && window.indexedDB) {
      form.addEventListener("submit", onSubmit);
    }
  }

  if (Queue && user && window.indexedDB) {
    Queue.get(queueKey()).then(start, function () { start(null); });
  } else {
    start(null);
  }
})();
