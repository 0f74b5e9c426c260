// 12345 hotline console: plain DOM over the REST API. All user data goes through textContent.
"use strict";

const $ = (sel) => document.querySelector(sel);
let me = null;
let units = [];
let categories = [];
let current = null;

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

async function api(path, options = {}) {
  const init = { credentials: "same-origin", ...options, headers: { ...(options.headers || {}) } };
  if (options.json !== undefined) {
    init.method = init.method || "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.json);
  }
  const resp = await fetch(path, init);
  const body = resp.headers.get("Content-Type")?.includes("json") ? await resp.json() : null;
  if (!resp.ok) {
    const err = new Error(body?.error?.message || `请求失败（${resp.status}）`);
    err.status = resp.status;
    throw err;
  }
  return body;
}

// Channel codes as staff say them (the new-ticket form offers the same words).
const CHANNEL_LABELS = { phone: "电话", sms: "短信", wechat: "微信", email: "电子邮件", mailbox: "市长信箱", telegram: "Telegram",
  open311: "Open311", web: "网站", "walk-in": "来访", import: "历史导入" };
const channelName = (code) => CHANNEL_LABELS[code] || code || "—";
const unitName = (code) => (units.find((u) => u.code === code) || {}).name || code || "人工派单";
const fmt = (iso) => (iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false }) : "—");
// replaceChildren without the left-out (null/false) children, which it would print as "null"
const fill = (el, ...children) => el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false && c !== ""));
const STATE_NAMES = { new: "新建", accepted: "待派单", rejected: "不予受理", answered: "直接答复办结", emergency: "已转紧急热线",
  dispatched: "已派单", signed: "已签收", replied: "已答复", callback_done: "已回访", closed: "已办结", merged: "已合并" };
// The router's pick as text; a confidence of 0 (or no unit) is no suggestion at all.
const routeText = (route) => (route.lead_unit && Number(route.confidence || 0) > 0
  ? `${route.category_name || route.category || "?"} → ${unitName(route.lead_unit)}（置信度 ${Number(route.confidence).toFixed(2)}）` : "无建议");
const lightDot = (light) => h("span", { class: `light ${light || "none"}`, title: light || "无时限" });

// Which actions each state offers, with the fields each needs.
const ACTIONS = {
  accept: { label: "受理", roles: ["agent", "dispatcher", "admin"], fields: [] },
  dispatch: { label: "派单", roles: ["agent", "dispatcher", "admin"], fields: [["lead_unit", "主办单位", "units"], ["co_units", "协办单位（可多选，按住 Ctrl 点选）", "co_units"],
    ["category", "更正分类（可选）", "categories"],
    ["request_type", "更正诉求类型（可选，决定答复期限）", [["", "不更正"], ["咨询", "咨询"], ["求助", "求助"], ["投诉", "投诉"], ["举报", "举报"], ["建议", "建议"], ["表扬", "表扬"]]],
    ["note", "派单说明（可选）"]] },
  recall: { label: "撤回派单（改派）", roles: ["agent", "dispatcher", "admin"], fields: [["reason", "撤回原因"]] },
  reject: { label: "不予受理", roles: ["agent", "dispatcher", "admin"], fields: [["reason", "原因", [
    ["not_competent", "不属于本市政府职能范围"], ["against_law", "违反法律法规或已公开政策"],
    ["special_organs", "涉及党委、人大、政协、法院、检察院、军队事务"], ["in_litigation", "已进入诉讼、仲裁、复议程序"],
    ["secret_privacy", "涉及国家秘密、商业秘密或个人隐私"], ["handled_nothing_new", "已办结且无新情况"], ["no_substance", "无实质内容"]]]] },
  answer: { label: "直接答复", roles: ["agent", "dispatcher", "admin"], fields: [["answer", "答复内容", "textarea"]] },
  transfer_emergency: { label: "转紧急热线", roles: ["agent", "dispatcher", "admin"], fields: [["number", "号码", ["110", "119", "120"]]] },
  sign: { label: "签收", roles: ["unit"], fields: [] },
  return: { label: "退单", roles: ["unit"], fields: [["reason", "退单原因"]] },
  reply: { label: "答复", roles: ["unit"], fields: [["text", "答复内容", "textarea"]] },
  request_extension: { label: "申请延期", roles: ["unit"], fields: [["days", "工作日"], ["reason", "理由"]] },
  approve_extension: { label: "批准延期", roles: ["dispatcher", "admin"], fields: [["days", "批准工作日（留空则按申请天数）"]] },
  deny_extension: { label: "驳回延期", roles: ["dispatcher", "admin"], fields: [] },
  urge: { label: "督办", roles: ["dispatcher", "leader", "admin"], fields: [["note", "督办意见"]] },
  callback: { label: "回访", roles: ["agent", "dispatcher", "admin"], fields: [["satisfaction", "满意度", ["满意", "基本满意", "不满意"]], ["note", "市民意见（不满意时请填写原因）"]] },
  close: { label: "办结", roles: ["agent", "dispatcher", "admin"], fields: [] },
  reopen: { label: "重办", roles: ["agent", "dispatcher", "admin"], fields: [["reason", "重办原因"]] },
  merge: { label: "合并到", roles: ["agent", "dispatcher", "admin"], fields: [["into", "目标工单号"]] },
};
const BY_STATE = {
  new: ["accept", "dispatch", "answer", "reject", "transfer_emergency", "merge"],
  accepted: ["dispatch", "answer", "transfer_emergency", "merge"],
  dispatched: ["sign", "return", "recall", "urge", "merge"],
  signed: ["reply", "return", "request_extension", "approve_extension", "deny_extension", "urge", "merge"],
  replied: ["callback", "close", "urge", "merge"],  // close: only once the callback reached nobody
  callback_done: ["close", "reopen", "merge"],
  closed: ["reopen"],
};

