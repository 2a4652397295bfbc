/*! kizuna-inapp.js — in-app guidance for kizuna.js. AGPL-3.0-or-later. No dependencies. */
/*
 * kizuna.js loads this file from the same host (unless `kizuna.load(key, {guidance: false})`)
 * and it follows every call through `kizuna.on()`. After load/identify/group/page and after a
 * tracked event it asks Kizuna (debounced) which in-app messages this viewer may see on this
 * page (`POST ${host}/v1/inapp/decide`, text/plain JSON with the write key, like /v1/batch),
 * then renders them in a Shadow DOM so the host page's CSS cannot reach them and theirs
 * cannot leak out:
 *
 *   banner  — top of the page, dismissible
 *   modal   — centred over an overlay, focus trapped, Esc closes
 *   tour    — tooltips anchored to CSS selectors, back/next/done; a missing anchor skips its step
 *   popup   — help card in the bottom corner
 *
 * A message with dwellSeconds appears once the page (path) has been visible that long; the
 * `guidanceTimeScale` option of kizuna.load() speeds that clock up (tests, demos). Shown,
 * dismissed, clicked and completed go to `${host}/v1/inapp/events`. `?kizuna_preview=<token>`
 * on the page shows the previewed message whatever its targeting.
 *
 * `kizunaGuidance.show(message, {mount})` renders one message now, inside `mount`, reporting
 * nothing: the live preview in Kizuna's own pages.
 */
