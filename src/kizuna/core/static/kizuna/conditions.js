/* Kizuna condition builder (kizuna.core.conditions.widgets.ConditionBuilderWidget).
 *
 * Draws a condition tree as groups ("all of" / "any of", each with a "not" toggle) and rows
 * (what → parameters → comparison → value), keeps the field's JSON textarea — the real form
 * value, validated by the server — in sync, and asks the server for the live preview.
 * Written here, no library. Every word shown comes from the page: the widget's strings and
 * the server-rendered catalogue.
 */
(function () {
  "use strict";

  // The widget includes this script once per field; the first copy does the work.
  if (window.kizunaConditions) {
    window.kizunaConditions.initAll(document);
    return;
  }

  const PREVIEW_DELAY = 400;
  const RESOLVE_DELAY = 250;
  const catalogues = {};

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => response.json());
  }

  function loadCatalogue(url) {
    if (!catalogues[url]) catalogues[url] = getJSON(url);
    return catalogues[url];
  }

  function csrfToken(root) {
    const input = (root.closest("form") || document).querySelector("[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  // h("select", {class: "x", onchange: fn, value: "a"}, child, …): a DOM element.
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    const props = {};
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "value" || key === "checked") props[key] = value;
      else el.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : String(child));
    }
    Object.assign(el, props);
    return el;
  }

  function join(path, part) {
    return path ? path + "." + part : part;
  }

  let nextId = 1;

  function newGroup(kind, children, negated) {
    return { id: nextId++, type: "group", kind: kind, not: !!negated, children: children || [] };
  }

  function newLeaf(data, negated) {
    data = data || {};
    const params = data.params && typeof data.params === "object" ? { ...data.params } : {};
    return {
      id: nextId++,
      type: "leaf",
      not: !!negated,
      metric: typeof data.metric === "string" ? data.metric : "",
      params: params,
      op: typeof data.op === "string" ? data.op : "",
      value: data.value === undefined ? null : data.value,
    };
  }

  // The stored shape → the builder's nodes. {"not": x} becomes x with its toggle on.
  function fromJSON(raw, negated) {
    if (raw && typeof raw === "object" && !Array.isArray(raw)) {
      const keys = Object.keys(raw);
      for (const kind of ["and", "or"]) {
        if (keys.length === 1 && Array.isArray(raw[kind])) {
          return newGroup(kind, raw[kind].map((child) => fromJSON(child, false)), negated);
        }
      }
      if (keys.length === 1 && keys[0] === "not") return fromJSON(raw.not, !negated);
    }
    return newLeaf(raw, negated);
  }

  function rootFrom(raw) {
    const node = fromJSON(raw === null || raw === undefined || raw === "" ? { and: [] } : raw, false);
    return node.type === "group" ? node : newGroup("and", [node], false);
  }

  class Builder {
    constructor(root) {
      this.root = root;
      root.dataset.ready = "1";
      this.textarea = root.querySelector("textarea");
      this.source = root.querySelector(".cb-source");
      this.canvas = root.querySelector(".cb-builder");
      this.status = root.querySelector(".cb-status");
      this.previewBox = root.querySelector(".cb-preview");
      this.withPreview = root.dataset.preview === "1";
      const strings = root.querySelector("script[type='application/json']");
      this.t = strings ? JSON.parse(strings.textContent) : {};
      this.meta = {}; // node id → {value_type, choices, error} for its current parameters
      this.resolved = {}; // "metric|params" → server answer
      this.timers = {};
      this.previewRequest = null;
      this.jsonMode = false;
      loadCatalogue(root.dataset.catalogueUrl)
        .then((catalogue) => this.start(catalogue))
        .catch(() => this.showStatus(this.t.failed));
    }

    start(catalogue) {
      this.catalogue = catalogue;
      this.metrics = {};
      for (const category of catalogue.categories) {
        for (const metric of category.metrics) this.metrics[metric.key] = metric;
      }
      this.tree = this.parseSource();
      // Not JSON: the textarea stays, for the person to correct, with the preview saying
      // what is wrong.
      this.jsonMode = !this.tree;
      this.canvas.hidden = this.jsonMode;
      this.source.hidden = !this.jsonMode;
      if (this.tree) this.render();
      this.toggle = h("button", { type: "button", class: "btn btn-small cb-mode", onclick: () => this.setJsonMode(!this.jsonMode) },
        this.jsonMode ? this.t.useBuilder : this.t.editJson);
      this.root.insertBefore(h("div", { class: "cb-toolbar" }, this.toggle), this.canvas);
      this.textarea.addEventListener("input", () => this.schedulePreview());
      this.preview();
    }

    parseSource() {
      const text = this.textarea.value.trim();
      try {
        return rootFrom(text ? JSON.parse(text) : null);
      } catch (error) {
        return null;
      }
    }

    setJsonMode(on) {
      if (!on) {
        const tree = this.parseSource();
        if (!tree) {
          this.showStatus(this.t.badJson);
          return;
        }
        this.tree = tree;
        this.meta = {};
        this.render();
      }
      this.jsonMode = on;
      this.canvas.hidden = on;
      this.source.hidden = !on;
      if (this.toggle) this.toggle.textContent = on ? this.t.useBuilder : this.t.editJson;
      this.showStatus("");
      this.preview();
    }

    showStatus(message) {
      this.status.replaceChildren(message ? h("div", { class: "form-errors", role: "alert" }, message) : "");
    }

    // --- Metadata of a row: value type, operators, choices --------------------------------

    entry(node) {
      return this.metrics[node.metric] || null;
    }

    metaOf(node) {
      if (this.meta[node.id]) return this.meta[node.id];
      const entry = this.entry(node);
      if (entry && entry.value_type && !entry.params.length) {
        return { value_type: entry.value_type, choices: entry.choices };
      }
      return null;
    }

    operators(node) {
      const meta = this.metaOf(node);
      return meta && meta.value_type ? this.catalogue.operators[meta.value_type] : [];
    }

    arity(node) {
      const op = this.operators(node).find((item) => item.op === node.op);
      if (op) return op.arity;
      if (Array.isArray(node.value)) return "list";
      return node.value === null ? "none" : "one";
    }

    // Ask the server what the row's parameters make of it (a custom field's type, say).
    resolve(node, immediately) {
      const entry = this.entry(node);
      if (!node.metric || (entry && !entry.params.length)) return;
      clearTimeout(this.timers[node.id]);
      const run = () => {
        const key = node.metric + "|" + JSON.stringify(node.params);
        const known = this.resolved[key];
        const answer = known ? Promise.resolve(known) : getJSON(
          this.root.dataset.choicesUrl + "?" + new URLSearchParams({ metric: node.metric, params: JSON.stringify(node.params) }));
        answer.then((result) => {
          this.resolved[key] = result;
          if (key !== node.metric + "|" + JSON.stringify(node.params)) return; // changed since
          this.applyMeta(node, result);
        }).catch(() => {});
      };
      if (immediately) run();
      else this.timers[node.id] = setTimeout(run, RESOLVE_DELAY);
    }

    applyMeta(node, result) {
      const before = this.meta[node.id];
      this.meta[node.id] = result;
      const same = before && before.value_type === result.value_type &&
        JSON.stringify(before.choices) === JSON.stringify(result.choices);
      if (same) return;
      const ops = result.value_type ? this.catalogue.operators[result.value_type] : [];
      let changed = false;
      if (ops.length && !ops.some((item) => item.op === node.op)) {
        node.op = ops[0].op;
        node.value = this.emptyValue(node);
        changed = true;
      } else if (before && result.choices && Array.isArray(node.value)) {
        // Another custom field, say: values it does not have are dropped.
        const known = new Set(result.choices.map((choice) => choice[0]));
        const kept = node.value.filter((value) => known.has(value));
        changed = kept.length !== node.value.length;
        node.value = kept;
      }
      this.redrawOpValue(node);
      if (changed) this.changed();
    }

    emptyValue(node) {
      const arity = this.arity(node);
      if (arity === "list") return [];
      if (arity === "two") return [null, null];
      return null;
    }

    // --- Serialising, with the path of each node as the server names it ----------------

    serialise(node, path, paths) {
      paths[path] = node;
      const inner = node.not ? join(path, "not") : path;
      let json;
      if (node.type === "group") {
        json = { [node.kind]: node.children.map((child, index) => this.serialise(child, join(inner, node.kind) + "[" + index + "]", paths)) };
      } else {
        json = { metric: node.metric };
        if (Object.keys(node.params).length) json.params = node.params;
        if (node.op) json.op = node.op;
        const arity = this.arity(node);
        const empty = node.value === null || node.value === "" ||
          (Array.isArray(node.value) && node.value.every((item) => item === null));
        if (arity !== "none" && !empty) json.value = node.value;
      }
      return node.not ? { not: json } : json;
    }

    changed() {
      this.paths = {};
      const json = this.serialise(this.tree, "", this.paths);
      this.textarea.value = JSON.stringify(json, null, 2);
      this.textarea.dispatchEvent(new Event("change", { bubbles: true }));
      this.schedulePreview();
    }

    // --- Drawing --------------------------------------------------------------------------

    render() {
      const focused = document.activeElement && this.canvas.contains(document.activeElement)
        ? document.activeElement.dataset.key : null;
      this.paths = {};
      this.serialise(this.tree, "", this.paths);
      for (const node of Object.values(this.paths)) {
        // Until the server has resolved a row's parameters, the defaults' type stands in.
        const entry = node.type === "leaf" ? this.entry(node) : null;
        if (entry && entry.value_type && !this.meta[node.id]) {
          this.meta[node.id] = { value_type: entry.value_type, choices: entry.choices, provisional: true };
        }
      }
      this.canvas.replaceChildren(this.drawGroup(this.tree, null));
      if (focused) this.focus(focused);
      for (const node of Object.values(this.paths)) {
        const meta = this.meta[node.id];
        if (node.type === "leaf" && (!meta || meta.provisional)) this.resolve(node, true);
      }
    }

    focus(key) {
      const el = this.canvas.querySelector("[data-key='" + key + "']");
      if (el) el.focus();
    }

    notToggle(node) {
      return h("label", { class: "cb-not", title: this.t.notHelp },
        h("input", { type: "checkbox", checked: node.not, "data-key": node.id + ":not", onchange: (event) => {
          node.not = event.target.checked;
          event.target.closest("[data-node]").classList.toggle("cb-negated", node.not);
          this.changed();
        } }),
        " " + this.t.not);
    }

    drawGroup(node, parent) {
      const children = node.children.length
        ? node.children.map((child) => child.type === "group" ? this.drawGroup(child, node) : this.drawLeaf(child, node))
        : [h("p", { class: "cb-empty muted small" }, parent ? this.t.emptyGroup : this.t.emptyRoot)];
      const kind = h("select", { class: "cb-kind", "aria-label": this.t.groupLabel, "data-key": node.id + ":kind", onchange: (event) => {
        node.kind = event.target.value;
        this.changed();
      } }, h("option", { value: "and" }, this.t.all), h("option", { value: "or" }, this.t.any));
      kind.value = node.kind;
      return h("div", { class: "cb-group" + (node.not ? " cb-negated" : ""), "data-node": node.id, role: "group" },
        h("div", { class: "cb-group-head" },
          this.notToggle(node), kind,
          parent ? this.removeButton(node, parent, this.t.removeGroup) : null),
        h("div", { class: "cb-error", role: "alert", hidden: true }),
        h("div", { class: "cb-children" }, children),
        h("div", { class: "cb-group-foot" },
          h("button", { type: "button", class: "btn btn-small cb-add-condition", "data-key": node.id + ":add", onclick: () => {
            const leaf = newLeaf({}, false);
            node.children.push(leaf);
            this.render();
            this.changed();
            this.focus(leaf.id + ":metric");
          } }, "+ " + this.t.addCondition),
          h("button", { type: "button", class: "btn btn-small cb-add-group", "data-key": node.id + ":addgroup", onclick: () => {
            const leaf = newLeaf({}, false);
            node.children.push(newGroup(node.kind === "and" ? "or" : "and", [leaf], false));
            this.render();
            this.changed();
            this.focus(leaf.id + ":metric");
          } }, "+ " + this.t.addGroup)));
    }

    removeButton(node, parent, label) {
      return h("button", { type: "button", class: "btn btn-small cb-remove", "aria-label": label, title: label, onclick: () => {
        parent.children.splice(parent.children.indexOf(node), 1);
        delete this.meta[node.id];
        this.render();
        this.changed();
      } }, "×");
    }

    metricSelect(node) {
      const groups = this.catalogue.categories.map((category) => h("optgroup", { label: category.label },
        category.metrics.map((metric) => h("option", { value: metric.key }, metric.label))));
      const unknown = node.metric && !this.metrics[node.metric]
        ? h("option", { value: node.metric }, this.t.unknownMetric.replace("%s", node.metric)) : null;
      const select = h("select", { class: "cb-metric", "aria-label": this.t.metric, "data-key": node.id + ":metric", onchange: (event) => {
        node.metric = event.target.value;
        node.params = {};
        const entry = this.entry(node);
        for (const param of entry ? entry.params : []) {
          if (param.default !== null) node.params[param.name] = param.default;
        }
        delete this.meta[node.id];
        if (entry && entry.value_type) {
          // Exact for a metric without parameters; for one with, until resolved.
          this.meta[node.id] = { value_type: entry.value_type, choices: entry.choices, provisional: true };
        }
        const ops = this.operators(node);
        node.op = ops.length ? ops[0].op : "";
        node.value = this.emptyValue(node);
        this.redrawLeaf(node);
        this.changed();
        this.resolve(node, true);
      } }, h("option", { value: "" }, this.t.chooseMetric), unknown, groups);
      select.value = node.metric;
      return select;
    }

    paramInput(node, param) {
      const key = node.id + ":param:" + param.name;
      const current = node.params[param.name];
      const update = (value) => {
        if (value === null || value === "" || Number.isNaN(value)) delete node.params[param.name];
        else node.params[param.name] = value;
        this.changed();
        this.resolve(node, false);
      };
      let input;
      if (param.input === "select") {
        const first = param.required
          ? (current === undefined ? h("option", { value: "" }, this.t.chooseOption) : null)
          : h("option", { value: "" }, this.t.any_option);
        input = h("select", { "data-key": key, onchange: (event) => {
          const raw = event.target.value;
          update(raw === "" ? null : (param.type === "integer" ? parseInt(raw, 10) : raw));
        } }, first, (param.options || []).map((option) => h("option", { value: String(option[0]) }, option[1])));
        input.value = current === undefined || current === null ? "" : String(current);
      } else if (param.input === "checkbox") {
        input = h("input", { type: "checkbox", "data-key": key, checked: !!current, onchange: (event) => update(event.target.checked) });
      } else if (param.input === "number") {
        input = h("input", { type: "number", "data-key": key, min: param.min, max: param.max, step: param.type === "integer" ? 1 : "any",
          value: current === undefined || current === null ? "" : String(current),
          oninput: (event) => update(event.target.value === "" ? null : Number(event.target.value)) });
      } else {
        input = h("input", { type: "text", "data-key": key, value: current === undefined || current === null ? "" : String(current),
          oninput: (event) => update(event.target.value.trim() || null) });
      }
      return h("label", { class: "cb-param" }, h("span", {}, param.label), input);
    }

    drawLeaf(node, parent) {
      const entry = this.entry(node);
      return h("div", { class: "cb-row" + (node.not ? " cb-negated" : ""), "data-node": node.id },
        this.notToggle(node),
        this.metricSelect(node),
        h("span", { class: "cb-params" }, (entry ? entry.params : []).map((param) => this.paramInput(node, param))),
        h("span", { class: "cb-opvalue" }, this.opValue(node)),
        this.removeButton(node, parent, this.t.removeCondition),
        h("div", { class: "cb-error", role: "alert", hidden: true }));
    }

    redrawLeaf(node) {
      const old = this.canvas.querySelector("[data-node='" + node.id + "']");
      const parent = Object.values(this.paths).find((candidate) => candidate.type === "group" && candidate.children.includes(node));
      if (old && parent) {
        const focused = document.activeElement && old.contains(document.activeElement) ? document.activeElement.dataset.key : null;
        old.replaceWith(this.drawLeaf(node, parent));
        if (focused) this.focus(focused);
      }
    }

    redrawOpValue(node) {
      const box = this.canvas.querySelector("[data-node='" + node.id + "'] > .cb-opvalue");
      if (box) box.replaceChildren(...this.opValue(node).filter((child) => child !== null));
    }

    opValue(node) {
      if (!node.metric) return [];
      const ops = this.operators(node);
      if (!ops.length) return [];
      const select = h("select", { class: "cb-op", "aria-label": this.t.operator, "data-key": node.id + ":op", onchange: (event) => {
        const before = this.arity(node);
        node.op = event.target.value;
        if (this.arity(node) !== before) node.value = this.emptyValue(node);
        this.redrawOpValue(node);
        this.changed();
      } }, ops.map((op) => h("option", { value: op.op }, op.label)));
      select.value = node.op;
      return [select, this.valueInput(node)];
    }

    valueInput(node) {
      const meta = this.metaOf(node);
      const arity = this.arity(node);
      const entry = this.entry(node);
      const unit = entry && entry.unit ? h("span", { class: "cb-unit muted" }, entry.unit) : null;
      const key = node.id + ":value";
      if (arity === "none") return null;
      if (meta.value_type === "choice" && arity === "list") {
        const chosen = new Set(Array.isArray(node.value) ? node.value : []);
        const boxes = (meta.choices || []).map((choice) => h("label", {},
          h("input", { type: "checkbox", value: choice[0], checked: chosen.has(choice[0]), onchange: (event) => {
            const picked = new Set(Array.isArray(node.value) ? node.value : []);
            if (event.target.checked) picked.add(choice[0]); else picked.delete(choice[0]);
            node.value = meta.choices.map((item) => item[0]).filter((value) => picked.has(value));
            this.changed();
          } }), " " + choice[1]));
        return h("span", { class: "cb-choices", role: "group", "aria-label": this.t.value, "data-key": key },
          boxes.length ? boxes : h("span", { class: "muted small" }, this.t.noChoices));
      }
      if (arity === "list") {
        return h("input", { type: "text", class: "cb-value", "aria-label": this.t.value, placeholder: this.t.commaHelp, title: this.t.commaHelp, "data-key": key,
          value: Array.isArray(node.value) ? node.value.join(", ") : "",
          oninput: (event) => {
            node.value = event.target.value.split(",").map((item) => item.trim()).filter(Boolean);
            this.changed();
          } });
      }
      const numeric = meta.value_type === "number";
      const scalar = (raw) => {
        if (raw === "") return null;
        return numeric && Number.isFinite(Number(raw)) ? Number(raw) : raw;
      };
      const field = (value, label, onInput, suffix) => h("input", {
        type: numeric ? "number" : "text", step: numeric ? "any" : null, class: "cb-value", "aria-label": label,
        "data-key": key + suffix, value: value === null || value === undefined ? "" : String(value), oninput: onInput });
      if (arity === "two") {
        const pair = Array.isArray(node.value) ? node.value.slice(0, 2) : [null, null];
        const set = (index) => (event) => {
          const next = Array.isArray(node.value) ? node.value.slice(0, 2) : [null, null];
          next[index] = scalar(event.target.value);
          node.value = next;
          this.changed();
        };
        return h("span", { class: "cb-between" }, field(pair[0], this.t.lowest, set(0), ":0"), " " + this.t.and + " ",
          field(pair[1], this.t.highest, set(1), ":1"), unit);
      }
      return h("span", { class: "cb-between" }, field(node.value, this.t.value, (event) => {
        node.value = scalar(event.target.value);
        this.changed();
      }, ""), unit);
    }

    // --- Preview and errors -------------------------------------------------------------

    schedulePreview() {
      clearTimeout(this.timers.preview);
      // An answer for the tree as it was would now highlight the wrong row.
      if (this.previewRequest) this.previewRequest.abort();
      this.timers.preview = setTimeout(() => this.preview(), PREVIEW_DELAY);
    }

    preview() {
      clearTimeout(this.timers.preview);
      if (this.previewRequest) this.previewRequest.abort();
      const request = new AbortController();
      this.previewRequest = request;
      const body = new URLSearchParams({ tree: this.textarea.value, count: this.withPreview ? "1" : "0" });
      if (this.previewBox) this.previewBox.classList.add("cb-loading");
      fetch(this.root.dataset.previewUrl, {
        method: "POST", body: body, credentials: "same-origin", signal: request.signal,
        headers: { "X-CSRFToken": csrfToken(this.root), Accept: "text/html" },
      }).then((response) => {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      }).then((html) => {
        const holder = h("div");
        holder.innerHTML = html;
        const result = holder.querySelector(".cb-result");
        this.highlight(result);
        if (this.previewBox) {
          this.previewBox.replaceChildren(...holder.childNodes);
          this.previewBox.classList.remove("cb-loading");
          this.showStatus("");
        } else {
          // No preview: only what is wrong is shown.
          this.status.replaceChildren(...(result && result.dataset.errorMessage !== undefined ? holder.childNodes : []));
        }
      }).catch((error) => {
        if (error.name === "AbortError") return;
        if (this.previewBox) this.previewBox.classList.remove("cb-loading");
        this.showStatus(this.t.failed);
      });
    }

    highlight(result) {
      for (const el of this.canvas.querySelectorAll(".cb-invalid")) el.classList.remove("cb-invalid");
      for (const el of this.canvas.querySelectorAll(".cb-error")) {
        el.hidden = true;
        el.textContent = "";
      }
      if (!result || result.dataset.errorPath === undefined || this.jsonMode) return;
      const path = result.dataset.errorPath;
      let best = null;
      for (const candidate of Object.keys(this.paths || {})) {
        const inside = candidate === "" || path === candidate ||
          path.startsWith(candidate + ".") || path.startsWith(candidate + "[");
        if (inside && (best === null || candidate.length > best.length)) best = candidate;
      }
      if (best === null) return;
      const el = this.canvas.querySelector("[data-node='" + this.paths[best].id + "']");
      if (!el) return;
      el.classList.add("cb-invalid");
      const message = el.querySelector(":scope > .cb-error");
      message.textContent = result.dataset.errorMessage;
      message.hidden = false;
    }
  }

  function initAll(scope) {
    for (const root of (scope || document).querySelectorAll("[data-condition-builder]:not([data-ready])")) {
      new Builder(root);
    }
  }

  window.kizunaConditions = { initAll: initAll };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => initAll(document));
  else initAll(document);
  // Builders that arrive in HTMX swaps (a form loaded into a panel).
  document.addEventListener("htmx:load", (event) => initAll(event.detail.elt.parentNode || document));
})();