// Units that handed this ticket back (退单), and units a dispatcher recalled it from (撤回派单): neither is
// preselected again; the list counts only the units' returns.
const unitReturns = (ticket) => (ticket.returns || []).filter((r) => r.kind === "return");
const returnedUnits = (ticket) => new Set(unitReturns(ticket).map((r) => r.unit).filter(Boolean));
const recalledUnits = (ticket) => new Set((ticket.returns || []).filter((r) => r.kind === "recall").map((r) => r.unit).filter(Boolean));

// The router's candidates for the lead unit, best first, each marked if it handed the ticket back or was
// recalled from it.
function candidates(ticket) {
  const route = ticket.routing || {};
  const codes = [...(route.top3 || []).map((c) => c.unit), route.lead_unit].filter(Boolean);
  const back = returnedUnits(ticket), recalled = recalledUnits(ticket);
  return [...new Set(codes)].map((code) => ({ code, score: (route.top3 || []).find((c) => c.unit === code)?.score,
    returned: back.has(code), recalled: recalled.has(code) && !back.has(code), known: units.some((u) => u.code === code) }));
}
const leftMark = (c) => (c.returned ? "（已退回）" : c.recalled ? "（已撤回）" : "");

// The unit the dispatch form starts with: the best candidate that neither handed it back nor was recalled from it.
const preferredUnit = (ticket) => (candidates(ticket).find((c) => !c.returned && !c.recalled && c.known) || {}).code || "";

// Sending the ticket back to a unit that returned it overrules that return: the server asks for the reason in
// the note, and the form asks for it first.
function requireReasonForReturningUnit(ticket, form) {
  const select = form.elements.namedItem("lead_unit"), note = form.elements.namedItem("note");
  const sync = () => {
    const back = returnedUnits(ticket).has(select.value);
    note.required = back;
    note.placeholder = back ? "该单位曾退单：请写明驳回退单的理由（必填）" : "派单说明（可选）";
  };
  select.addEventListener("change", sync);
  sync();
}

function actionForm(ticket, action) {
  const spec = ACTIONS[action];
  const inputs = spec.fields.map(([name, label, kind]) => {
    let input;
    if (kind === "units") {
      const back = returnedUnits(ticket), recalled = recalledUnits(ticket);
      input = h("select", { name, required: true }, h("option", { value: "" }, "请选择主办单位"),
        units.map((u) => h("option", { value: u.code },
          `${u.name}（${u.code}）${leftMark({ returned: back.has(u.code), recalled: recalled.has(u.code) && !back.has(u.code) })}`)));
      input.value = preferredUnit(ticket);
    } else if (kind === "co_units") {
      input = h("select", { name, multiple: true, size: 4 }, units.map((u) => h("option", { value: u.code }, `${u.name}（${u.code}）`)));
    } else if (kind === "categories") input = h("select", { name }, h("option", { value: "" }, "不更正"),
      categories.map((c) => h("option", { value: c.code }, `${"　".repeat(Math.max(0, c.level - 1))}${c.name}（${c.code}）`)));
    else if (Array.isArray(kind)) input = h("select", { name }, kind.map((v) => Array.isArray(v) ? h("option", { value: v[0] }, v[1]) : h("option", { value: v }, v)));
    else if (kind === "textarea") input = h("textarea", { name, rows: 6, required: true });
    else input = h("input", { name, placeholder: label, required: name !== "co_units" && name !== "note" && !label.includes("留空") });
    // the rule's co-handling units come with its lead unit, as long as the form starts with that unit
    if (name === "co_units" && ticket.routing?.co_units?.length && preferredUnit(ticket) === ticket.routing.lead_unit) {
      for (const option of input.options) option.selected = ticket.routing.co_units.includes(option.value);
    }
    return h("label", {}, label, input);
  });
  const form = h("form", { "data-action": action }, inputs, h("button", { type: "submit" }, spec.label));
  if (action === "dispatch") requireReasonForReturningUnit(ticket, form);
  if (action === "transfer_emergency" && ticket.routing?.emergency?.number) {
    form.elements.namedItem("number").value = ticket.routing.emergency.number;  // the number the router named
  }
  // a reply to the citizen: the knowledge base's answers, to insert into it (the new-ticket form has its own)
  if (REPLY_FIELDS[action]) form.insertBefore(kbReplyPanel(ticket, form.elements.namedItem(REPLY_FIELDS[action])), form.lastElementChild);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const params = {};
    for (const [name] of spec.fields) {
      if (name === "co_units") {  // the units picked in the list
        const picked = [...form.elements[name].selectedOptions].map((o) => o.value);
        if (picked.length) params[name] = picked;
        continue;
      }
      const value = form.elements[name].value.trim();
      if (!value) continue;
      else if (name === "days") params[name] = Number(value);
      else params[name] = value;
    }
    const button = form.querySelector("button[type=submit]");
    if (button.disabled) return;  // a double click: the first request is still on its way
    // handing a ticket to 110/119/120 ends it here: the agent confirms the number first
    if (action === "transfer_emergency" && !confirm(`确认将工单 ${ticket.number} 转接 ${params.number}（${EMERGENCY_NAMES[params.number] || "紧急热线"}）？转接后本平台不再办理。`)) return;
    button.disabled = true;
    try {
      await api(`/api/v1/tickets/${ticket.number}/transitions`, { json: { action, params, version: ticket.version } });
    } catch (err) {
      button.disabled = false;
      return alert(err.message);
    }
    await afterAction(ticket.number, action);
    button.disabled = false;  // the form is usually replaced by then
  });
  return form;
}

