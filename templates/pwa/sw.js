/* The offline diary's service worker (docs/diary.md, "Offline diary"); served at /sw.js by
 * rehab.views.service_worker so that its scope is the whole site.
 *
 * - Stores the app shell (our CSS, scripts, icons, the manifest and an offline page) when it
 *   installs, under a cache named after this deploy; a deploy changes the name, and the new
 *   worker deletes the old caches when it takes over.
 * - Pages: network first. Only a page that says so (the PAIS-Offline-Copy header, sent by the
 *   patient's own diary form) is kept, so that the form opens offline; no other page, no API
 *   answer and no other user's data is ever stored. The sign-in page empties the page cache:
 *   whoever signs in next on a shared phone never sees the previous patient's pages.
 * - Background Sync "entry-queue": sends the entries queued on the phone (js/offline-queue.js).
 */
"use strict";

importScripts({{ queue_script_json|safe }});

const CONFIG = {{ config_json|safe }};
const VERSION = CONFIG.version;
const SHELL_CACHE = "pais-shell-" + VERSION;
const PAGES_CACHE = "pais-pages-" + VERSION;
const SHELL_URLS = CONFIG.shellUrls;
const OFFLINE_URL = CONFIG.offlineUrl;
const LOGIN_URL = CONFIG.loginUrl;
const STATIC_URL = CONFIG.staticUrl;
const OFFLINE_COPY_HEADER = CONFIG.offlineCopyHeader;
// A kept page is fetched again by the page's prefetch only when older than this.
const PAGE_FRESH_MS = 10 * 60 * 1000;
// A kept page older than the diary's editable week is of no use: it is deleted.
const PAGE_STALE_MS = 8 * 24 * 3600 * 1000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL_URLS.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith("pais-") && name !== SHELL_CACHE && name !== PAGES_CACHE)
            .map((name) => caches.delete(name))
        )
      )
      .then(() => self.clients.claim())
  );
});

/* The key a page is kept under: its address without ?saved= (the "Saved" message is shown once,
 * not kept). */
function pageKey(address) {
  const url = new URL(address, self.location.origin);
  url.searchParams.delete("saved");
  url.hash = "";
  return url.href;
}

function keepable(response) {
  return response.ok && !response.redirected && response.headers.get(OFFLINE_COPY_HEADER) === "1";
}

async function keepPage(address, response) {
  const headers = new Headers(response.headers);
  headers.set("PAIS-Kept-At", String(Date.now()));
  const body = await response.blob();
  const cache = await caches.open(PAGES_CACHE);
  await cache.put(pageKey(address), new Response(body, { status: 200, headers }));
}

async function forgetPages() {
  await caches.delete(PAGES_CACHE);
  await PaisQueue.setMeta("user", null);
}

/* A kept page, marked so that its script knows it is the phone's copy and not the server's
 * answer (it then hides the messages that were on the page when it was kept). */
async function keptCopy(cached) {
  const text = await cached.text();
  // Whatever the page's language: <html lang="es"> as well as <html lang="en">.
  const marked = text.replace(/<html lang="([^"]*)"/, function (match) {
    return match + " data-offline-copy=\"" + (cached.headers.get("PAIS-Kept-At") || "") + "\"";
  });
  return new Response(marked, { status: 200, headers: cached.headers });
}

async function navigate(event) {
  const request = event.request;
  try {
    const response = await fetch(request);
    if (keepable(response)) {
      event.waitUntil(keepPage(request.url, response.clone()));
    } else if (new URL(response.url || request.url).pathname === LOGIN_URL) {
      // Signed out (by the patient, or the session ended): nothing of theirs stays readable.
      event.waitUntil(forgetPages());
    }
    return response;
  } catch (error) {
    const cache = await caches.open(PAGES_CACHE);
    const cached = await cache.match(pageKey(request.url));
    if (cached) {
      return keptCopy(cached);
    }
    return (await caches.match(OFFLINE_URL)) || Response.error();
  }
}

/* Static files: from the cache at once, refreshed in the background (in production their names
 * carry a content hash, so a stored copy is never wrong; in development the refresh catches
 * edits on the next load). */
async function staticFile(event) {
  const request = event.request;
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  const refreshed = fetch(request)
    .then((response) => {
      if (response.ok) {
        return cache.put(request, response.clone()).then(() => response);
      }
      return response;
    })
    .catch(() => null);
  if (cached) {
    event.waitUntil(refreshed);
    return cached;
  }
  return (await refreshed) || Response.error();
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return; // Saves and sign-outs go to the network untouched.
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) {
    return; // API answers are never stored.
  }
  if (request.mode === "navigate") {
    event.respondWith(navigate(event));
  } else if (url.pathname.startsWith(STATIC_URL) || url.pathname === OFFLINE_URL || SHELL_URLS.includes(url.pathname)) {
    event.respondWith(staticFile(event));
  }
});

/* Messages from the pages (js/offline-diary.js). */
async function keepPages(addresses) {
  const cache = await caches.open(PAGES_CACHE);
  for (const address of addresses) {
    const cached = await cache.match(pageKey(address));
    const keptAt = cached ? Number(cached.headers.get("PAIS-Kept-At") || 0) : 0;
    if (Date.now() - keptAt < PAGE_FRESH_MS) {
      continue;
    }
    try {
      const response = await fetch(address, { credentials: "same-origin", redirect: "error" });
      if (keepable(response)) {
        await keepPage(address, response);
      }
    } catch (error) {
      return; // Offline again, or signed out: try on the next page open.
    }
  }
  for (const key of await cache.keys()) {
    const kept = await cache.match(key);
    if (!kept || Date.now() - Number(kept.headers.get("PAIS-Kept-At") || 0) > PAGE_STALE_MS) {
      await cache.delete(key);
    }
  }
}

async function tellPages(message) {
  const pages = await self.clients.matchAll({ type: "window" });
  pages.forEach((page) => page.postMessage(message));
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "keep-pages" && Array.isArray(data.urls)) {
    event.waitUntil(keepPages(data.urls.filter((address) => new URL(address, self.location.origin).origin === self.location.origin)));
  } else if (data.type === "signed-out") {
    event.waitUntil(forgetPages());
  }
});

self.addEventListener("sync", (event) => {
  if (event.tag !== "entry-queue") {
    return;
  }
  event.waitUntil(
    PaisQueue.getMeta("user").then((user) => {
      if (!user) {
        return null; // Nobody signed in on this phone: the next page open sends the queue.
      }
      return PaisQueue.flush({ user: user, csrfToken: null, keepNotices: true }).then((report) => {
        tellPages({ type: "queue-changed" });
        if (report && report.retry) {
          // Still offline or the server failed: reject, so that the browser tries again.
          throw new Error("Entries are still waiting to send.");
        }
        return report;
      });
    })
  );
});

{% include "pwa/sw_push.js" %}
