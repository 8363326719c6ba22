{% load static %}/* Web Push reminders (included into /sw.js; owned by the reminders feature, docs/reminders.md).
 * The server sends {"title", "body", "url"} encrypted to this browser (RFC 8291). */
self.addEventListener("push", function (event) {
  // Only when the push carries no words of its own (the server sends them in the patient's
  // language): these are in the language /sw.js was fetched in.
  // (rehab.views.service_worker passes them; rendered alone, as in its tests, they are English.)
  var fallback = {% if push_fallback_json %}{{ push_fallback_json|safe }}{% else %}{ title: "Rehab diary", body: "A minute for today's diary?" }{% endif %};
  var message = { title: fallback.title, body: fallback.body, url: "/" };
  if (event.data) {
    try {
      var sent = event.data.json();
      message.title = sent.title || message.title;
      message.body = sent.body || message.body;
      message.url = sent.url || message.url;
    } catch (error) {
      // Not JSON: keep the default words rather than show nothing.
    }
  }
  event.waitUntil(
    self.registration.showNotification(message.title, {
      body: message.body,
      icon: "{% static 'icons/icon-192.png' %}",
      badge: "{% static 'icons/icon-192.png' %}",
      tag: "daily-reminder",
      data: { url: message.url },
    })
  );
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  // Only our own pages: a payload can never send the patient elsewhere.
  var target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (target.origin !== self.location.origin) target = new URL("/", self.location.origin);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i += 1) {
        var client = windows[i];
        if (new URL(client.url).origin === target.origin && "focus" in client) {
          return client.focus().then(function (focused) {
            return focused && "navigate" in focused ? focused.navigate(target.href) : focused;
          });
        }
      }
      return self.clients.openWindow(target.href);
    })
  );
});