const EMERGENCY_NAMES = { 110: "报警", 119: "火警", 120: "急救" };

// The action forms whose text goes to the citizen, by their text field: they get the knowledge panel.
const REPLY_FIELDS = { answer: "answer", reply: "text" };

// Where an article's answer goes: at the cursor (replacing a selection) once the agent has been in the
// textarea, else appended on a new line. The block stands on its own lines; the form is not submitted.
function insertReply(textarea, text) {
  const value = textarea.value;
  let start = value.length, end = value.length;
  if (document.activeElement === textarea) [start, end] = [textarea.selectionStart, textarea.selectionEnd];
  else if (textarea.dataset.caret) [start, end] = textarea.dataset.caret.split(",").map(Number);
  start = Math.min(start, value.length);
  end = Math.min(Math.max(end, start), value.length);
  const before = value.slice(0, start), after = value.slice(end);
  const block = `${before && !before.endsWith("\n") ? "\n" : ""}${text}${after && !after.startsWith("\n") ? "\n" : ""}`;
  textarea.value = before + block + after;
  const caret = before.length + block.length;
  textarea.focus();
  textarea.setSelectionRange(caret, caret);
  textarea.dataset.caret = `${caret},${caret}`;  // a second article goes after the first
  textarea.dispatchEvent(new Event("input", { bubbles: true }));
}

// Remember the textarea's cursor while the agent is in it (a click on 插入答复 takes the focus away).
function trackCaret(textarea) {
  const keep = () => { textarea.dataset.caret = `${textarea.selectionStart},${textarea.selectionEnd}`; };
  for (const type of ["focus", "select", "keyup", "mouseup", "input", "blur"]) textarea.addEventListener(type, keep);
}

// The knowledge panel of a reply form (collapsed under 知识库): the articles suggested for the ticket's text
// (the assist API: published and in force; a unit user gets the same articles), a search for another article,
// and 插入答复 on each, which puts the article's answer with its source into the reply.
function kbReplyPanel(ticket, textarea) {
  trackCaret(textarea);
  const error = h("p", { class: "error kb-reply-error" });
  const suggested = h("div", { class: "kb-reply-suggested" });
  const results = h("div", { class: "kb-reply-results" });
  const query = h("input", { type: "search", class: "kb-reply-q", placeholder: "检索其他知识…", maxlength: 200 });
  const body = h("div", { class: "kb-reply-body", hidden: true }, suggested,
    h("div", { class: "kb-reply-search" }, query, h("button", { type: "button", class: "kb-reply-find", onclick: () => search() }, "检索")),
    results, error);
  const toggle = h("button", { type: "button", class: "kb-reply-toggle", "aria-expanded": "false" }, "知识库 ▸");
  const panel = h("div", { class: "kb-reply" }, toggle, body);
  let loaded = false, searchSeq = 0;

  const insert = async (article, button) => {
    if (button.disabled) return;  // a double click: the first request is still on its way
    button.disabled = true;
    error.textContent = "";
    try {
      const block = await api("/api/v1/assist/insert", { json: { article_id: Number(article.id) } });
      insertReply(textarea, block.text);
    } catch (err) {
      error.textContent = `未能插入“${article.title}”：${err.message}`;
    } finally {
      button.disabled = false;
    }
  };
  const item = (a) => {
    const notInForce = a.extra?.in_force === false;  // a search hit: the server refuses to quote it
    return h("div", { class: "kb-reply-article", "data-id": a.id },
      h("div", { class: "kb-reply-title" }, a.title,
        notInForce ? h("span", { class: "badge kb-not-in-force", title: "尚未生效或已过有效期，不能据此答复市民" }, "不在有效期内") : null),
      a.highlight ? h("div", { class: "muted snippet" }, kbHighlight(a.highlight)) : null,  // kb.js
      h("button", { type: "button", class: "kb-reply-insert", disabled: notInForce, onclick: (ev) => insert(a, ev.currentTarget) }, "插入答复"));
  };

  const suggest = async () => {
    fill(suggested, h("span", { class: "muted" }, "正在查找相关知识…"));
    let data;
    try {
      data = await api("/api/v1/assist", { json: { text: (ticket.text || ticket.title || "").slice(0, 5000), ticket_id: ticket.id } });
    } catch (err) {
      return fill(suggested, h("span", { class: "error" }, `相关知识暂不可用：${err.message}`));
    }
    const articles = (data.articles || []).slice(0, 3);
    fill(suggested, h("strong", {}, "相关知识："),
      articles.length ? articles.map(item) : h("span", { class: "muted" }, "暂无相关知识，可在下方检索"));
  };

  async function search() {
    const q = query.value.trim();
    const seq = ++searchSeq;  // only the answer for the latest search is shown
    error.textContent = "";
    if (!q) return results.replaceChildren();
    const params = new URLSearchParams({ q, kind: "article", status: "published", limit: "5" });
    let data;
    try {
      data = await api(`/api/v1/kb/search?${params}`);
    } catch (err) {
      if (seq === searchSeq) { results.replaceChildren(); error.textContent = `检索失败：${err.message}`; }
      return;
    }
    if (seq !== searchSeq) return;
    fill(results, h("strong", {}, `检索“${q}”：`),
      data.hits.length ? data.hits.map(item) : h("span", { class: "muted" }, "没有检索到相关知识"));
  }
  // Enter in the search box searches; it must not submit the reply form around it.
  query.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); search(); } });
  toggle.addEventListener("click", () => {
    body.hidden = !body.hidden;
    toggle.textContent = body.hidden ? "知识库 ▸" : "知识库 ▾";
    toggle.setAttribute("aria-expanded", String(!body.hidden));
    if (!body.hidden && !loaded) { loaded = true; suggest(); }
  });
  return panel;
}

