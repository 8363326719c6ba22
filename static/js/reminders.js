/* Reminders: the time-zone prompt, and "Get reminders on this phone" (Web Push).
 *
 * Both enhance server-rendered pages that work without JavaScript: the prompt is rendered
 * hidden and shown only when the phone's time zone differs from the one on file; the push
 * buttons are rendered hidden and shown only where the browser can receive push messages.
 * See docs/reminders.md. */
(function () {
  "use strict";
  // Included by the time-zone prompt and by the reminders page: one page may load it twice,
  // and two click handlers would subscribe twice.
  if (window.paisRemindersStarted) return;
  window.paisRemindersStarted = true;

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

  // --- The time-zone prompt -------------------------------------------------------------------
  function offerPhoneTimezone() {
    var prompt = document.getElementById("timezone-prompt");
    if (!prompt || !window.Intl || !Intl.DateTimeFormat) return;
    var detected;
    try {
      detected = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (error) {
      return;
    }
    if (!detected || detected === prompt.dataset.currentZone) return;
    var input = prompt.querySelector("[data-detected-zone]");
    var label = prompt.querySelector("[data-detected-zone-label]");
    if (!input || !label) return;
    input.value = detected;
    label.textContent = detected.replace(/_/g, " ");
    prompt.hidden = false;
  }

  // --- Web Push on this device ----------------------------------------------------------------
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) return meta.content;
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function keyBytes(base64url) {
    var padded = base64url.replace(/-/g, "+").replace(/_/g, "/");
    padded += "====".slice(0, (4 - (padded.length % 4)) % 4);
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function workerRegistration() {
    // The offline diary's script registers the worker; if it has not (yet), register /sw.js
    // ourselves, but only if the server has one.
    return navigator.serviceWorker.getRegistration("/").then(function (existing) {
      if (existing) return navigator.serviceWorker.ready;
      return fetch("/sw.js", { method: "HEAD", credentials: "same-origin" }).then(function (answer) {
        if (!answer.ok) throw new Error("no service worker on this site");
        return navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
          return navigator.serviceWorker.ready;
        });
      });
    });
  }

  function setUpPushDevice() {
    var box = document.getElementById("push-device");
    if (!box || box.hasAttribute("data-push-off")) return;
    var status = document.getElementById("push-status");
    var subscribeButton = document.getElementById("push-subscribe");
    var unsubscribeButton = document.getElementById("push-unsubscribe");
    var subscriptionsUrl = box.dataset.subscriptionsUrl;
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      status.textContent = gettext("This browser cannot show notifications from the diary; reminders come by email.");
      return;
    }

    function show(subscribed) {
      subscribeButton.hidden = subscribed;
      unsubscribeButton.hidden = !subscribed;
      if (subscribed) {
        status.textContent = gettext("This phone gets a notification when the day is not filled in.");
      } else if (Notification.permission === "denied") {
        status.textContent = gettext("Notifications are blocked for this site in your browser's settings; allow them there first.");
      } else {
        status.textContent = gettext("This phone does not get notifications yet.");
      }
    }

    function fail(message) {
      status.textContent = message;
    }

    function send(method, url, body) {
      return fetch(url, {
        method: method,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
        body: body ? JSON.stringify(body) : undefined,
      }).then(function (answer) {
        if (!answer.ok) throw new Error("The server answered " + answer.status);
        return answer;
      });
    }

    var ready = workerRegistration();
    ready
      .then(function (registration) {
        return registration.pushManager.getSubscription();
      })
      .then(function (subscription) {
        show(Boolean(subscription));
      })
      .catch(function () {
        fail(gettext("Notifications are not available on this page yet; reminders come by email."));
      });

    subscribeButton.addEventListener("click", function () {
      subscribeButton.disabled = true;
      status.textContent = gettext("Asking your browser…");
      Notification.requestPermission()
        .then(function (permission) {
          if (permission !== "granted") throw new Error("permission " + permission);
          return Promise.all([
            ready,
            fetch(box.dataset.pushKeyUrl, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(
              function (answer) {
                if (!answer.ok) throw new Error("no key");
                return answer.json();
              }
            ),
          ]);
        })
        .then(function (both) {
          return both[0].pushManager.subscribe({
            userVisibleOnly: true,
            applicationServerKey: keyBytes(both[1].public_key),
          });
        })
        .then(function (subscription) {
          return send("POST", subscriptionsUrl, subscription.toJSON());
        })
        .then(function () {
          show(true);
        })
        .catch(function () {
          show(false);
          if (Notification.permission !== "denied") {
            fail(gettext("Could not turn on notifications on this phone. Please try again."));
          }
        })
        .then(function () {
          subscribeButton.disabled = false;
        });
    });

    unsubscribeButton.addEventListener("click", function () {
      unsubscribeButton.disabled = true;
      ready
        .then(function (registration) {
          return registration.pushManager.getSubscription();
        })
        .then(function (subscription) {
          if (!subscription) return null;
          var url = subscriptionsUrl + "?endpoint=" + encodeURIComponent(subscription.endpoint);
          // Forget it on the server first: a browser-side unsubscribe alone would leave a row
          // the next reminder would find gone (and delete) anyway, but later.
          return send("DELETE", url).catch(function () {
            return null;
          }).then(function () {
            return subscription.unsubscribe();
          });
        })
        .then(function () {
          show(false);
        })
        .catch(function () {
          fail(gettext("Could not stop notifications on this phone. Please try again."));
        })
        .then(function () {
          unsubscribeButton.disabled = false;
        });
    });
  }

  function start() {
    offerPhoneTimezone();
    setUpPushDevice();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