(() => {
  "use strict";
  if (window.kizunaGuidance) return; // loaded twice

  let cfg = null; // kizuna.js's options (writeKey, host, o: what load() was given)
  let user = {}; // a: anonymousId, u: userId, g: groupId
  const P = "kizuna.";
  const now = () => performance.now();
  const visible = () => document.visibilityState !== "hidden";
  const scale = () => (cfg.o && cfg.o.guidanceTimeScale > 0 ? cfg.o.guidanceTimeScale : 1);
  const delay = () => (cfg.o && cfg.o.guidanceDelay >= 0 ? cfg.o.guidanceDelay : 300);

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

  const G_TEXT = {
    ja: { close: "閉じる", next: "次へ", back: "戻る", done: "完了", step: "ステップ {n} / {total}", label: "お知らせ" },
    en: { close: "Close", next: "Next", back: "Back", done: "Done", step: "Step {n} of {total}", label: "Message" },
  };
  const G_CSS = `
:host{all:initial!important}
*{box-sizing:border-box}
.kz{font-family:"Hiragino Kaku Gothic ProN","Hiragino Sans","Noto Sans JP","Noto Sans CJK JP","Yu Gothic","Meiryo",system-ui,sans-serif;
 font-size:15px;line-height:1.7;color:#1d2a3a;line-break:strict;overflow-wrap:anywhere;word-break:normal;letter-spacing:normal;text-align:left;
 position:fixed;z-index:2147483000;display:block;visibility:visible;opacity:1;background:#fff}
.kz h2{font:inherit;font-weight:700;font-size:16px;margin:0 0 4px;color:#1d2a3a;display:block}
.kz p{margin:0;white-space:pre-line;color:#33414f;display:block}
.kz button{font:inherit;font-size:14px;line-height:1.4;cursor:pointer;border-radius:6px;padding:6px 14px;border:1px solid #c9d3de;background:#fff;color:#1d2a3a;display:inline-block;visibility:visible}
.kz button.primary{background:#2b6fd6;border-color:#2b6fd6;color:#fff}
.kz button:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
.kz .x{position:absolute;top:6px;right:8px;border:0;background:transparent;font-size:20px;line-height:1;padding:4px 8px;color:#5d6b7c}
.kz .row{display:flex;gap:8px;align-items:center;margin-top:12px;flex-wrap:wrap}
.kz .count{color:#5d6b7c;font-size:13px;margin-right:auto}
.banner{top:0;left:0;right:0;padding:12px 48px 12px 20px;background:#eaf2fd;border-bottom:1px solid #b9d2f3;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
.banner .text{flex:1;min-width:200px}
.banner .row{margin-top:0}
.overlay{position:fixed;inset:0;background:rgba(15,25,40,.45);z-index:2147482999;display:block}
.modal{top:50%;left:50%;transform:translate(-50%,-50%);width:min(480px,calc(100vw - 32px));max-height:calc(100vh - 32px);overflow:auto;padding:24px 24px 20px;border-radius:12px;box-shadow:0 12px 40px rgba(0,0,0,.25)}
.popup{right:20px;bottom:20px;width:min(340px,calc(100vw - 40px));padding:18px 18px 16px;border-radius:12px;border:1px solid #dde3ea;box-shadow:0 8px 28px rgba(0,0,0,.18)}
.tip{width:min(320px,calc(100vw - 24px));padding:16px 16px 14px;border-radius:10px;border:1px solid #dde3ea;box-shadow:0 8px 28px rgba(0,0,0,.2)}
.ring{position:fixed;z-index:2147482998;border:3px solid #2b6fd6;border-radius:8px;pointer-events:none;box-shadow:0 0 0 4000px rgba(15,25,40,.18);background:transparent;display:block}
:host([data-inline]) .kz,:host([data-inline]) .overlay{position:absolute}
:host([data-inline]) .tip{top:24px;left:24px}
`;

  let gTimer = 0; // the debounce of the next decision
  let gEvents = []; // events tracked since the last decision
  let gAsking = null; // the decision request under way
  let gAgain = false; // something happened meanwhile: ask again after it
  let gShown = new Map(); // key -> what is on screen
  let gDone = new Set(); // keys handled on this page view (shown and closed)
  let gWaiting = []; // messages waiting for their dwell time
  let gTick = 0;
  let gView = { path: null, ms: 0, last: 0 }; // visible time on the current path
  let gRoot = null;
  let gPreview = null;

  function gText(lang, name, vars) {
    let text = (G_TEXT[lang] || G_TEXT.ja)[name];
    for (const k in vars || {}) text = text.replace(`{${k}}`, vars[k]);
    return text;
  }

  function guide(reason, args) {
    if (!cfg) return;
    if (reason === "track" && args && args[0] != null) gEvents.push(latest(String(args[0])));
    if (reason === "reset") {
      for (const key of [...gShown.keys()]) close(key);
      gDone = new Set();
    }
    clearTimeout(gTimer);
    gTimer = setTimeout(decide, delay());
  }

  // Visible time on the current path, scaled by guidanceTimeScale; a new path starts at 0.
  function visibleMs() {
    const t = now();
    if (gView.path !== location.pathname) {
      gView = { path: location.pathname, ms: 0, last: t };
      gDone = new Set();
    } else if (visible()) gView.ms += (t - gView.last) * scale();
    gView.last = t;
    return gView.ms;
  }

  function decide() {
    if (gAsking) return void (gAgain = true);
    const events = gEvents.splice(0);
    const request = {
      writeKey: cfg.writeKey,
      userId: user.u,
      anonymousId: user.a,
      groupId: user.g,
      url: location.href,
      language: document.documentElement.lang || navigator.language || "",
      event: events,
    };
    if (gPreview) request.preview = gPreview;
    gAsking = fetch(`${cfg.host}/v1/inapp/decide`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: JSON.stringify(request),
      credentials: "omit",
    })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((answer) => {
        log("guidance", answer.messages);
        consider(answer.messages || []);
      })
      .catch((e) => log("guidance failed", String(e)))
      .finally(() => {
        gAsking = null;
        if (gAgain) (gAgain = false), decide();
      });
  }

  // The messages Kizuna answered replace those still waiting for their dwell time.
  function consider(messages) {
    visibleMs();
    gWaiting = messages.filter((m) => !gShown.has(m.key) && !gDone.has(m.key));
    tick();
  }

  function tick() {
    clearTimeout(gTick);
    gTick = 0;
    if (!gWaiting.length) return;
    const ms = visibleMs();
    const ready = gWaiting.filter((m) => (m.dwellSeconds || 0) * 1000 <= ms);
    gWaiting = gWaiting.filter((m) => !ready.includes(m));
    for (const m of ready) show(m);
    if (gWaiting.length) gTick = setTimeout(tick, 100);
  }

  // One banner, one popup and one modal or tour at a time: the highest priority wins (Kizuna
  // answers highest first); the others wait for the next page view.
  const slot = (kind) => (kind === "modal" || kind === "tour" ? "overlay" : kind);

  function root(mount) {
    if (mount) {
      const host = document.createElement("kizuna-guidance");
      host.setAttribute("data-inline", "");
      const shadow = host.attachShadow({ mode: "open" });
      shadow.innerHTML = `<style>${G_CSS}</style>`;
      mount.append(host);
      return shadow;
    }
    if (gRoot && gRoot.host.isConnected) return gRoot;
    const host = document.createElement("kizuna-guidance");
    // Inline !important beats any rule of the host page, and `all: initial` undoes inheritance.
    host.style.setProperty("all", "initial", "important");
    host.style.setProperty("display", "block", "important");
    gRoot = host.attachShadow({ mode: "open" });
    gRoot.innerHTML = `<style>${G_CSS}</style>`;
    (document.body || document.documentElement).append(host);
    return gRoot;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === "on") for (const e in attrs.on) node.addEventListener(e, attrs.on[e]);
      else if (attrs[k] != null) node.setAttribute(k, attrs[k]);
    }
    for (const c of children) if (c != null && c !== "") node.append(c);
    return node;
  }

  function report(m, kind, step) {
    if (m.local) return;
    const event = {
      writeKey: cfg.writeKey,
      userId: user.u,
      anonymousId: user.a,
      groupId: user.g,
      message: m.key,
      kind,
      step: step == null ? null : step,
      url: location.href,
      messageId: uuid(),
    };
    if (m.preview && gPreview) event.preview = gPreview;
    log(`guidance ${kind}`, m.key);
    fetch(`${cfg.host}/v1/inapp/events`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: JSON.stringify(event),
      keepalive: true,
      credentials: "omit",
    }).catch((e) => log("guidance report failed", String(e)));
  }

  function close(key) {
    const shown = gShown.get(key);
    if (!shown) return;
    gShown.delete(key);
    gDone.add(key);
    for (const node of shown.nodes) node.remove();
    if (shown.cleanup) shown.cleanup();
  }

  function show(m, mount) {
    if (!m || !m.key || gShown.has(m.key)) return false;
    if ([...gShown.values()].some((s) => s.slot === slot(m.kind) && !s.mount)) return false;
    const lang = m.language === "en" ? "en" : "ja";
    const shadow = root(mount);
    const state = { slot: slot(m.kind), nodes: [], cleanup: null, mount };
    const dismiss = (step) => {
      report(m, "dismissed", step);
      close(m.key);
    };
    const titleId = `kz-title-${m.id || uuid()}`;
    const heading = m.title ? el("h2", { id: titleId }, m.title) : null;
    const closeButton = (step) =>
      el("button", { type: "button", class: "x", "aria-label": gText(lang, "close"), on: { click: () => dismiss(step) } }, "×");
    const action = () =>
      m.button
        ? el("button", {
            type: "button",
            class: "primary",
            on: {
              click: () => {
                report(m, "clicked");
                close(m.key);
                if (m.buttonUrl && /^(https?:\/\/|\/)/.test(m.buttonUrl) && !mount) location.assign(m.buttonUrl);
              },
            },
          }, m.button)
        : null;
    const label = m.title || gText(lang, "label");

    if (m.kind === "tour") {
      if (!tour(m, shadow, state, lang, dismiss, mount)) return false;
    } else if (m.kind === "modal") {
      const previous = document.activeElement;
      const overlay = el("div", { class: "overlay", part: "overlay" });
      const box = el(
        "div",
        { class: "kz modal", role: "dialog", "aria-modal": "true", "aria-labelledby": heading ? titleId : null, "aria-label": heading ? null : label, lang, tabindex: "-1" },
        closeButton(), heading, el("p", {}, m.body || ""), el("div", { class: "row" }, action()),
      );
      const keys = (e) => {
        if (e.key === "Escape") return e.preventDefault(), dismiss();
        if (e.key !== "Tab") return;
        const items = [...box.querySelectorAll("button")];
        const first = items[0];
        const last = items[items.length - 1];
        const active = shadow.activeElement;
        if (e.shiftKey && (active === first || !items.includes(active))) e.preventDefault(), last.focus();
        else if (!e.shiftKey && (active === last || !items.includes(active))) e.preventDefault(), first.focus();
      };
      box.addEventListener("keydown", keys);
      overlay.addEventListener("click", () => dismiss());
      shadow.append(overlay, box);
      state.nodes.push(overlay, box);
      state.cleanup = () => previous && previous.focus && previous.focus();
      setTimeout(() => (box.querySelector("button.primary") || box).focus(), 0);
    } else {
      const kind = m.kind === "popup" ? "popup" : "banner";
      const box = el(
        "div",
        { class: `kz ${kind}`, role: kind === "popup" ? "dialog" : "region", "aria-label": label, lang },
        closeButton(),
        kind === "banner"
          ? el("div", { class: "text" }, heading, el("p", {}, m.body || ""))
          : el("div", {}, heading, el("p", {}, m.body || "")),
        el("div", { class: "row" }, action()),
      );
      box.addEventListener("keydown", (e) => e.key === "Escape" && dismiss());
      shadow.append(box);
      state.nodes.push(box);
    }
    gShown.set(m.key, state);
    report(m, "shown", m.kind === "tour" ? state.step : null);
    return true;
  }

  // A tooltip per step, next to its anchor; steps whose anchor is missing are skipped (in a
  // preview, where the customer's page is not there, every step shows unanchored).
  function tour(m, shadow, state, lang, dismiss, mount) {
    const steps = m.steps || [];
    const anchor = (i) => {
      try {
        return steps[i].selector ? document.querySelector(steps[i].selector) : null;
      } catch {
        return null;
      }
    };
    const usable = (i) => !!mount || !!anchor(i);
    const from = (i, dir) => {
      while (i >= 0 && i < steps.length && !usable(i)) i += dir;
      return i >= 0 && i < steps.length ? i : -1;
    };
    const start = from(0, 1);
    if (start < 0) return false;
    const tip = el("div", { class: "kz tip", role: "dialog", "aria-live": "polite", lang });
    const ring = el("div", { class: "ring", "aria-hidden": "true" });
    shadow.append(ring, tip);
    state.nodes.push(ring, tip);
    const place = () => {
      const target = !mount && anchor(state.step);
      if (!target) return (ring.style.display = "none");
      target.scrollIntoView({ block: "nearest", inline: "nearest" });
      const r = target.getBoundingClientRect();
      Object.assign(ring.style, { display: "block", top: `${r.top - 6}px`, left: `${r.left - 6}px`, width: `${r.width + 12}px`, height: `${r.height + 12}px` });
      const tipBox = tip.getBoundingClientRect();
      const below = r.bottom + 12 + tipBox.height < innerHeight;
      const top = below ? r.bottom + 12 : Math.max(8, r.top - 12 - tipBox.height);
      const left = Math.min(Math.max(8, r.left), innerWidth - tipBox.width - 8);
      Object.assign(tip.style, { top: `${top}px`, left: `${left}px` });
    };
    const render = () => {
      const i = state.step;
      const step = steps[i];
      const total = steps.filter((_, j) => usable(j)).length;
      const n = steps.slice(0, i + 1).filter((_, j) => usable(j)).length;
      const prev = from(i - 1, -1);
      const next = from(i + 1, 1);
      const titleId = `kz-step-${m.id || "p"}-${i}`;
      tip.setAttribute("aria-labelledby", titleId);
      tip.replaceChildren(
        el("button", { type: "button", class: "x", "aria-label": gText(lang, "close"), on: { click: () => dismiss(i) } }, "×"),
        el("h2", { id: titleId }, step.title || m.title || ""),
        el("p", {}, step.body || ""),
        el(
          "div",
          { class: "row" },
          el("span", { class: "count" }, gText(lang, "step", { n, total })),
          prev >= 0 ? el("button", { type: "button", "data-kz": "back", on: { click: () => go(prev) } }, gText(lang, "back")) : null,
          next >= 0
            ? el("button", { type: "button", class: "primary", "data-kz": "next", on: { click: () => go(next) } }, gText(lang, "next"))
            : el("button", { type: "button", class: "primary", "data-kz": "done", on: { click: finish } }, gText(lang, "done")),
        ),
      );
      place();
      setTimeout(() => tip.querySelector("button.primary").focus(), 0);
    };
    const go = (i) => {
      state.step = i;
      render();
    };
    const finish = () => {
      report(m, "completed", state.step);
      close(m.key);
    };
    tip.addEventListener("keydown", (e) => e.key === "Escape" && dismiss(state.step));
    const onMove = () => place();
    addEventListener("resize", onMove);
    addEventListener("scroll", onMove, true);
    state.cleanup = () => {
      removeEventListener("resize", onMove);
      removeEventListener("scroll", onMove, true);
    };
    state.step = start;
    render();
    return true;
  }

  function start() {
    try {
      gPreview = new URLSearchParams(location.search).get("kizuna_preview") || sessionStorage.getItem(`${P}preview`);
      if (gPreview) sessionStorage.setItem(`${P}preview`, gPreview);
    } catch {}
    document.addEventListener("visibilitychange", () => {
      visibleMs();
      tick();
    });
  }


  // kizuna.js calls this after each of its calls, with its current options and user.
  function listener(name, args, options, who) {
    const first = !cfg;
    cfg = options;
    user = who || {};
    if (first) {
      start();
      queued();
    }
    guide(name, args);
  }

  // The event just tracked, with its message id from the tracker's queue when it is there.
  function latest(event) {
    let found = { event };
    try {
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i) || "";
        if (!key.startsWith(`${P}queue.`)) continue;
        const q = JSON.parse(localStorage.getItem(key));
        for (const m of (q && q.e) || []) if (m.type === "track" && m.event === event) found = { event, messageId: m.messageId, t: m.timestamp };
      }
    } catch {}
    return found;
  }

  // Events tracked before this file loaded (the tracker's unsent queue in localStorage),
  // with their message ids, so that Kizuna counts each once whether it is stored yet or not.
  function queued() {
    try {
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i) || "";
        if (!key.startsWith(`${P}queue.`)) continue;
        const q = JSON.parse(localStorage.getItem(key));
        for (const m of (q && q.e) || []) {
          const recent = Date.now() - Date.parse(m.timestamp) < 60000;
          if (m.type === "track" && m.userId == user.u && recent) gEvents.push({ event: m.event, messageId: m.messageId });
        }
      }
    } catch {}
  }

  // A single-page app changed the URL: ask again for the new path.
  function routed() {
    setTimeout(() => cfg && guide("page"), 0);
  }
  for (const name of ["pushState", "replaceState"]) {
    const original = history[name];
    history[name] = function (...args) {
      const result = original.apply(this, args);
      routed();
      return result;
    };
  }
  addEventListener("popstate", routed);

  window.kizunaGuidance = {
    show(message, o = {}) {
      try {
        return show({ ...message, local: true }, o.mount);
      } catch (e) {
        console.warn("kizuna-inapp.js:", e);
        return false;
      }
    },
  };
  if (window.kizuna && typeof window.kizuna.on === "function") window.kizuna.on(listener);
})();