// After an action: the ticket as it is now; a unit that handed it back (退单) can no longer see it.
async function afterAction(number, action) {
  try {
    await showTicket(number);
  } catch (err) {
    if (err.status !== 404) alert(err.message);
    else {
      current = null;
      const done = action === "return" ? `已退单：工单 ${number} 已退回派单中心，不再由本单位办理`
        : `已${ACTIONS[action].label}：工单 ${number} 已不在您可查看的工单中`;
      fill($("#detail"), h("div", { class: "card", id: "action-done" }, h("p", {}, done)));
    }
  }
  await loadList().catch((err) => alert(err.message));
}

async function showTicket(number) {
  const t = await api(`/api/v1/tickets/${number}`);
  current = t;
  document.querySelectorAll("#ticket-list li").forEach((li) => li.classList.toggle("selected", li.dataset.number === number));
  const pending = (t.extensions || []).some((x) => x.state === "requested");
  const allowed = (BY_STATE[t.state] || []).filter((a) => ACTIONS[a].roles.includes(me.role))
    .filter((a) => pending || !["approve_extension", "deny_extension"].includes(a));  // nothing to decide yet
  const route = t.routing;
  $("#detail").replaceChildren(...[
    h("div", { class: "card" },
      h("h2", {}, lightDot(t.deadlines.light), t.title || "（无标题）"),
      h("p", {}, h("span", { class: "num" }, t.number), " ", h("span", { class: "badge" }, t.state_label), " ",
        `${t.request_type} · ${channelName(t.channel)} · ${t.intake_line}`),
      h("table", {},
        h("tr", {}, h("th", {}, "分类"), h("td", {}, t.category ? `${t.category.name}（${t.category.code}）` : "未分类")),
        h("tr", {}, h("th", {}, "区域"), h("td", {}, [t.district, t.address].filter(Boolean).join(" ") || "—")),
        h("tr", {}, h("th", {}, "主办单位"), h("td", {}, t.lead_unit ? t.lead_unit.name : "—")),
        h("tr", {}, h("th", {}, "协办单位"), h("td", {}, t.co_units.map((u) => u.name).join("、") || "—")),
        h("tr", {}, h("th", {}, "签收时限"), h("td", {}, fmt(t.deadlines.sign_due_at))),
        h("tr", {}, h("th", {}, "办理时限"), h("td", {}, fmt(t.deadlines.reply_due_at))),
        h("tr", {}, h("th", {}, "市民"), h("td", {}, (t.citizen?.identities || []).map((i) => i.value).join("、") || "—")),
        t.contact_phone ? h("tr", {}, h("th", {}, "联系电话"), h("td", { id: "contact-phone" }, t.contact_phone.replace(/^\+86/, ""))) : null,
        h("tr", {}, h("th", {}, "满意度"), h("td", {}, t.satisfaction || "—")),
        route ? h("tr", {}, h("th", {}, "智能建议"), h("td", {}, routeText(route),
          (route.alerts || []).map((text) => h("div", { class: "alert" }, text)),
          route.auto_dispatch_error ? h("div", { class: "alert" }, `未能自动派单：${route.auto_dispatch_error}，请人工派单`) : null)) : null,
        route && allowed.includes("dispatch") ? h("tr", {}, h("th", {}, "候选单位"), h("td", { id: "candidates" },
          candidates(t).map((c) => h("button", { type: "button", class: c.returned || c.recalled ? "candidate returned" : "candidate",
            "data-unit": c.code, disabled: !c.known, onclick: () => chooseUnit(c.code) },
          `${unitName(c.code)}${c.score !== undefined ? ` ${Number(c.score).toFixed(2)}` : ""}${leftMark(c)}`)))) : null,
        t.returns.length ? h("tr", {}, h("th", {}, "退回记录"), h("td", { id: "returns" },
          t.returns.map((r) => h("div", { class: "returned" }, `${fmt(r.at)} ${r.label}：${r.unit_name || "—"}，${r.reason || ""}`)))) : null)),
    h("div", { class: "card" }, h("h3", {}, "诉求与答复"),
      t.messages.map((m) => h("div", { class: `msg ${m.direction}` }, h("div", { class: "muted" }, `${fmt(m.created_at)} ${m.author || ""}`), m.text))),
    allowed.length ? h("div", { class: "card" }, h("h3", {}, "操作"), h("div", { class: "actions" }, allowed.map((a) => actionForm(t, a)))) : null,
    h("div", { class: "card" }, h("h3", {}, "流转记录"),
      h("table", {}, t.events.map((e) => h("tr", {}, h("td", {}, fmt(e.at)), h("td", {}, e.action_label), h("td", {}, e.actor), h("td", {}, e.note || ""))))),
  ].filter(Boolean));  // a card left out (no actions for this role) is null: replaceChildren would print "null"
  $("#detail").hidden = false;
  $("#new-ticket").hidden = true;
}

// The router's intake flags, as the list marks them (the filter's flag=... takes the same keys).
const FLAG_BADGES = { emergency: "紧急", sensitive: "敏感", out_of_scope: "疑似不受理" };

function chooseUnit(code) {
  const select = document.querySelector('#detail form[data-action="dispatch"] select[name="lead_unit"]');
  if (select) {
    select.value = code;
    select.dispatchEvent(new Event("change"));
  }
}

