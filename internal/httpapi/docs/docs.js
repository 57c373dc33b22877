// docs.js renders the OpenAPI document of /api/schema/ as a page: every path and method
// with its summary, parameters, request body and responses. It builds the page with DOM
// calls and textContent only, never innerHTML, so nothing in the schema can become markup;
// with the page's Content-Security-Policy (default-src 'self') it needs no inline code.
"use strict";

const METHODS = ["get", "post", "put", "patch", "delete"];

// el makes an element with attributes and children (strings become text nodes).
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

// prose renders a description, showing `backticked` spans as code.
function prose(tag, text) {
  const parts = String(text || "").split("`");
  return el(tag, { class: "prose" }, parts.map((p, i) => (i % 2 ? el("code", {}, p) : p)));
}

// Resolver follows local $refs ("#/components/...") of the document.
class Resolver {
  constructor(doc) { this.doc = doc; }

  get(ref) {
    if (!ref.startsWith("#/")) return {};
    let node = this.doc;
    for (const raw of ref.slice(2).split("/")) {
      const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
      node = node && typeof node === "object" ? node[key] : undefined;
    }
    return node || {};
  }

  // deref returns the object a $ref names (following chains), or obj itself.
  deref(obj) {
    for (let i = 0; obj && obj.$ref && i < 20; i++) obj = this.get(obj.$ref);
    return obj || {};
  }
}

// refName is the last segment of a $ref, to name a schema.
function refName(obj) {
  return obj && obj.$ref ? obj.$ref.split("/").pop() : "";
}

// typeLabel sums up a scalar schema: type, format, enum or const, bounds, default.
function typeLabel(s) {
  let t = Array.isArray(s.type) ? s.type.join(" | ") : (s.type || "any");
  if (s.format) t += " (" + s.format + ")";
  if (s.const !== undefined) t = JSON.stringify(s.const);
  if (s.enum) t = s.enum.map((v) => JSON.stringify(v)).join(" | ");
  const notes = [];
  if (s.minimum !== undefined) notes.push("≥ " + s.minimum);
  if (s.maximum !== undefined) notes.push("≤ " + s.maximum);
  if (s.minLength !== undefined) notes.push("min length " + s.minLength);
  if (s.maxLength !== undefined) notes.push("max length " + s.maxLength);
  if (s.default !== undefined) notes.push("default " + JSON.stringify(s.default));
  if (s.readOnly) notes.push("read-only");
  if (s.writeOnly) notes.push("write-only");
  return notes.length ? t + ", " + notes.join(", ") : t;
}

// shape describes a schema as indented lines, resolving references up to a depth.
function shape(r, schema, indent, depth) {
  const pad = "  ".repeat(indent);
  const name = refName(schema);
  const s = r.deref(schema);
  if (depth > 5) return [pad + (name || "…")];
  const alts = s.oneOf || s.anyOf;
  if (alts) {
    return [pad + "one of:"].concat(...alts.map((a) => shape(r, a, indent + 1, depth + 1)));
  }
  if (s.type === "array") {
    const items = shape(r, s.items || {}, indent + 1, depth + 1);
    return [pad + "[" + (name ? "  // " + name : "")].concat(items, [pad + "]"]);
  }
  if (s.type === "object" || s.properties || s.additionalProperties) {
    const lines = [pad + "{" + (name ? "  // " + name : "")];
    const required = new Set(s.required || []);
    for (const [prop, sub] of Object.entries(s.properties || {})) {
      const inner = shape(r, sub, indent + 1, depth + 1);
      const mark = required.has(prop) ? "" : "?";
      inner[0] = pad + "  " + JSON.stringify(prop) + mark + ": " + inner[0].trimStart();
      lines.push(...inner);
    }
    if (s.additionalProperties && typeof s.additionalProperties === "object") {
      const inner = shape(r, s.additionalProperties, indent + 1, depth + 1);
      inner[0] = pad + "  <name>: " + inner[0].trimStart();
      lines.push(...inner);
    }
    if (s.maxProperties === 0) lines.push(pad + "  (empty)");
    lines.push(pad + "}");
    return lines;
  }
  return [pad + typeLabel(s)];
}

// schemaBlock shows one media type's schema and example.
function schemaBlock(r, mediaType, media) {
  const parts = [el("div", { class: "media" }, mediaType)];
  if (media.schema) parts.push(el("pre", { class: "schema" }, shape(r, media.schema, 0, 0).join("\n")));
  if (media.example !== undefined) {
    parts.push(el("pre", { class: "example" }, "example: " + JSON.stringify(media.example)));
  }
  for (const [label, ex] of Object.entries(media.examples || {})) {
    parts.push(el("pre", { class: "example" }, label + ": " + JSON.stringify(r.deref(ex).value)));
  }
  return parts;
}

