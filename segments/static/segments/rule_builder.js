/* The condition builder: edits a segment's rule tree (the JSON in #id_rules, which
 * stays the "advanced" view, always in sync) and previews the count as it changes.
 * Plain JavaScript, no build step. Data it lists: the #rule-catalog JSON script. */
(function () {
  "use strict";
  const root = document.getElementById("rule-builder");
  if (!root) return;
  const catalog = JSON.parse(document.getElementById("rule-catalog").textContent);
  const textarea = document.getElementById("id_rules");
  const typeInput = document.getElementById("id_type");
  const triggerInput = document.getElementById("id_trigger_event");
  const exitInput = document.getElementById("id_exit_after_days");
  const seenEvents = new Set(catalog.events.map((e) => e.name));
  const MATCH_LABELS = { all: "ALL of these", any: "ANY of these", none: "NONE of these" };
  const OTHER = "__other__";
  let tree = parse(textarea.value);
  const advanced = document.getElementById("rb-advanced");
  const rulesRow = textarea.closest(".form-row");
  if (rulesRow) {
    advanced.appendChild(rulesRow);
    if (rulesRow.querySelector(".errorlist")) advanced.open = true;
  }
  let timer = null;
  let refreshers = [];

  function parse(text) {
    try {
      const data = JSON.parse(text || "null");
      return data && typeof data === "object" && !Array.isArray(data) ? data : group();
    } catch (e) {
      return null;
    }
  }
  function group() { return { match: "all", conditions: [], rules: [] }; }
  function segmentType() { return (typeInput && typeInput.value) || root.dataset.type || "rule"; }
  function isEmpty(g) { return !(g.conditions || []).length && !(g.rules || []).length; }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "on") Object.entries(v).forEach(([e, f]) => node.addEventListener(e, f));
      else if (k === "text") node.textContent = v;
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v);
    });
    children.flat().forEach((c) => c && node.appendChild(typeof c === "string" ? document.createTextNode(c) : c));
    return node;
  }
  function select(label, options, value, onChange) {
    const node = el("select", { "aria-label": label, on: { change: (e) => onChange(e.target.value) } });
    options.forEach(([v, text, groupLabel]) => {
      let parent = node;
      if (groupLabel) {
        parent = [...node.children].find((o) => o.label === groupLabel) || node.appendChild(el("optgroup", { label: groupLabel }));
      }
      parent.appendChild(el("option", { value: v, text: text }));
    });
    node.value = value;
    return node;
  }
  function button(text, onClick, extra) {
    return el("button", { type: "button", class: "button rb-button " + (extra || ""), on: { click: onClick } }, text);
  }

  // Fields: built-ins, attributes seen, and in an event-triggered segment the
  // trigger's properties; inside a behaviour's "where", that event's properties.
  function fieldsFor(ctx) {
    if (ctx.where) {
      const event = catalog.events.find((e) => e.name === ctx.event);
      return (event ? event.properties : []).map((f) => ({ ...f, group: "Event properties" }));
    }
    const fields = [
      ...catalog.builtins.map((f) => ({ ...f, group: "Customer" })),
      ...catalog.attributes.map((f) => ({ ...f, group: "Attributes" })),
    ];
    if (segmentType() === "event") {
      const trigger = catalog.events.find((e) => triggerInput && e.name === triggerInput.value.trim());
      (trigger ? trigger.properties : []).forEach((f) => fields.push({ ...f, group: "Trigger event" }));
    }
    return fields;
  }
  function typeOf(field, ctx) {
    const known = fieldsFor(ctx).find((f) => f.field === field);
    return known ? known.type : "any";
  }

  function castOne(text, type) {
    const t = text.trim();
    if (type !== "text" && t !== "" && !isNaN(Number(t))) return Number(t);
    if (type === "boolean" && (t === "true" || t === "false")) return t === "true";
    return t;
  }
  // Dates: a day from the picker, or relative as the rule engine writes it
  // ("-7d": 7 days ago, "now"); anything else typed in the JSON stays as written.
  const DAY = /^\d{4}-\d{2}-\d{2}$/;
  const DAYS_AGO = /^-(\d+)d$/;
  const DATE_LABELS = { Value: ["Date kind", "Days ago"], From: ["Start kind", "Start days ago"], To: ["End kind", "End days ago"] };
  function dateMode(v) {
    if (v === null || v === undefined || v === "" || DAY.test(v)) return "date";
    if (v === "now") return "now";
    return DAYS_AGO.test(v) ? "ago" : "written";
  }
  function agoHint(op, days) {
    if (!days) return "";
    if (op === "after") return `in the last ${days} days`;
    if (op === "before") return `more than ${days} days ago`;
    return "";
  }
  function dateInput(label, value, set, op) {
    const [kindLabel, daysLabel] = DATE_LABELS[label];
    let mode = dateMode(value);
    const box = el("span", { class: "rb-date" });
    const hint = el("span", { class: "rb-hint", role: "note" });
    const update = (v) => {
      value = v;
      hint.textContent = mode === "ago" && v ? agoHint(op, DAYS_AGO.exec(v)[1]) : "";
      set(v);
    };
    const draw = () => {
      const modes = [["date", "a date"], ["ago", "days ago"], ["now", "now"]];
      if (mode === "written") modes.push(["written", "as written"]);
      const kind = select(kindLabel, modes, mode, (m) => {
        mode = m;
        update(m === "now" ? "now" : m === "ago" ? "-7d" : null);
        draw();
      });
      let input = null;
      if (mode === "date") {
        input = el("input", { type: "date", "aria-label": label, value: value || "", on: { input: (e) => update(e.target.value || null) } });
      } else if (mode === "ago") {
        input = el("input", {
          type: "number", min: 1, step: 1, "aria-label": daysLabel, value: DAYS_AGO.exec(value || "") ? DAYS_AGO.exec(value)[1] : "",
          on: { input: (e) => update(/^\d+$/.test(e.target.value) && Number(e.target.value) > 0 ? `-${Number(e.target.value)}d` : null) },
        });
      } else if (mode === "written") {
        input = el("input", { type: "text", "aria-label": label, value: value, on: { input: (e) => update(e.target.value.trim()) } });
      }
      box.replaceChildren(...[input, kind, hint].filter(Boolean));
      hint.textContent = mode === "ago" && value ? agoHint(op, DAYS_AGO.exec(value)[1]) : "";
    };
    draw();
    return box;
  }

  function valueInput(cond, type, onValue) {
    const op = cond.operator;
    const v = cond.value;
    if (["is_set", "is_not_set", "is_true", "is_false"].includes(op)) return null;
    const dates = type === "date" || ["after", "before", "on"].includes(op);
    const one = (label, value, set, kind = type) => {
      if (dates && kind !== "text") return dateInput(label, value, set, op);
      const inputType = kind === "number" ? "number" : "text";
      return el("input", {
        type: inputType,
        "aria-label": label, value: value === null || value === undefined ? "" : String(value),
        step: inputType === "number" ? "any" : null,
        on: { input: (e) => set(castOne(e.target.value, kind)) },
      });
    };
    if (op === "in" || op === "not_in") {
      return el("input", {
        type: "text", "aria-label": "Values, separated by commas", placeholder: "a, b, c",
        value: Array.isArray(v) ? v.join(", ") : "",
        on: { input: (e) => onValue(e.target.value.split(",").filter((s) => s.trim()).map((s) => castOne(s, type))) },
      });
    }
    if (op === "between") {
      const pair = Array.isArray(v) ? [...v] : [null, null];
      return el("span", {},
        one("From", pair[0], (x) => { pair[0] = x; onValue([...pair]); }), " and ",
        one("To", pair[1], (x) => { pair[1] = x; onValue([...pair]); }));
    }
    if (op === "within_last" || op === "not_within_last") {
      return el("span", {}, el("input", {
        type: "number", min: 1, "aria-label": "Days", value: v === null || v === undefined ? "" : v,
        on: { input: (e) => onValue(e.target.value === "" ? null : Number(e.target.value)) },
      }), " days");
    }
    const textOp = ["contains", "not_contains", "starts_with", "ends_with", "regex"].includes(op);
    return one("Value", v, onValue, textOp ? "text" : type);
  }

  function fieldOptions(cond, ctx) {
    const fields = fieldsFor(ctx);
    const options = fields.map((f) => [f.field, f.label + (f.group === "Customer" ? "" : " (" + f.type + ")"), f.group]);
    const known = fields.some((f) => f.field === cond.field);
    if (cond.field && !known) options.push([cond.field, cond.field + " (not seen in the data)", "Other"]);
    options.push([OTHER, ctx.where ? "Another property…" : "Another attribute…", "Other"]);
    return [["", "Choose a field"], ...options];
  }

  function fieldCondition(cond, ctx, onChange) {
    const type = typeOf(cond.field, ctx);
    const operators = catalog.operators[type] || catalog.operators.any;
    const fieldSelect = select("Field", fieldOptions(cond, ctx), cond.field || "", (value) => {
        if (value === OTHER) { cond.field = ctx.where ? "event." : "attributes."; cond.custom = true; }
        else { cond.field = value; delete cond.custom; }
        const ops = catalog.operators[typeOf(cond.field, ctx)] || catalog.operators.any;
        if (!ops.includes(cond.operator)) cond.operator = ops[0];
        cond.value = null;
        onChange(true);
      });
    // The trigger event's properties change with it: new options, same element.
    if (!ctx.where) {
      refreshers.push(() => {
        const fresh = select("Field", fieldOptions(cond, ctx), cond.field || "", () => {});
        fieldSelect.replaceChildren(...fresh.childNodes);
        fieldSelect.value = cond.custom ? OTHER : cond.field || "";
      });
    }
    const parts = [fieldSelect];
    if (cond.custom) {
      parts.push(el("input", {
        type: "text", "aria-label": ctx.where ? "Property name" : "Attribute name", value: cond.field.split(".").slice(1).join("."),
        on: { input: (e) => { cond.field = (ctx.where ? "event." : "attributes.") + e.target.value.trim(); onChange(false); } },
      }));
    }
    parts.push(select("Operator", operators.map((o) => [o, catalog.labels[o] || o]), cond.operator, (value) => {
      cond.operator = value;
      cond.value = null;
      onChange(true);
    }));
    parts.push(valueInput(cond, type, (value) => { cond.value = value; onChange(false); }));
    return parts;
  }

  function behaviour(cond, ctx, onChange) {
    const listId = "rb-events-list";
    const parts = [
      "performed ",
      el("input", {
        type: "text", list: listId, "aria-label": "Event", value: cond.event || "",
        on: { change: (e) => { cond.event = e.target.value.trim(); onChange(true); } },
      }),
      select("How often", catalog.event_operators.map((o) => [o, catalog.labels[o]]), cond.operator, (value) => {
        cond.operator = value;
        if (value === "not_performed") delete cond.value; else if (cond.value === undefined) cond.value = 1;
        onChange(true);
      }),
    ];
    if (cond.operator !== "not_performed") {
      parts.push(el("input", {
        type: "number", min: 0, "aria-label": "Times", value: cond.value ?? 1,
        on: { input: (e) => { cond.value = Number(e.target.value); onChange(false); } },
      }), " times");
    }
    parts.push(" in the last ", el("input", {
      type: "number", min: 1, "aria-label": "Within days", placeholder: "any", value: cond.within_days ?? "",
      on: { input: (e) => {
        if (e.target.value === "") delete cond.within_days; else cond.within_days = Number(e.target.value);
        onChange(false);
      } },
    }), " days");
    if (cond.event && !seenEvents.has(cond.event)) parts.push(warning(cond.event));
    return parts;
  }

  function segmentTest(cond, onChange) {
    return [
      select("Membership", [["in", "is in"], ["not_in", "is not in"]], cond.operator, (value) => { cond.operator = value; onChange(false); }),
      " segment ",
      select("Segment", [["", "Choose a segment"], ...catalog.segments.map((s) => [String(s.id), s.name])], String(cond.segment || ""), (value) => {
        cond.segment = Number(value);
        onChange(false);
      }),
    ];
  }

  function warning(name) {
    return el("span", { class: "rb-warning", role: "note" }, `No "${name}" event has arrived yet: check the name.`);
  }

  function renderCondition(cond, path, label, ctx, onChange, onRemove) {
    let parts;
    if ("event" in cond && !ctx.where) parts = behaviour(cond, ctx, onChange);
    else if ("segment" in cond && !ctx.where) parts = segmentTest(cond, onChange);
    else parts = fieldCondition(cond, ctx, onChange);
    const node = el("div", { class: "rb-condition", role: "group", "aria-label": label, "data-path": path },
      el("div", { class: "rb-row" }, parts, el("span", { class: "rb-count", "aria-label": "Matching customers" }),
        button("Remove", onRemove, "rb-remove")),
      el("div", { class: "rb-error errornote", hidden: true }));
    if ("event" in cond && !ctx.where) {
      const where = cond.where;
      if (where) {
        node.appendChild(renderGroup(where, path + ".where", label + ", where", { where: true, event: cond.event },
          onChange, () => { delete cond.where; onChange(true); }));
      } else {
        node.appendChild(button("Only events where…", () => { cond.where = group(); cond.where.conditions.push({ field: "", operator: "equals", value: null }); onChange(true); }));
      }
    }
    return node;
  }

  function renderGroup(g, path, label, ctx, onChange, onRemove) {
    g.conditions = g.conditions || [];
    g.rules = g.rules || [];
    const prefix = path ? path + "." : "";
    const node = el("div", { class: "rb-group", role: "group", "aria-label": label, "data-path": path },
      el("div", { class: "rb-row" },
        select("Match", Object.entries(MATCH_LABELS), g.match || "all", (value) => { g.match = value; onChange(false); }),
        path && !path.endsWith("where") ? el("span", { class: "rb-count", "aria-label": "Matching customers" }) : null,
        onRemove ? button("Remove group", onRemove, "rb-remove") : null),
      el("div", { class: "rb-error errornote", hidden: true }));
    const lower = label === "Rules" ? "Condition" : label + ", condition";
    g.conditions.forEach((cond, i) => node.appendChild(renderCondition(cond, `${prefix}conditions[${i}]`, `${lower} ${i + 1}`, ctx, onChange,
      () => { g.conditions.splice(i, 1); onChange(true); })));
    const groupLabel = label === "Rules" ? "Group" : label + ", group";
    g.rules.forEach((rule, i) => node.appendChild(renderGroup(rule, `${prefix}rules[${i}]`, `${groupLabel} ${i + 1}`, ctx, onChange,
      () => { g.rules.splice(i, 1); onChange(true); })));
    const add = (item) => () => { g.conditions.push(item()); onChange(true); };
    node.appendChild(el("div", { class: "rb-add" },
      button(ctx.where ? "Add a property condition" : "Add a condition", add(() => ({ field: "", operator: "equals", value: null }))),
      ctx.where ? null : button("Add a behaviour", add(() => ({ event: catalog.events.length ? catalog.events[0].name : "", operator: "at_least", value: 1 }))),
      ctx.where ? null : button("Add a segment test", add(() => ({ segment: catalog.segments.length ? catalog.segments[0].id : 0, operator: "in" }))),
      button(ctx.where ? "Add a property group" : "Add a group", () => { g.rules.push(group()); onChange(true); })));
    return node;
  }

  // The JSON written back: builder-only keys dropped, an empty tree as no rules.
  function serialize() {
    if (isEmpty(tree)) return "";
    return JSON.stringify(tree, (k, v) => (k === "custom" ? undefined : v), 2);
  }

  function render() {
    const host = document.getElementById("rule-builder-tree");
    refreshers = [];
    host.replaceChildren(renderGroup(tree, "", "Rules", { where: false }, changed, null));
    applyType();
  }
  function changed(structural) {
    textarea.value = serialize();
    if (structural) render();
    schedulePreview();
  }

  function applyType() {
    const type = segmentType();
    const triggerRow = triggerInput && triggerInput.closest(".form-row");
    root.hidden = type === "static";
    if (triggerRow) triggerRow.hidden = type !== "event";
    const exitRow = exitInput && exitInput.closest(".form-row");
    if (exitRow) exitRow.hidden = type !== "event";
    const note = document.getElementById("rb-trigger-warning");
    if (note && triggerInput) {
      const name = triggerInput.value.trim();
      note.replaceChildren(name && !seenEvents.has(name) ? warning(name) : "");
    }
  }

  function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(preview, 350);
  }

  function showErrors(messages) {
    root.querySelectorAll(".rb-error").forEach((n) => { n.hidden = true; n.textContent = ""; });
    const general = [];
    const places = [...root.querySelectorAll("[data-path]")];
    messages.forEach((message) => {
      const found = /^([\w\[\].]+): (.*)$/.exec(message);
      const path = found ? found[1] : null;
      const place = path && places.filter((p) => p.dataset.path && (path === p.dataset.path || path.startsWith(p.dataset.path + ".")))
        .sort((a, b) => b.dataset.path.length - a.dataset.path.length)[0];
      if (!place) { general.push(message); return; }
      const box = place.querySelector(":scope > .rb-error");
      box.hidden = false;
      box.textContent = (box.textContent ? box.textContent + " " : "") + found[2];
    });
    const box = document.getElementById("rb-errors");
    box.replaceChildren(...general.map((m) => el("li", {}, m)));
    box.hidden = !general.length;
  }

  const SAMPLE_SHOWN = 5;
  function showSample(sample) {
    sample = sample.slice(0, SAMPLE_SHOWN);
    const box = document.getElementById("rb-preview-sample");
    box.hidden = !sample.length;
    box.replaceChildren(...(sample.length ? ["For example: "] : []), ...sample.flatMap((c, i) => [
      i ? ", " : "", el("a", { href: c.url }, c.id + (c.email ? " (" + c.email + ")" : "")),
    ]));
  }

  async function preview() {
    const out = document.getElementById("rb-preview-count");
    if (segmentType() === "static") return;
    if (isEmpty(tree)) { showErrors([]); showSample([]); out.textContent = "Add a condition to see who matches."; return; }
    const response = await fetch(root.dataset.previewUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": document.querySelector("[name=csrfmiddlewaretoken]").value },
      body: JSON.stringify({
        rules: JSON.parse(serialize()), segment: root.dataset.segment || null, type: segmentType(),
        trigger_event: triggerInput ? triggerInput.value : "",
      }),
    });
    const data = await response.json();
    if (!response.ok) { showErrors(data.errors || []); showSample([]); out.textContent = "Fix the conditions marked below to see a count."; return; }
    showErrors([]);
    out.textContent = data.count + (data.count === 1 ? " customer matches" : " customers match");
    if (segmentType() === "event") {
      // What an event segment's count means: past triggers, not members.
      out.textContent += ` (past triggers: customers who did "${triggerInput.value.trim()}" and match now; ` +
        "they enter when they do it again, or by a backfill from the segment page)";
    }
    showSample(data.sample);
    const top = [...root.querySelectorAll("#rule-builder-tree > .rb-group > .rb-condition, #rule-builder-tree > .rb-group > .rb-group")];
    top.forEach((node, i) => {
      const count = node.querySelector(":scope > .rb-row > .rb-count");
      if (count && data.conditions[i]) count.textContent = data.conditions[i].count + " match";
    });
  }

  textarea.addEventListener("input", () => {
    const parsed = parse(textarea.value);
    if (parsed) { tree = parsed; render(); schedulePreview(); }
  });
  if (typeInput) typeInput.addEventListener("change", () => { render(); schedulePreview(); });
  if (triggerInput) {
    triggerInput.setAttribute("list", "rb-events-list");
    triggerInput.after(el("span", { id: "rb-trigger-warning" }));
    triggerInput.addEventListener("input", () => { applyType(); schedulePreview(); });
    triggerInput.addEventListener("change", () => { refreshers.forEach((f) => f()); schedulePreview(); });
  }
  document.getElementById("rule-builder-tree").before(
    el("datalist", { id: "rb-events-list" }, catalog.events.map((e) => el("option", { value: e.name }))));
  if (!tree) {
    tree = group();
    document.getElementById("rb-errors").replaceChildren(el("li", {}, "The JSON below is not valid: fix it there, or start again here."));
  }
  render();
  if (!isEmpty(tree)) schedulePreview();
})();