async function loadList() {
  const form = $("#filters");
  const params = new URLSearchParams({ limit: "50" });
  if (form.state.value) params.set("state", form.state.value);
  if (form.q.value.trim()) params.set("q", form.q.value.trim());
  if (form.elements.flag && !form.elements.flag.hidden && form.elements.flag.value) params.set("flag", form.elements.flag.value);
  const page = await api(`/api/v1/tickets?${params}`);
  $("#ticket-list").replaceChildren(...page.items.map((t) => {
    const li = h("li", { "data-number": t.number, onclick: () => showTicket(t.number) },
      h("div", {}, lightDot(t.deadlines.light), h("span", { class: "num" }, t.number), " ", h("span", { class: "badge" }, t.state_label),
        unitReturns(t).length && ["new", "accepted"].includes(t.state) ? h("span", { class: "badge returned" }, `退回 ${unitReturns(t).length} 次`) : null,
        Object.entries(FLAG_BADGES).filter(([key]) => t.routing?.[key]).map(([key, label]) => h("span", { class: `badge flag ${key}` }, label))),
      h("div", {}, (t.title || "").slice(0, 40)));
    return li;
  }));
  $("#pager").textContent = `共 ${page.total} 件`;
}

// Live assist while the agent types: only the answer for the text as it is now is shown (a slower answer
// for an earlier text is dropped), and clearing the text clears the panel and cancels what is in flight.
const ASSIST_MIN = 4;
const assist = { timer: null, seq: 0, abort: null };
function cancelAssist() {
  clearTimeout(assist.timer);
  assist.seq += 1;
  if (assist.abort) assist.abort.abort();
  assist.abort = null;
}
function scheduleAssist() {
  cancelAssist();
  if ($("#new-form").text.value.trim().length < ASSIST_MIN) return $("#assist").replaceChildren();
  assist.timer = setTimeout(runAssist, 300);
}

async function runAssist() {
  cancelAssist();
  const text = $("#new-form").text.value.trim();
  if (text.length < ASSIST_MIN) return $("#assist").replaceChildren();
  const seq = assist.seq, controller = new AbortController();
  assist.abort = controller;
  let data;
  try {
    // POST: a long text outgrows a URL
    data = await api("/api/v1/assist", { json: { text: text.slice(0, 5000) }, signal: controller.signal });
  } catch (err) {
    if (seq !== assist.seq || err.name === "AbortError") return;  // the text changed meanwhile
    return fill($("#assist"), h("p", { class: "muted" }, `辅助信息暂不可用：${err.message}`));
  }
  if (seq !== assist.seq) return;
  assist.abort = null;
  renderAssist(data);
}

function renderAssist(data) {
  const route = data.routing || data.router || null;
  const alerts = route ? route.alerts || [] : [];
  const articles = (data.articles || []).slice(0, 3);
  const similar = (data.similar_tickets || data.tickets || []).slice(0, 3);
  fill($("#assist"),
    route ? h("div", { class: "card", id: "assist-route" }, h("strong", {}, "派单建议："), routeText(route),
      alerts.map((text) => h("div", { class: "alert" }, text)),
      route.emergency && !alerts.length ? h("div", { class: "alert" }, `疑似紧急情况，请立即转 ${route.emergency.number}`) : null) : null,
    h("div", { class: "card", id: "assist-articles" }, h("strong", {}, "知识库："),
      articles.length ? articles.map((a) => h("div", { class: "assist-article" },
        h("div", {}, a.title),
        a.highlight ? h("div", { class: "muted snippet" }, kbHighlight(a.highlight)) : null,  // kb.js
        h("button", { type: "button", onclick: (ev) => answerWith(a, ev.currentTarget) }, "用此答复直接办结")))
        : h("span", { class: "muted" }, "暂无相关知识")),
    similar.length ? h("div", { class: "card", id: "assist-similar" }, h("strong", {}, "相似工单："),
      similar.map((t) => h("div", { class: "similar" },
        h("div", {}, h("span", { class: "num" }, t.number || ""), " ", h("span", { class: "badge" }, STATE_NAMES[t.state] || t.state || "—"),
          " ", t.unit_name || "未派单", " ", t.title || t.text || ""),
        t.reply ? h("div", { class: "muted" }, `答复：${t.reply.length > 60 ? `${t.reply.slice(0, 60)}…` : t.reply}`) : null))) : null,
  );
}

// One Idempotency-Key per content of the form: a double click or a retry of the same content makes one
// ticket; content edited since is a new request with a new key.
function formKey(f, content) {
  if (f.dataset.key && f.dataset.keyFor === content) return f.dataset.key;
  f.dataset.keyFor = content;
  f.dataset.key = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return f.dataset.key;
}

function formBusy(f, busy) {
  if (busy) f.dataset.busy = "1"; else delete f.dataset.busy;
  f.querySelectorAll("button").forEach((b) => { b.disabled = busy; });
}