// mediaBlocks shows a content map, once for media types that share a schema (the auth
// endpoints take the same fields as JSON, urlencoded and multipart).
function mediaBlocks(r, content) {
  const groups = new Map();
  for (const [type, media] of Object.entries(content || {})) {
    const key = JSON.stringify(media);
    if (!groups.has(key)) groups.set(key, { types: [], media: media });
    groups.get(key).types.push(type);
  }
  return [...groups.values()].flatMap((g) => schemaBlock(r, g.types.join(", "), g.media));
}

function paramsTable(r, params) {
  if (!params.length) return null;
  const rows = params.map((p) => {
    const q = r.deref(p);
    return el("tr", {},
      el("td", {}, el("code", {}, q.name)),
      el("td", {}, q.in),
      el("td", {}, q.required ? "required" : "optional"),
      el("td", {}, typeLabel(r.deref(q.schema || {})), q.schema && q.schema.oneOf ? " (see description)" : ""),
      el("td", {}, prose("span", q.description)));
  });
  return el("section", { class: "params" }, el("h4", {}, "Parameters"),
    el("table", {}, el("thead", {}, el("tr", {}, ["Name", "In", "", "Schema", "Description"].map((h) => el("th", {}, h)))),
      el("tbody", {}, rows)));
}

function requestBody(r, body) {
  if (!body) return null;
  const b = r.deref(body);
  const media = mediaBlocks(r, b.content);
  return el("section", { class: "body" }, el("h4", {}, "Request body" + (b.required ? " (required)" : "")),
    b.description ? prose("p", b.description) : null, media);
}

function responses(r, resps) {
  const items = Object.entries(resps || {}).map(([status, ref]) => {
    const resp = r.deref(ref);
    const headers = Object.keys(resp.headers || {});
    return el("li", { class: "response s" + status[0] },
      el("span", { class: "status" }, status), " ", prose("span", resp.description),
      headers.length ? el("div", { class: "headers" }, "Headers: " + headers.join(", ")) : null,
      mediaBlocks(r, resp.content));
  });
  return el("section", { class: "responses" }, el("h4", {}, "Responses"), el("ul", {}, items));
}

// authLabel tells whether the operation needs the bearer token.
function authLabel(doc, op) {
  const sec = op.security !== undefined ? op.security : (doc.security || []);
  if (!sec.length) return el("span", { class: "auth public" }, "public");
  if (sec.some((req) => Object.keys(req).length === 0)) return el("span", { class: "auth optional" }, "bearer optional");
  return el("span", { class: "auth bearer" }, "bearer JWT");
}

function operation(r, doc, path, method, item) {
  const op = item[method];
  const params = (item.parameters || []).concat(op.parameters || []);
  const id = "op-" + method + "-" + path;
  return el("article", { class: "operation", id: id, "data-search": (method + " " + path + " " + (op.summary || "")).toLowerCase() },
    el("h3", {},
      el("span", { class: "method " + method }, method.toUpperCase()), " ",
      el("code", { class: "path" }, path), " ", authLabel(doc, op)),
    el("p", { class: "summary" }, op.summary || ""),
    op.description ? prose("p", op.description) : null,
    paramsTable(r, params), requestBody(r, op.requestBody), responses(r, op.responses));
}

function render(doc) {
  const r = new Resolver(doc);
  const info = doc.info || {};
  document.title = info.title || document.title;
  document.getElementById("title").textContent = (info.title || "API") + " " + (info.version || "");
  document.getElementById("summary").replaceWith(prose("p", info.description || info.summary || ""));
  const main = document.getElementById("endpoints");
  const toc = document.getElementById("toc");
  main.replaceChildren();
  const list = el("ul", {});
  let count = 0;
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const method of METHODS.filter((m) => item[m])) {
      const art = operation(r, doc, path, method, item);
      main.append(art);
      list.append(el("li", { "data-search": art.dataset.search },
        el("a", { href: "#" + art.id }, el("span", { class: "method " + method }, method.toUpperCase()), " ", path)));
      count++;
    }
  }
  toc.replaceChildren(el("p", { id: "status" }, count + " endpoints"), list);
  main.dataset.state = "ready";
}

function filter(text) {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  for (const node of document.querySelectorAll("[data-search]")) {
    node.hidden = !words.every((w) => node.dataset.search.includes(w));
  }
}

async function load() {
  const main = document.getElementById("endpoints");
  try {
    const resp = await fetch("/api/schema/", { headers: { Accept: "application/json" } });
    if (!resp.ok) throw new Error("HTTP " + resp.status);
    render(await resp.json());
  } catch (err) {
    main.dataset.state = "error";
    document.getElementById("status").textContent = "Could not load /api/schema/: " + err.message;
  }
}

document.getElementById("filter").addEventListener("input", (e) => filter(e.target.value));
load();
