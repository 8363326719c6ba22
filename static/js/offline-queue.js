/* The offline diary's queue: entries kept on the phone (IndexedDB) until the server has them.
 *
 * Loaded by the pages (before js/offline-diary.js) and by the service worker (importScripts),
 * so it touches no DOM. docs/diary.md, "Offline diary", describes the whole.
 *
 * One item per day (keyed by the entry's API address): a newer save of the same day replaces the
 * queued one. An item is deleted only when the server took it (2xx) or kept a newer copy (412);
 * sends are serialised by a lock, so each item goes out once at a time, and the PUT with
 * If-Match / If-None-Match makes a repeat after a lost answer harmless (200, nothing written).
 */
(function (global) {
  "use strict";

  // On a page, Django's JavaScript catalogue (/jsi18n/, loaded before this script) gives gettext
  // and its friends in the page's language. The service worker has no catalogue: its texts are
  // English and a page re-words what it stored (a notice keeps its day, see addNotice).
  var gettext = global.gettext || function (text) { return text; };
  var ngettext = global.ngettext || function (singular, plural, count) { return count === 1 ? singular : plural; };
  var interpolate = global.interpolate || function (format, values, named) {
    if (named) {
      return format.replace(/%\(\w+\)s/g, function (match) { return String(values[match.slice(2, -2)]); });
    }
    var index = 0;
    return format.replace(/%s/g, function () { return String(values[index++]); });
  };

  var DB_NAME = "pais-offline";
  var DB_VERSION = 1;
  var ENTRIES = "entries"; // keyPath "api"
  var META = "meta"; // key -> value: the signed-in user, version links, the fallback lock
  var LOCK = "pais-entry-queue";
  var CHANNEL = "pais-entry-queue";
  var MARK_MS = 30000; // The fallback lock's lease, for browsers without navigator.locks.

  var dbPromise = null;

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function open() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = global.indexedDB.open(DB_NAME, DB_VERSION);
        req.onupgradeneeded = function () {
          var db = req.result;
          if (!db.objectStoreNames.contains(ENTRIES)) {
            db.createObjectStore(ENTRIES, { keyPath: "api" });
          }
          if (!db.objectStoreNames.contains(META)) {
            db.createObjectStore(META);
          }
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { dbPromise = null; reject(req.error); };
      });
    }
    return dbPromise;
  }

  /* Runs work(stores) in one transaction; resolves with its result once the transaction has
   * committed. */
  function transact(names, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(names, mode);
        var stores = {};
        names.forEach(function (name) { stores[name] = tx.objectStore(name); });
        var result;
        Promise.resolve(work(stores)).then(function (value) { result = value; }, function (error) {
          tx.abort();
          reject(error);
        });
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error || new Error("aborted")); };
      });
    });
  }

  function getMeta(key) {
    return transact([META], "readonly", function (s) { return request(s[META].get(key)); });
  }

  function setMeta(key, value) {
    return transact([META], "readwrite", function (s) {
      return request(value === null ? s[META].delete(key) : s[META].put(value, key));
    });
  }

  function all() {
    return transact([ENTRIES], "readonly", function (s) { return request(s[ENTRIES].getAll()); });
  }

  function forUser(user) {
    return all().then(function (items) {
      return items.filter(function (item) { return String(item.user) === String(user); });
    });
  }

  function get(api) {
    return transact([ENTRIES], "readonly", function (s) { return request(s[ENTRIES].get(api)); });
  }

  /* Queue a save: {api, date, episode, user, body, version, csrf, dayUrl}. Replaces a queued
   * save of the same day. */
  function save(item) {
    var stored = Object.assign({}, item, {
      id: String(Date.now()) + "-" + Math.random().toString(36).slice(2),
      queued_at: new Date().toISOString(),
      state: "waiting",
      problem: null
    });
    return transact([ENTRIES], "readwrite", function (s) {
      return request(s[ENTRIES].put(stored));
    }).then(function () {
      announce();
      return stored;
    });
  }

  function remove(api) {
    return transact([ENTRIES], "readwrite", function (s) { return request(s[ENTRIES].delete(api)); });
  }

  /* The page's fresh CSRF token for every queued item of this user (the token changes at each
   * sign-in; the worker sends with the stored one). */
  function refreshTokens(user, csrf) {
    return transact([ENTRIES], "readwrite", function (s) {
      return request(s[ENTRIES].getAll()).then(function (items) {
        items.forEach(function (item) {
          if (String(item.user) === String(user)) {
            item.csrf = csrf;
            if (item.state === "sign-in") {
              item.state = "waiting";
            }
            s[ENTRIES].put(item);
          }
        });
      });
    });
  }

  /* The version this phone itself wrote on top of `version` (a chain of its own sends), so that
   * a page still showing an older version does not conflict with this phone's own save. */
  function currentVersion(api, version) {
    var hops = 0;
    function follow(v) {
      if (hops++ > 20) {
        return Promise.resolve(v === "*" ? null : v);
      }
      return getMeta("sent " + api + " " + v).then(function (next) {
        return next ? follow(next) : v === "*" ? null : v;
      });
    }
    // "*": the form saw no entry (its send went with If-None-Match: *).
    return follow(version || "*");
  }

  /* After a send: delete the item, unless a newer save of the day replaced it meanwhile; that
   * one was made on top of this send, so it now expects the version the server gave. */
  function settle(sent, newVersion) {
    return transact([ENTRIES, META], "readwrite", function (s) {
      if (newVersion && sent.version !== newVersion) {
        s[META].put(newVersion, "sent " + sent.api + " " + (sent.version || "*"));
      }
      return request(s[ENTRIES].get(sent.api)).then(function (stored) {
        if (!stored) {
          return;
        }
        if (stored.id === sent.id) {
          s[ENTRIES].delete(sent.api);
        } else if (newVersion && stored.version === sent.version) {
          stored.version = newVersion;
          s[ENTRIES].put(stored);
        }
      });
    });
  }

  function mark(sent, state, problem) {
    return transact([ENTRIES], "readwrite", function (s) {
      return request(s[ENTRIES].get(sent.api)).then(function (stored) {
        if (stored && stored.id === sent.id) {
          stored.state = state;
          stored.problem = problem || null;
          s[ENTRIES].put(stored);
        }
      });
    });
  }

  function headersFor(item, version, csrf) {
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (csrf) {
      headers["X-CSRFToken"] = csrf;
    }
    if (version) {
      headers["If-Match"] = version;
    } else {
      headers["If-None-Match"] = "*";
    }
    return headers;
  }

  function readJson(response) {
    return response.json().catch(function () { return null; });
  }

  /* A questionnaire's answers (kind "questionnaire", method "POST"): no version, and the key's
   * "#faam-<day>" stays on the phone (a fragment is never sent). Posting the same day again
   * replaces that day's answers, so a repeat after a lost answer leaves one response. */
  function postHeaders(csrf) {
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (csrf) {
      headers["X-CSRFToken"] = csrf;
    }
    return headers;
  }

  /* Send one item. Resolves with {outcome, status, body, version}; outcome is one of
   * "sent", "conflict" (412: the server kept a newer copy), "refused" (400, 404, 409: this
   * entry cannot be sent as it is), "sign-in" (401/403), "retry" (offline, or the server
   * failed). */
  function send(item, csrf) {
    var post = item.method === "POST";
    return (post ? Promise.resolve(null) : currentVersion(item.api, item.version)).then(function (version) {
      return global.fetch(item.api, {
        method: post ? "POST" : "PUT",
        credentials: "same-origin",
        headers: post ? postHeaders(csrf || item.csrf) : headersFor(item, version, csrf || item.csrf),
        body: JSON.stringify(item.body)
      }).then(function (response) {
        var status = response.status;
        return readJson(response).then(function (body) {
          var result = { status: status, body: body, version: post ? null : response.headers.get("ETag") };
          if (status >= 200 && status < 300) {
            result.outcome = "sent";
          } else if (status === 412) {
            result.outcome = "conflict";
          } else if (status === 401 || status === 403) {
            result.outcome = "sign-in";
          } else if (status === 400 || status === 404 || status === 409) {
            result.outcome = "refused";
          } else {
            result.outcome = "retry";
          }
          return result;
        });
      }, function () {
        return { outcome: "retry", status: 0, body: null, version: null };
      });
    });
  }

  function dayName(isoDate) {
    var date = new Date(isoDate + "T12:00:00");
    // The page's language (<html lang>), English days as "Saturday 5 December" (en-GB order);
    // the service worker has no page and says it in English.
    var lang = (global.document && global.document.documentElement.lang) || "en";
    var locale = lang.toLowerCase().indexOf("en") === 0 ? "en-GB" : lang;
    return date.toLocaleDateString(locale, { weekday: "long", day: "numeric", month: "long" });
  }

  /* What the patient is told when the server kept a newer copy of a day. */
  function conflictText(isoDate) {
    return interpolate(
      gettext("Your change to %(day)s was not sent: a newer copy of that day, saved on another device or by your therapist, was kept."),
      { day: dayName(isoDate) },
      true
    );
  }

  /* A message for the patient's next page (the worker has no page to show it on). */
  /* ``conflictDate``: the notice is conflictText(conflictDate), so a page re-words it in its own
   * language (the worker, which may have written it, has no catalogue). */
  function addNotice(user, text, conflictDate) {
    return transact([META], "readwrite", function (s) {
      return request(s[META].get("notices")).then(function (list) {
        var notice = { user: user, text: text };
        if (conflictDate) {
          notice.conflictDate = conflictDate;
        }
        s[META].put((list || []).concat([notice]), "notices");
      });
    });
  }

  /* What sending did to the queue: delete on "sent" and "conflict", mark otherwise. */
  function record(item, result, options) {
    if (result.outcome === "sent") {
      return settle(item, result.version);
    }
    if (result.outcome === "conflict") {
      return settle(item, null).then(function () {
        return options.keepNotices ? addNotice(item.user, conflictText(item.date), item.date) : null;
      });
    }
    if (result.outcome === "refused") {
      return mark(item, "failed", result.body);
    }
    if (result.outcome === "sign-in") {
      return mark(item, "sign-in", null);
    }
    return Promise.resolve();
  }

  /* Fallback lock for browsers without navigator.locks: a lease in IndexedDB, taken in one
   * transaction so that two tabs (or a tab and the worker) cannot both take it. */
  function takeMark() {
    return transact([META], "readwrite", function (s) {
      return request(s[META].get("sending")).then(function (until) {
        if (until && until > Date.now()) {
          return false;
        }
        s[META].put(Date.now() + MARK_MS, "sending");
        return true;
      });
    });
  }

  function withLock(wait, work) {
    if (global.navigator && global.navigator.locks) {
      return global.navigator.locks.request(LOCK, wait ? {} : { ifAvailable: true }, function (lock) {
        return lock ? work() : null;
      });
    }
    var attempt = function (tries) {
      return takeMark().then(function (taken) {
        if (taken) {
          return Promise.resolve().then(work).then(function (value) {
            return setMeta("sending", null).then(function () { return value; });
          }, function (error) {
            return setMeta("sending", null).then(function () { throw error; });
          });
        }
        if (!wait || tries > 60) {
          return null;
        }
        return new Promise(function (resolve) { setTimeout(resolve, 500); }).then(function () {
          return attempt(tries + 1);
        });
      });
    };
    return attempt(0);
  }

  /* Tells the other tabs (and the worker's pages) that the queue changed, so that their notices
   * follow; a tab whose own flush found another sender busy learns the outcome this way. */
  function announce() {
    if (typeof global.BroadcastChannel === "function") {
      var channel = new global.BroadcastChannel(CHANNEL);
      channel.postMessage("changed");
      channel.close();
    }
  }

  var listening = null;

  function onChange(listener) {
    if (typeof global.BroadcastChannel === "function") {
      listening = new global.BroadcastChannel(CHANNEL); // Kept: it lives as long as the page.
      listening.onmessage = listener;
    }
  }

  /* Send every waiting item of `user`, one at a time, under the lock. options: {user, csrfToken
   * (null in the worker: each item's stored token), wait (queue behind a running flush instead
   * of leaving it to that one), keepNotices (store a conflict's message for the next page: the
   * worker's sends)}. Resolves with {results: {api: result}, retry: bool} (null when
   * another flush was running and wait was false). */
  function flush(options) {
    return withLock(Boolean(options.wait), function () {
      return forUser(options.user).then(function (items) {
        var report = { results: {}, retry: false };
        var sendable = items.filter(function (item) {
          return item.state === "waiting" || (item.state === "sign-in" && options.csrfToken);
        });
        return sendable.reduce(function (previous, item) {
          return previous.then(function () {
            return send(item, options.csrfToken).then(function (result) {
              report.results[item.api] = Object.assign({ item: item }, result);
              if (result.outcome === "retry") {
                report.retry = true;
              }
              return record(item, result, options);
            });
          });
        }, Promise.resolve()).then(function () {
          if (sendable.length) {
            announce();
          }
          return report;
        });
      });
    });
  }

  global.PaisQueue = {
    save: save,
    get: get,
    remove: remove,
    all: all,
    forUser: forUser,
    flush: flush,
    addNotice: addNotice,
    conflictText: conflictText,
    dayName: dayName,
    onChange: onChange,
    refreshTokens: refreshTokens,
    currentVersion: currentVersion,
    getMeta: getMeta,
    setMeta: setMeta
  };
})(self);