async function createFromForm(extraAnswer) {
  const f = $("#new-form");
  if (f.dataset.busy) return;  // the first click's request is still on its way
  const body = { channel: f.channel.value, intake_line: f.intake_line.value, request_type: f.request_type.value || null, text: f.text.value.trim() };
  const citizen = {};
  if (f.phone.value.trim()) citizen.phone = f.phone.value.trim();
  if (f.name.value.trim()) citizen.name = f.name.value.trim();
  if (Object.keys(citizen).length) body.citizen = citizen;
  const key = formKey(f, JSON.stringify(body));
  // answered from the knowledge base: the router must not dispatch it meanwhile (the answer would then be refused)
  if (extraAnswer) body.auto_dispatch = false;
  $("#new-error").textContent = "";
  formBusy(f, true);
  let t;
  try {
    t = await api("/api/v1/tickets", { json: body, headers: { "Idempotency-Key": key } });
  } catch (err) {
    formBusy(f, false);
    return fill($("#new-error"), err.message);
  }
  // The form's content is a ticket now: the form starts afresh, whatever happens next.
  cancelAssist();
  f.reset();
  delete f.dataset.key;
  delete f.dataset.keyFor;
  $("#assist").replaceChildren();
  formBusy(f, false);
  let failed = null;
  if (extraAnswer && t.state !== "answered") {  // answered already: a retry of a request that got through
    try {
      await api(`/api/v1/tickets/${t.number}/transitions`, { json: { action: "answer", params: { answer: extraAnswer }, version: t.version } });
    } catch (err) {
      failed = err;
    }
  }
  await loadList().catch(() => {});
  if (!failed) return showTicket(t.number).catch((err) => alert(err.message));
  fill($("#new-error"), `工单 ${t.number} 已保存（当前状态：${t.state_label || STATE_NAMES[t.state] || t.state}），但未能直接答复办结：${failed.message}。请打开工单继续处理，不要重复新建。 `,
    h("a", { href: "#", id: "new-created", onclick: (ev) => { ev.preventDefault(); showTicket(t.number).catch((err) => alert(err.message)); } }, `打开工单 ${t.number}`));
}

async function answerWith(article, button) {
  // The knowledge base gives the article's answer as reply text (with its source) in one call.
  if (button) button.disabled = true;
  let block;
  try {
    block = await api("/api/v1/assist/insert", { json: { article_id: article.id } });
  } catch (err) {
    return alert(err.message);
  } finally {
    if (button) button.disabled = false;
  }
  if (confirm(`以知识库答案答复并办结？\n\n${block.text.slice(0, 300)}`)) await createFromForm(block.text);
}

function showPop(event) {
  // A call rings: the caller's identity, open tickets and last contacts (the screen pop).
  const pop = $("#screen-pop");
  const history = event.open_tickets || [];
  const contacts = event.last_contacts || [];
  fill(pop,
    h("strong", {}, "📞 来电弹屏 "), h("span", {}, event.from || ""), " ",
    h("span", { class: "badge" }, event.intake_line || ""),
    event.citizen ? null : h("div", { class: "muted" }, "首次来电"),
    history.length ? h("div", {}, "未办结工单：") : null,
    h("ul", {}, history.slice(0, 5).map((t) => h("li", { onclick: () => showTicket(t.number) },
      `${t.number} ${t.state_label || ""} ${t.title || ""}${t.contact_only ? "（他人留此号码为联系电话）" : ""}`))),
    contacts.length ? h("div", { class: "muted" }, `最近联系：${contacts[0].text}`) : null,
  );
  pop.hidden = false;
  const form = $("#new-form");
  if (event.from) form.phone.value = event.from.replace(/^\+86/, "");
  if (event.intake_line && [...form.intake_line.options].some((o) => o.value === event.intake_line)) form.intake_line.value = event.intake_line;
}

function showAlert(event) {
  const pop = $("#screen-pop");
  pop.replaceChildren(h("div", { class: "alert" }, h("strong", {}, "⚠ "), event.message || "",
    event.number ? h("button", { type: "button", onclick: () => showTicket(event.number) }, event.number) : null));
  pop.hidden = false;
}

const LIVE = {
  screen_pop: showPop,
  alert: showAlert,
  ticket_event: () => loadList(),
  call_ended: (e) => { if (e.abandoned) showAlert({ message: `未接来电：${e.from || ""}` }); },
};

function connectLive() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/api/v1/agents/ws`);
  ws.onmessage = (msg) => {
    let event;
    try { event = JSON.parse(msg.data); } catch (e) { return; }
    (LIVE[event.type] || (() => {}))(event);
  };
  ws.onclose = () => setTimeout(connectLive, 5000);
}

async function showCallbacks() {
  // Replied tickets whose citizens can only be called back by phone (回访队列).
  const page = await api("/api/v1/callbacks");
  const unanswered = async (task) => {
    const result = await api(`/api/v1/callbacks/${task.id}/unanswered`, { method: "POST" });
    if (result.state === "unreachable") alert(`工单 ${task.number} 多次未接通，已标记为无法联系`);
    await showCallbacks();
  };
  $("#detail").replaceChildren(h("div", { class: "card" }, h("h2", {}, `回访队列（${page.total}）`),
    page.items.length ? h("table", {}, h("tr", {}, h("th", {}, "工单"), h("th", {}, "联系电话"), h("th", {}, "已拨打"), h("th", {}, "")),
      page.items.map((t) => h("tr", {},
        h("td", {}, h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); showTicket(t.number); } }, t.number)),
        h("td", {}, t.recipient ? (t.recipient_kind === "email" ? `邮箱 ${t.recipient}` : t.recipient) : "—"), h("td", {}, `${t.attempts} 次`),
        h("td", {}, h("button", { type: "button", onclick: () => unanswered(t) }, "未接通")))))
      : h("p", { class: "muted" }, "暂无待电话回访的工单")));
}

async function showJobs() {
  const page = await api("/api/v1/jobs?state=failed");
  const act = async (job, what) => {
    try { await api(`/api/v1/jobs/${job.id}/${what}`, { method: "POST" }); } catch (err) { alert(err.message); }
    await showJobs();
  };
  $("#detail").replaceChildren(h("div", { class: "card" }, h("h2", {}, `失败任务（${page.total}）`),
    page.items.length ? h("table", {}, h("tr", {}, h("th", {}, "时间"), h("th", {}, "任务"), h("th", {}, "错误"), h("th", {}, "")),
      page.items.map((j) => h("tr", {}, h("td", {}, fmt(j.failed_at)), h("td", {}, `${j.func}(${(j.args || []).join(", ")})`),
        h("td", {}, String(j.error).slice(0, 200)),
        h("td", {}, h("button", { type: "button", onclick: () => act(j, "retry") }, "重试"), " ",
          h("button", { type: "button", onclick: () => act(j, "discard") }, "丢弃")))))
      : h("p", { class: "muted" }, "没有失败的任务")));
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children.flat()) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function pct(value) { return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`; }

