/*! kizuna.js — Kizuna's product-usage tracker. AGPL-3.0-or-later. No dependencies. */
/*
 * Paste the snippet (docs/tracking.md) into your web app; it queues calls until this file
 * has loaded, then this file takes over `window.kizuna`:
 *
 *   kizuna.load(writeKey, {host, flushAt, flushInterval, retryDelay, autoPage, dwellEvent, debug,
 *                          guidance, guidanceTimeScale})
 *   kizuna.identify(userId, traits)  kizuna.group(groupId, traits)  kizuna.alias(userId, previousId)
 *   kizuna.track(event, properties)  kizuna.page(name, properties)  kizuna.reset()
 *   kizuna.flush() -> Promise<boolean>  kizuna.anonymousId()  kizuna.debug(on)  kizuna.on(listener)
 *
 * Messages follow Segment's spec and go to `${host}/v1/batch` as `text/plain` JSON with the
 * write key in the body: a "simple" cross-origin request, so no CORS preflight, and no
 * cookies go to Kizuna. A message stays in localStorage until Kizuna has acknowledged it, so
 * it survives failed requests and reloads; its messageId makes a resent message count once.
 */
(() => {
  "use strict";
  const VERSION = "1.0.0";
  const P = "kizuna."; // localStorage key prefix
  const MAX_MESSAGE = 32000; // Segment's limit per message
  const MAX_REQUEST = 60000; // keepalive fetch and sendBeacon allow 64 KB in flight
  const MAX_QUEUE = 1000; // past this the oldest unsent messages are dropped
  const STALE = 120000; // a queue untouched this long belongs to a page that is gone

  const stub = window.kizuna;
  if (stub && stub.VERSION) return; // loaded twice

  let cfg = null; // the options, once load() has run
  const pending = []; // calls made before load()
  const tab = uuid(); // this page's queue in localStorage
  let queue = []; // messages Kizuna has not acknowledged yet, oldest first
  let inFlight = []; // the part of the queue in the request under way
  let sending = null; // that request's promise
  let timer = 0;
  let attempt = 0; // consecutive failed requests, for the backoff
  let closed = false; // between pagehide and pageshow
  let user = { a: null, u: null, g: null }; // anonymousId, userId, groupId
  let view = null; // the current page view, for dwell time
  let referrer = document.referrer; // of the current page view
  let lastUrl = document.referrer; // the referrer of the next one
  const now = () => performance.now();
  const visible = () => document.visibilityState !== "hidden";
  const str = (x) => (x == null ? undefined : String(x));
  const iso = () => new Date().toISOString();

  // A random (version 4) UUID. crypto.randomUUID needs a secure context, and intranet apps
  // often run on plain http: each x of the pattern gets 4 random bits, y gets 10xx.
  function uuid() {
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (c) => {
      const r = crypto.getRandomValues(new Uint8Array(1))[0] & 15;
      return (c === "x" ? r : (r & 3) | 8).toString(16);
    });
  }

  function log(what, detail) {
    if (!cfg || !cfg.debug) return;
    if (typeof cfg.debug === "function") cfg.debug(what, detail);
    else console.debug("[kizuna]", what, detail);
  }

  // Storage never throws: private modes and full quotas only cost persistence.
  function get(key) {
    try {
      return JSON.parse(localStorage.getItem(P + key));
    } catch {
      return null;
    }
  }
  function set(key, value) {
    try {
      if (value == null) localStorage.removeItem(P + key);
      else localStorage.setItem(P + key, JSON.stringify(value));
      return true;
    } catch {
      return false;
    }
  }

  // The anonymous id lives in localStorage or, where that is unavailable, in our own cookie.
  function anonymousId(fresh) {
    const cookie = document.cookie.match(/(?:^|; )kizuna_aid=([\w-]+)/);
    const id = (!fresh && (get("anonymousId") || (cookie && cookie[1]))) || uuid();
    if (!set("anonymousId", id)) {
      document.cookie = `kizuna_aid=${id};path=/;max-age=31536000;SameSite=Lax`;
    }
    return id;
  }

  function pageInfo() {
    const l = location;
    return { path: l.pathname, referrer, search: l.search, title: document.title, url: l.href };
  }

  function build(type, fields, page) {
    const context = {
      library: { name: "kizuna.js", version: VERSION },
      page: page || pageInfo(),
      userAgent: navigator.userAgent,
      locale: navigator.language,
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    };
    if (user.g) context.groupId = user.g;
    const m = { type, messageId: uuid(), timestamp: iso(), anonymousId: user.a, context };
    if (user.u) m.userId = user.u;
    for (const k in fields) if (fields[k] !== undefined) m[k] = fields[k];
    return m;
  }

  const bytes = (m) => new Blob([JSON.stringify(m)]).size;

  function enqueue(type, fields, page) {
    const m = build(type, fields, page);
    if (bytes(m) > MAX_MESSAGE) return console.warn("kizuna.js: over 32 KB, dropped", m);
    log(type, m);
    queue.push(m);
    if (queue.length > MAX_QUEUE) log("queue full, dropped", queue.splice(0, queue.length - MAX_QUEUE));
    save();
    if (!attempt && queue.length >= cfg.flushAt) schedule(0);
    else if (!timer) schedule(cfg.flushInterval);
  }

  // --- the queue in localStorage, shared safely between tabs ---------------------------------

  // A page that has been left marks its queue at time 0, for the next page to adopt at once.
  function save() {
    const q = queue.length && { k: cfg.writeKey, h: cfg.host, t: closed ? 0 : Date.now(), e: queue };
    set(`queue.${tab}`, q || null);
  }

  // Adopt the queues of pages that closed (or crashed) with messages unsent, including this
  // tab's own from before a reload. Two tabs adopting one queue at the same moment send its
  // messages twice, which their messageIds make harmless.
  function adopt() {
    try {
      const seen = new Set(queue.map((m) => m.messageId));
      const adopted = [];
      for (let i = localStorage.length - 1; i >= 0; i--) {
        const full = localStorage.key(i) || "";
        const key = full.slice(P.length);
        if (!full.startsWith(`${P}queue.`) || key === `queue.${tab}`) continue;
        const q = get(key);
        if (!q || q.k !== cfg.writeKey || q.h !== cfg.host || Date.now() - q.t < STALE) continue;
        set(key, null);
        adopted.push(...q.e.filter((m) => !seen.has(m.messageId)));
      }
      if (adopted.length) {
        queue = [...adopted, ...queue]; // older than anything this page queued
        log("adopted", adopted.length);
        save();
      }
    } catch {}
  }

  // The oldest messages not in flight (nor in `skip`), as many as one request may carry.
  function nextBatch(skip = inFlight) {
    const batch = [];
    let size = 200;
    for (const m of queue) {
      if (skip.includes(m)) continue;
      size += bytes(m) + 1;
      if (batch.length && size > MAX_REQUEST) break;
      batch.push(m);
    }
    return batch;
  }

  function body(batch) {
    const sentAt = iso();
    for (const m of batch) m.sentAt = sentAt;
    return JSON.stringify({ writeKey: cfg.writeKey, sentAt, batch });
  }

  function forget(batch) {
    queue = queue.filter((m) => !batch.includes(m));
    save();
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = queue.length ? setTimeout(flush, delay) : 0;
  }

  // Send the oldest batch now. On failure keep it and retry with exponential backoff (with
  // jitter); a 4xx other than 408/429 will not get better by retrying, so it is dropped.
  function flush() {
    if (!cfg) return Promise.resolve(false);
    clearTimeout(timer);
    timer = 0;
    if (sending) return sending;
    adopt();
    const batch = nextBatch();
    if (!batch.length) return Promise.resolve(true);
    inFlight = batch;
    sending = fetch(`${cfg.host}/v1/batch`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: body(batch),
      keepalive: true,
      credentials: "omit",
    })
      .then((r) => {
        if (!r.ok && (r.status < 400 || r.status >= 500 || r.status === 408 || r.status === 429)) {
          throw new Error(`HTTP ${r.status}`);
        }
        if (r.ok) log("sent", batch.length);
        else console.warn(`kizuna.js: Kizuna refused ${batch.length} messages (HTTP ${r.status})`), log("refused", r.status);
        forget(batch);
        attempt = 0;
        return true;
      })
      .catch((e) => {
        attempt++;
        log("send failed, will retry", String(e));
        return false;
      })
      .then((ok) => {
        sending = null;
        inFlight = [];
        const backoff = Math.min(cfg.retryDelay * 2 ** (attempt - 1), 60000) * (0.5 + Math.random() / 2);
        schedule(!ok ? backoff : queue.length >= cfg.flushAt ? 0 : cfg.flushInterval);
        return ok;
      });
    return sending;
  }

  // The page is going away: hand what is not in flight to sendBeacon, which outlives the page
  // but reports nothing back. While Kizuna answers, a beacon the browser accepted is trusted;
  // after a failed request the messages also stay in localStorage, for the next page to
  // resend (their messageIds make a delivered beacon and the resend count once).
  function beacon() {
    let batch;
    const sent = [];
    while (navigator.sendBeacon && (batch = nextBatch([...inFlight, ...sent])).length) {
      if (!navigator.sendBeacon(`${cfg.host}/v1/batch`, body(batch))) break;
      log("beacon", batch.length);
      sent.push(...batch);
    }
    if (!attempt) forget(sent);
    save();
  }

  // --- page views and time on page ----------------------------------------------------------

  // Emit the visible time on the current page view since its last dwell event: one page view
  // may yield several (one each time the page is hidden or left), so sum `seconds`.
  function dwell() {
    if (!view) return;
    if (view.since != null) view.ms += now() - view.since;
    view.since = visible() ? now() : null;
    const seconds = Math.round(view.ms / 100) / 10;
    if (seconds < 1 || !cfg.dwellEvent) return;
    view.ms = 0;
    const { path, url, title } = view.page;
    const properties = { seconds, name: view.name, path, url, title, pageViewId: view.id };
    enqueue("track", { event: cfg.dwellEvent, properties }, view.page);
  }

  function page(name, properties) {
    if (name && typeof name === "object") [name, properties] = [undefined, name];
    dwell();
    referrer = lastUrl;
    lastUrl = location.href;
    const p = pageInfo();
    view = { id: uuid(), name: str(name), page: p, ms: 0, since: visible() ? now() : null };
    enqueue("page", { name: view.name, properties: { ...p, ...properties } }, p);
  }

  // A single-page app changed the URL: a page view if the path changed. Deferred a tick so
  // that the app renders (and sets the title) first.
  function routed() {
    setTimeout(() => view && location.pathname !== view.page.path && page(), 0);
  }

  function listen() {
    document.addEventListener("visibilitychange", () => {
      if (!visible()) return dwell(), flush();
      if (view && view.since == null) view.since = now();
    });
    addEventListener("pagehide", () => {
      dwell();
      closed = true;
      beacon();
    });
    addEventListener("pageshow", (e) => {
      if (!e.persisted) return; // restored from the back/forward cache: a new visit
      closed = false;
      save();
      if (cfg.autoPage) page();
      else if (view) view.since = now();
    });
    addEventListener("online", flush);
    if (!cfg.autoPage) return;
    for (const name of ["pushState", "replaceState"]) {
      const original = history[name];
      history[name] = function (...args) {
        const result = original.apply(this, args);
        routed();
        return result;
      };
    }
    addEventListener("popstate", routed);
  }

  // --- in-app guidance ----------------------------------------------------------------------
  // Rendering in-app messages lives in kizuna-inapp.js (loaded from the same host unless
  // `guidance: false`), which follows every call through kizuna.on(); see docs/inapp.md.

  const fns = [], emit = (n, a) => fns.map((f) => f(n, a, cfg, user)); // its listeners

  // --- the public API -----------------------------------------------------------------------

  const methods = {
    load(writeKey, o = {}) {
      if (cfg) return;
      const script = document.currentScript || document.querySelector("script[src*='kizuna.js']");
      const origin = script ? new URL(script.src, location.href).origin : "";
      cfg = {
        writeKey: String(writeKey),
        host: (o.host || origin).replace(/\/+$/, ""),
        flushAt: o.flushAt || 20,
        flushInterval: o.flushInterval ?? 5000,
        retryDelay: o.retryDelay || 1000,
        autoPage: o.autoPage !== false,
        dwellEvent: o.dwellEvent === undefined ? "Page Dwell" : o.dwellEvent,
        debug: o.debug,
        o,
      };
      user = { a: anonymousId(), u: get("userId"), g: get("groupId") };
      adopt();
      listen();
      // An inserted script is async.
      o.guidance === false || document.head.append(Object.assign(document.createElement("script"), { src: `${cfg.host}/kizuna-inapp.js` }));
      // An explicit page() call before load replaces the automatic first page view.
      const manualPage = pending.some((c) => c[0] === "page");
      for (const [name, args] of pending.splice(0)) api[name](...args);
      // The first page view waits a tick, for the identify() and group() calls that usually
      // follow load() in the same script.
      if (cfg.autoPage && !manualPage) setTimeout(() => view || page(), 0);
      log("loaded", cfg);
      schedule(queue.length >= cfg.flushAt ? 0 : cfg.flushInterval);
    },
    identify(userId, traits) {
      if (userId == null || typeof userId === "object") [userId, traits] = [user.u, userId ?? traits];
      user.u = str(userId) || null;
      set("userId", user.u);
      enqueue("identify", { traits: traits || {} });
    },
    group(groupId, traits) {
      user.g = str(groupId) || null;
      set("groupId", user.g);
      enqueue("group", { groupId: user.g, traits: traits || {} });
    },
    alias(userId, previousId) {
      enqueue("alias", { userId: str(userId), previousId: str(previousId) || user.u || user.a });
    },
    track(event, properties) {
      enqueue("track", { event: str(event), properties: properties || {} });
    },
    page,
    reset() {
      user = { a: anonymousId(true), u: null, g: null };
      set("userId", null);
      set("groupId", null);
    },
  };

  const api = { VERSION };
  for (const name in methods) {
    api[name] = (...args) => {
      if (!cfg && name !== "load") return void pending.push([name, args]);
      try {
        methods[name](...args);
        emit(name, args);
      } catch (e) {
        console.warn("kizuna.js:", e); // never break the host page
      }
    };
  }
  api.flush = flush;
  api.anonymousId = () => user.a;
  api.on = (f) => fns.push(f) && emit("on"); // called after load(), with the state
  api.debug = (on) => {
    if (cfg) cfg.debug = on !== false;
  };
  window.kizuna = api;

  // Replay what the snippet queued (load() first, wherever it was called).
  if (Array.isArray(stub)) {
    for (const [name, ...args] of stub) if (name !== "load" && methods[name]) pending.push([name, args]);
    for (const [name, ...args] of stub) if (name === "load") api.load(...args);
  }
})();