// Grouped horizontal bars: rows of {label, values: [0..1 or null], note}; one colour per series.
function barChart(rows, series) {
  const rowH = 16 * series.length + 10, left = 120, width = 320, height = rows.length * rowH + 24;
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${left + width + 120} ${height}`, role: "img" });
  rows.forEach((row, i) => {
    const y = i * rowH;
    chart.append(svg("text", { x: 0, y: y + 13 }, row.label));
    row.values.forEach((v, j) => {
      const w = Math.round((v || 0) * width);
      chart.append(svg("rect", { x: left, y: y + j * 16, width: w, height: 13, fill: series[j].color },
        svg("title", {}, `${series[j].name} ${pct(v)}`)));
      chart.append(svg("text", { x: left + w + 4, y: y + j * 16 + 11, class: "value" }, pct(v)));
    });
    if (row.note) chart.append(svg("text", { x: left + width + 64, y: y + 13, class: "note" }, row.note));
  });
  series.forEach((s, j) => {
    chart.append(svg("rect", { x: left + j * 110, y: height - 12, width: 10, height: 10, fill: s.color }));
    chart.append(svg("text", { x: left + j * 110 + 14, y: height - 3 }, s.name));
  });
  return chart;
}

// Stacked daily columns: days [{date, ...}], parts [{key, name, color}].
function dayColumns(days, parts) {
  const top = Math.max(1, ...days.map((d) => parts.reduce((n, p) => n + d[p.key], 0)));
  const colW = Math.max(4, Math.min(24, Math.floor(560 / Math.max(days.length, 1)))), height = 160, base = 140;
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${colW * days.length + 40} ${height + 20}`, role: "img" });
  days.forEach((d, i) => {
    let y = base;
    for (const p of parts) {
      const hgt = Math.round((d[p.key] / top) * (base - 10));
      y -= hgt;
      chart.append(svg("rect", { x: 30 + i * colW, y, width: colW - 2, height: hgt, fill: p.color },
        svg("title", {}, `${d.date} ${p.name} ${d[p.key]}`)));
    }
  });
  chart.append(svg("text", { x: 0, y: 14 }, String(top)));
  chart.append(svg("text", { x: 30, y: base + 14 }, days.length ? days[0].date : ""));
  if (days.length > 1) chart.append(svg("text", { x: 30 + (days.length - 1) * colW - 50, y: base + 14 }, days[days.length - 1].date));
  parts.forEach((p, j) => {
    chart.append(svg("rect", { x: 30 + j * 90, y: height + 6, width: 10, height: 10, fill: p.color }));
    chart.append(svg("text", { x: 44 + j * 90, y: height + 15 }, p.name));
  });
  return chart;
}

function periodForm(id, reload) {
  const f = $(`#${id}`);
  return h("form", { id, class: "row", onsubmit: (ev) => { ev.preventDefault(); reload().catch((err) => alert(err.message)); } },
    h("label", {}, "开始日期", h("input", { type: "date", name: "since", value: f ? f.since.value : "" })),
    h("label", {}, "结束日期", h("input", { type: "date", name: "until", value: f ? f.until.value : "" })),
    h("button", { type: "submit" }, "统计"));
}

function periodQuery(id) {
  const f = $(`#${id}`), params = new URLSearchParams();
  if (f && f.since.value) params.set("since", f.since.value);
  if (f && f.until.value) params.set("until", f.until.value);
  return params;
}

async function showChatbot() {
  const r = await api(`/api/v1/chatbot/report?${periodQuery("chatbot-period")}`);
  const summary = h("p", {}, `提问 ${r.questions} 次：直接答复 ${r.answered}（${pct(r.answer_rate)}），追问 ${r.clarify}，`,
    `转为工单 ${r.tickets}（${pct(r.ticket_rate)}），未能答复 ${r.unanswered}；评价“有用” ${r.helpful}、“没用” ${r.unhelpful}（有用率 ${pct(r.helpful_rate)}）。`);
  const days = dayColumns(r.days, [{ key: "answered", name: "直接答复", color: "#2e7d32" }, { key: "clarify", name: "追问", color: "#f9a825" },
    { key: "tickets", name: "转工单", color: "#1565c0" }, { key: "unanswered", name: "未能答复", color: "#c62828" }]);
  const channels = h("table", {}, h("tr", {}, ["渠道", "提问", "直接答复率", "转工单率", "有用率"].map((t) => h("th", {}, t))),
    r.channels.map((c) => h("tr", {}, h("td", {}, channelName(c.channel)), h("td", {}, c.questions), h("td", {}, pct(c.answer_rate)),
      h("td", {}, pct(c.ticket_rate)), h("td", {}, pct(c.helpful_rate)))));
  const articleTable = (items, empty) => items.length ? h("table", {},
    h("tr", {}, ["文章", "答复次数", "有用", "没用", "有用率"].map((t) => h("th", {}, t))),
    items.map((a) => h("tr", {}, h("td", {}, a.title), h("td", {}, a.answered), h("td", {}, a.helpful), h("td", {}, a.unhelpful),
      h("td", {}, pct(a.helpful_rate))))) : h("p", { class: "muted" }, empty);
  $("#detail").replaceChildren(h("div", { class: "card" }, h("h2", {}, "智能问答成效"), periodForm("chatbot-period", showChatbot), summary),
    h("div", { class: "card" }, h("h3", {}, "每日提问与结果"), days),
    h("div", { class: "card" }, h("h3", {}, "按渠道"), channels),
    h("div", { class: "card" }, h("h3", {}, "答复最多的文章"), articleTable(r.articles, "暂无")),
    h("div", { class: "card" }, h("h3", {}, "被评“没用”最多的文章（请知识编辑复核）"), articleTable(r.unhelpful_articles, "暂无")));
}

async function showRouting() {
  const r = await api(`/api/v1/routing/audit?${periodQuery("routing-period")}`);
  const period = periodForm("routing-period", showRouting);
  const summary = h("p", {}, `工单 ${r.tickets} 件，已派单 ${r.dispatched} 件；建议单位被采纳 ${pct(r.unit_accuracy)}，`,
    `前三建议含最终单位 ${pct(r.top3_accuracy)}，退回率 ${pct(r.return_rate)}；自动派单 ${r.auto_dispatched} 件，`,
    `准确率 ${pct(r.auto_precision)}，被退回 ${r.auto_returned} 件。`);
  const bands = barChart(r.bands.map((b) => ({ label: `${b.from.toFixed(1)}–${b.to.toFixed(1)}`, values: [b.unit_accuracy], note: `${b.dispatched} 件` })),
    [{ name: "建议被采纳", color: "#2e7d32" }]);
  const thresholds = barChart(r.thresholds.map((t) => ({
    label: `阈值 ${t.threshold.toFixed(2)}${r.threshold !== null && Math.abs(t.threshold - r.threshold) < 1e-9 ? "（当前）" : ""}`,
    values: [t.coverage, t.precision], note: `${t.tickets} 件` })),
    [{ name: "覆盖", color: "#1565c0" }, { name: "准确率", color: "#b71c1c" }]);
  const versions = h("table", {}, h("tr", {}, ["模型版本", "工单", "已派单", "采纳", "前三命中", "自动派单准确率"].map((t) => h("th", {}, t))),
    r.versions.map((v) => h("tr", {}, h("td", {}, v.model_version), h("td", {}, v.tickets), h("td", {}, v.dispatched),
      h("td", {}, pct(v.unit_accuracy)), h("td", {}, pct(v.top3_accuracy)), h("td", {}, pct(v.auto_precision)))));
  const moves = r.confusions.length ? h("table", {}, h("tr", {}, h("th", {}, "建议单位"), h("th", {}, "最终单位"), h("th", {}, "件数")),
    r.confusions.map((c) => h("tr", {}, h("td", {}, c.suggested_name), h("td", {}, c.final_name), h("td", {}, c.count))))
    : h("p", { class: "muted" }, "没有改派");
  $("#detail").replaceChildren(h("div", { class: "card" }, h("h2", {}, "分拨建议质量"), period, summary),
    h("div", { class: "card" }, h("h3", {}, "按置信度：建议单位被采纳的比例"), bands),
    h("div", { class: "card" }, h("h3", {}, "若调整自动派单阈值：覆盖已派单工单的比例与准确率"), thresholds),
    h("div", { class: "card" }, h("h3", {}, "按模型版本"), versions),
    h("div", { class: "card" }, h("h3", {}, "最常见的改派"), moves));
}

function switchView(view) {
  document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("active", b.dataset.view === view));
  $("#new-ticket").hidden = view !== "new";
  $("#detail").hidden = view === "new";
  if (view === "callbacks") showCallbacks().catch((err) => alert(err.message));
  if (view === "jobs") showJobs().catch((err) => alert(err.message));
  if (view === "routing") showRouting().catch((err) => alert(err.message));
  if (view === "chatbot") showChatbot().catch((err) => alert(err.message));
  if (view === "kb") showKb().catch((err) => alert(err.message));  // kb.js
}

async function start() {
  try {
    me = await api("/api/v1/me");
  } catch (err) {
    $("#login").hidden = false;
    $("#app").hidden = true;
    return;
  }
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#whoami").replaceChildren(`${me.display_name || me.username}（${me.role_label}） `,
    h("button", { onclick: async () => { await api("/api/v1/auth/logout", { method: "POST" }); location.reload(); } }, "退出"));
  document.querySelectorAll("[data-roles]").forEach((el) => { el.hidden = !el.dataset.roles.split(",").includes(me.role); });
  if (me.role !== "unit") units = (await api("/api/v1/units")).items.filter((u) => u.active && u.kind !== "platform");
  if (["agent", "dispatcher", "admin"].includes(me.role)) categories = (await api("/api/v1/categories")).items;
  await loadList();
  if (["agent", "dispatcher", "admin", "leader"].includes(me.role)) connectLive();  // leaders: their alerts only
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  try {
    await api("/api/v1/auth/login", { json: { username: f.username.value, password: f.password.value } });
    await start();
  } catch (err) {
    $("#login-error").textContent = err.message;
  }
});
$("#filters").addEventListener("submit", (ev) => { ev.preventDefault(); loadList(); });
document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => switchView(b.dataset.view)));
$("#new-form").addEventListener("submit", (ev) => { ev.preventDefault(); createFromForm(null); });
$("#new-form").text.addEventListener("input", scheduleAssist);
start();
