// 知识库 view of the console: articles and their review workflow, versions and diffs, gaps, synonyms.
// Loaded after console.js and uses its helpers (h, api, $, fmt, me, units). All user data goes through textContent.
"use strict";

const KB = { offset: 0, limit: 50, mode: "list", units: null };  // mode: "list" (filtered, paged) or "search" (ranked)
const KB_STATUS = { draft: "草稿", in_review: "待审核", published: "已发布", expired: "已过期", archived: "已归档" };
const KB_VERSION_ACTIONS = { create: "新建", edit: "修改", submit: "提交审核", publish: "发布", reject: "退回修改", expire: "过期", archive: "归档", restore: "恢复为草稿", confirm: "复核确认",
  propose: "提交修改", publish_revision: "发布修改", reject_revision: "修改未通过", withdraw_revision: "撤回修改" };
// The workflow as the API accepts it (knowledge/articles.py TRANSITIONS): from which states, editors only, the note asked for.
const KB_ACTIONS = {
  submit: { label: "提交审核", from: ["draft"], editors: false },
  publish: { label: "审核发布", from: ["in_review", "draft", "expired"], editors: true, note: "审核意见（可选）" },
  reject: { label: "退回修改", from: ["in_review"], editors: true, note: "退回原因", required: true },
  expire: { label: "设为过期", from: ["published"], editors: true },
  confirm: { label: "复核无误", from: ["published"], editors: false, date: "下次复核日期（默认半年后）" },
  // a unit withdraws only its own never-published draft or submission (knowledge.articles.can_archive)
  archive: { label: "归档", from: ["draft", "in_review", "published", "expired"], editors: false, confirm: "归档后不能再编辑（平台编辑可恢复为草稿），确定归档？",
             unit: (a) => ["draft", "in_review"].includes(a.status) && !a.published_at },
  restore: { label: "恢复为草稿", from: ["archived"], editors: true },
};
const KB_NOTE_MAX = 2000;  // a workflow note (reason, 审核意见): knowledge.article_input.MAX_NOTE_CHARS
const KB_FIELDS = { title: "标题", body: "正文", category: "分类", unit: "单位", keywords: "关键词", valid_from: "生效日期", valid_to: "失效日期", review_due_at: "复审日期" };

// Platform editors (knowledge.articles.EDITOR_ROLES) review and publish; a unit edits its own unit's articles.
const kbIsEditor = () => ["dispatcher", "admin"].includes(me.role);
const kbCanCreate = () => kbIsEditor() || me.role === "unit";
const kbCanEdit = (a) => kbIsEditor() || (me.role === "unit" && a.unit_id !== null && a.unit_id === me.unit_id);
const kbFail = (err) => alert(err.message);
const kbBadge = (status) => h("span", { class: `badge kb-${status}` }, KB_STATUS[status] || status || "—");
// Dates are picked as China (UTC+8) days and sent as plain dates (YYYY-MM-DD): the API reads valid_from as the
// start of that day and valid_to and review_due_at as its end (knowledge/README.md), as for the CSV import.
const kbDay = (iso) => (iso ? new Date(new Date(iso).getTime() + 8 * 3600e3).toISOString().slice(0, 10) : "");
const kbAt = (day) => day || null;
// A card rendered into #kb-pane (below the list): brought into view, or the click seems to do nothing.
function kbShow(...cards) {
  fill($("#kb-pane"), ...cards);
  const first = $("#kb-pane").firstElementChild;
  if (first && typeof first.scrollIntoView === "function") first.scrollIntoView({ block: "start", behavior: "smooth" });
}
// One request per click: the button is disabled while its request is on its way.
async function kbBusy(button, work) {
  if (button.disabled) return undefined;
  button.disabled = true;
  try {
    return await work();
  } finally {
    button.disabled = false;
  }
}
const KB_ENTITIES = { lt: "<", gt: ">", amp: "&", quot: '"', "#x27": "'", "#39": "'" };
// A search highlight is escaped text with <em> marks: rebuilt as text and <em> nodes.
const kbHighlight = (html) => html.split(/(<em>.*?<\/em>)/).map((part) => {
  const text = part.replace(/<\/?em>/g, "").replace(/&(lt|gt|amp|quot|#x27|#39);/g, (m, e) => KB_ENTITIES[e]);
  return part.startsWith("<em>") ? h("em", { class: "hit" }, text) : text;
});

async function showKb() {
  const [unitList, categories] = await Promise.all([kbUnits(), api("/api/v1/categories").then((r) => r.items, () => [])]);
  const field = (name) => $("#kb-filters").elements.namedItem(name);
  const listMode = (ev) => { ev.preventDefault(); KB.mode = "list"; KB.offset = 0; kbList().catch(kbFail); };
  const searchMode = () => { KB.mode = "search"; KB.offset = 0; kbList().catch(kbFail); };
  // "本单位" and a chosen unit exclude each other: the last one picked wins.
  const unitPicked = () => { if (field("unit").value && field("mine")) field("mine").checked = false; };
  const minePicked = () => { if (field("mine").checked) field("unit").value = ""; };
  const filters = h("form", { id: "kb-filters", class: "row", onsubmit: listMode },
    h("input", { name: "q", type: "search", placeholder: "标题或正文包含…", maxlength: 200 }),
    h("select", { name: "status" }, h("option", { value: "" }, "全部状态"), Object.entries(KB_STATUS).map(([v, t]) => h("option", { value: v }, t))),
    h("select", { name: "unit", title: "单位", onchange: unitPicked }, h("option", { value: "" }, "全部单位"),
      unitList.map((u) => h("option", { value: u.code }, u.name))),
    h("input", { name: "category", placeholder: "分类", list: "kb-categories", maxlength: 50, size: 8 }),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "flagged" }), "待复核"),
    // editors: the review queue (published articles whose revision waits); a unit: its revisions to see to
    kbCanCreate() ? h("label", { class: "check", title: kbIsEditor() ? "已发布知识的修改，等待平台编辑审核"
      : "本单位提交的修改：待审核、未通过或知识已下线而搁置的" }, h("input", { type: "checkbox", name: "pending" }), "待审核修改") : null,
    me.role === "unit" ? h("label", { class: "check" }, h("input", { type: "checkbox", name: "mine", checked: "", onchange: minePicked }), "本单位") : null,
    h("button", { type: "submit" }, "查询"),
    h("button", { type: "button", name: "search", title: "按相关度排序，标出命中的词", onclick: searchMode }, "全文检索"));
  const tools = h("div", { class: "actions" },
    kbCanCreate() ? h("button", { type: "button", onclick: () => kbEdit(null) }, "新建知识") : null,
    kbIsEditor() ? h("button", { type: "button", onclick: () => kbGaps().catch(kbFail) }, "知识缺口") : null,
    kbIsEditor() ? h("button", { type: "button", onclick: () => kbSynonyms().catch(kbFail) }, "同义词") : null);
  const who = h("p", { id: "kb-whoami", class: "muted" }, `${me.display_name || me.username}（${me.role_label}）`,
    me.unit ? `　本单位：${me.unit.name}` : null);
  $("#detail").replaceChildren(
    h("div", { class: "card", id: "kb" }, h("h2", {}, "知识库"), who, h("div", { id: "kb-due" }), tools, filters,
      h("datalist", { id: "kb-categories" }, categories.map((c) => h("option", { value: c.code, label: c.name }))),
      h("div", { id: "kb-list" })),
    h("div", { id: "kb-pane" }));
  KB.offset = 0;
  KB.mode = "list";
  await Promise.all([kbList(), kbCanCreate() ? kbDueNotice() : null]);
}

// The units to filter by: the console's list (platform staff), else read here (a unit user's console has none).
async function kbUnits() {
  if (!KB.units) KB.units = units.length ? units : (await api("/api/v1/units")).items.filter((u) => u.active && u.kind !== "platform");
  return KB.units;
}

async function kbDueNotice() {
  // Articles the daily sweep flagged as past their review date, to their owners (a unit: its own).
  const mine = me.role === "unit";
  const { total } = await api(`/api/v1/kb/articles?review_due=1&limit=1${mine ? "&mine=1" : ""}`);
  const show = () => {
    const f = $("#kb-filters");
    f.reset();
    f.elements.namedItem("flagged").checked = true;
    KB.mode = "list";
    KB.offset = 0;
    kbList().catch(kbFail);
  };
  $("#kb-due").replaceChildren(total ? h("div", { class: "alert" },
    `${mine ? "本单位" : ""}有 ${total} 篇知识已到复审日期，请及时复核更新。 `,
    h("button", { type: "button", onclick: show }, "查看")) : "");
}

// The filters both the list and the search take (knowledge/web.py list_articles and search).
function kbFilterParams() {
  const field = (name) => $("#kb-filters").elements.namedItem(name);
  const params = new URLSearchParams();
  const status = field("status").value, unit = field("unit").value, category = field("category").value.trim();
  if (status) params.set("status", status);
  if (unit) params.set("unit", unit);
  if (category) params.set("category", category);
  if (field("flagged").checked) params.set("review_due", "1");
  if (field("mine")?.checked) params.set("mine", "1");
  if (field("pending")?.checked) params.set("pending", "1");
  return params;
}

async function kbList() {
  const q = $("#kb-filters").elements.namedItem("q").value.trim();
  const params = kbFilterParams();
  const search = KB.mode === "search" && q;
  let rows, footer;
  if (search) {  // full-text search (articles only), ranked, with the words found marked
    params.set("q", q);
    params.set("kind", "article");
    params.set("limit", "50");
    const result = await api(`/api/v1/kb/search?${params}`);
    rows = result.hits.map((hit) => ({ id: Number(hit.id), title: hit.title, status: hit.status, unit_name: hit.extra?.unit_name,
      version: hit.extra?.version, snippet: hit.highlight, not_in_force: hit.extra?.in_force === false }));
    footer = h("p", { class: "muted", id: "kb-count" }, `全文检索“${q}”：共 ${result.total} 条${result.total > rows.length ? `，显示相关度最高的 ${rows.length} 条` : ""} `,
      h("button", { type: "button", onclick: () => { KB.mode = "list"; KB.offset = 0; kbList().catch(kbFail); } }, "返回列表"));
  } else {  // the list: title or body containing the text, a page at a time
    if (q) params.set("q", q);
    params.set("limit", String(KB.limit));
    params.set("offset", String(KB.offset));
    const result = await api(`/api/v1/kb/articles?${params}`);
    if (!result.items.length && result.total && KB.offset) {  // the page emptied meanwhile: show the last one
      KB.offset = Math.floor((result.total - 1) / KB.limit) * KB.limit;
      return kbList();
    }
    rows = result.items;
    const page = (delta) => { KB.offset = Math.max(0, KB.offset + delta); kbList().catch(kbFail); };
    const pages = Math.max(1, Math.ceil(result.total / KB.limit));
    footer = h("div", { class: "actions kb-pager" },
      h("span", { class: "muted", id: "kb-count" }, `共 ${result.total} 篇${pages > 1 ? `，第 ${Math.floor(KB.offset / KB.limit) + 1}/${pages} 页` : ""}`),
      KB.offset > 0 ? h("button", { type: "button", onclick: () => page(-KB.limit) }, "上一页") : null,
      KB.offset + rows.length < result.total ? h("button", { type: "button", onclick: () => page(KB.limit) }, "下一页") : null);
  }
  $("#kb-list").replaceChildren(rows.length ? h("table", {},
    h("tr", {}, ["标题", "状态", "单位", "版本", "复审日期"].map((t) => h("th", {}, t))),
    rows.map((a) => h("tr", { "data-id": a.id },
      h("td", {}, h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); kbOpen(a.id).catch(kbFail); } }, a.title),
        a.review_due ? h("span", { class: "badge kb-due" }, "待复核") : null,
        kbRevisionBadge(a),
        a.not_in_force ? h("span", { class: "badge kb-not-in-force", title: "尚未生效或已过有效期，不能据此答复市民" }, "不在有效期内") : null,
        a.snippet ? h("div", { class: "muted" }, kbHighlight(a.snippet)) : null),
      h("td", {}, kbBadge(a.status)), h("td", {}, a.unit_name || "平台通用"),
      h("td", {}, a.version ? `v${a.version}` : "—"), h("td", {}, kbDay(a.review_due_at) || "—"))))
    : h("p", { class: "muted" }, search ? "没有检索到相关知识" : "没有符合条件的知识"),
  footer);
}

// A list row's revision (knowledge.articles list: revision_state, only for editors and the owning unit).
function kbRevisionBadge(a) {
  const state = a.revision_state || (a.has_pending_revision ? "pending" : null);
  if (state === "rejected") return h("span", { class: "badge kb-revision-rejected", title: "平台编辑退回了修改，请查看原因后重新修改或撤回" }, "修改未通过");
  if (state !== "pending") return null;
  if (a.status && a.status !== "published") {
    return h("span", { class: "badge kb-pending kb-shelved", title: "知识当前未发布，该修改不能发布：单位再次编辑时以它为底稿重新提交审核，或撤回" }, "修改已搁置");
  }
  return h("span", { class: "badge kb-pending", title: "已发布的版本继续有效，修改等待平台编辑审核" }, "待审核修改");
}

async function kbOpen(id) {
  const [a, versions] = await Promise.all([api(`/api/v1/kb/articles/${id}`), api(`/api/v1/kb/articles/${id}/versions`)]);
  const actions = kbCanEdit(a) ? Object.entries(KB_ACTIONS).filter(([, s]) => s.from.includes(a.status)
    && (kbIsEditor() || (!s.editors && (!s.unit || s.unit(a))))) : [];
  const row = (label, value) => h("tr", {}, h("th", {}, label), h("td", {}, value || "—"));
  kbShow(
    h("div", { class: "card", id: "kb-article", "data-id": a.id, "data-status": a.status, "data-version": a.version },
      h("h2", {}, a.title, " ", kbBadge(a.status)),
      kbRejection(a, versions.items),
      kbRevision(a),
      a.review_due ? h("div", { class: "alert" }, "已到复审日期：请核实内容是否仍然准确。仍准确请点“复核无误”；需要修改请编辑后重新提交审核。") : null,
      h("table", {},
        row("单位", a.unit_name || "平台通用"), row("分类", a.category), row("关键词", (a.keywords || []).join("、")),
        row("有效期", `${kbDay(a.valid_from) || "不限"} 至 ${kbDay(a.valid_to) || "长期"}`), row("复审日期", kbDay(a.review_due_at)),
        row("版本", `v${a.version}`), row("最后修改", `${a.updated_by} ${fmt(a.updated_at)}`), row("发布时间", a.published_at && fmt(a.published_at))),
      h("div", { class: "kb-body" }, a.body_text),
      h("div", { class: "actions" },
        kbCanEdit(a) && a.status !== "archived" ? h("button", { type: "button", onclick: () => kbEdit(a) }, "编辑") : null,
        actions.map(([name, spec]) => kbActionForm(a, name, spec)))),
    kbVersions(a, versions.items));
}

// A draft an editor sent back (退回修改) and not resubmitted since: the editor's reason, where its unit sees it
// first. Edits since the rejection keep it (the unit is fixing the draft); a new submission ends it.
function kbRejection(a, versions) {
  if (a.status !== "draft") return null;
  const last = [...versions].reverse().find((v) => v.action !== "edit");
  if (!last || last.action !== "reject") return null;
  return h("div", { class: "alert", id: "kb-rejected" }, h("strong", {}, `审核未通过：${last.note || "（未填写原因）"}`),
    h("div", { class: "muted" }, `${last.changed_by} ${fmt(last.created_at)} 退回修改；请按意见修改后重新提交审核。`));
}

// An article's pending revision (knowledge/revisions.py): who proposed what, the diff against the current version;
// editors publish or send it back with a reason, the owning unit withdraws it. A rejected one shows why. A revision
// that cannot be published (the article changed since it was written, or is no longer published) says what to do.
function kbRevision(a) {
  const r = a.pending_revision;
  if (!r) return null;
  const rejected = r.state === "rejected", live = a.status === "published", editor = kbIsEditor();
  const act = (name, button, note) => kbBusy(button, async () => {
    try {
      await api(`/api/v1/kb/articles/${a.id}/actions/${name}`, { json: { version: a.version, revision_version: r.version, note: note || null } });
    } catch (err) {
      return alert(err.message);
    }
    await kbOpen(a.id);
    await kbList();
  }).catch(kbFail);
  const reason = h("input", { name: "note", placeholder: "退回原因", maxlength: KB_NOTE_MAX });
  const reject = h("form", { class: "kb-revision-reject", "data-action": "reject_revision" }, reason, h("button", { type: "submit" }, "退回修改"));
  reject.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const note = reason.value.trim();
    if (!note) return alert("请填写退回原因");
    act("reject_revision", reject.querySelector("button"), note);
  });
  const owner = me.role === "unit" && kbCanEdit(a);
  const stale = r.stale ? `该修改基于 v${r.base_version}，知识已更新为 v${a.version}，不能直接发布；` + (editor
    ? (rejected ? "单位如需修改，须在最新版本上重新编辑。" : "请“退回修改”，由单位在最新版本上重新修改。")
    : "请在最新版本上重新编辑（编辑表单以当前版本为底稿），或撤回该修改。") : null;
  const offline = live ? null : `知识当前为“${KB_STATUS[a.status] || a.status}”，没有对外答复的版本，该修改不能发布。` + (r.stale ? ""
    : owner ? "再次编辑时将以该修改为底稿，保存后随知识重新审核；也可撤回该修改。"
      : editor ? "知识重新发布后才能审核该修改；单位再次编辑时会以它为底稿。" : "");
  const box = h("div", { class: `alert kb-revision${rejected ? " kb-revision-rejected" : ""}`, id: "kb-revision", "data-state": r.state },
    h("strong", {}, rejected ? "修改未通过" : live ? "有待审核的修改" : "修改已搁置"),
    h("div", { class: "muted" }, rejected
      ? `${r.reviewed_by} ${fmt(r.reviewed_at)} 退回：${r.reason || "（未填写原因）"}`
      : `${r.updated_by} ${fmt(r.updated_at)} 提交（基于 v${r.base_version}）${live ? "；审核通过前，当前发布的版本继续对外答复。" : "。"}`),
    offline ? h("div", { class: "kb-offline" }, offline) : null,
    stale ? h("div", { class: "kb-stale" }, stale) : null,
    rejected && owner && live && !r.stale ? h("div", { class: "muted" }, "可再次编辑后重新提交，或撤回该修改。") : null,
    h("div", { id: "kb-revision-diff" }),
    h("div", { class: "actions" },
      editor && !rejected && live && !r.stale ? h("button", { type: "button", onclick: (ev) => act("publish_revision", ev.currentTarget) }, "发布修改") : null,
      editor && !rejected ? reject : null,
      owner ? h("button", { type: "button", onclick: (ev) => confirm("撤回后该修改将被丢弃，确定撤回？") && act("withdraw_revision", ev.currentTarget) }, "撤回修改") : null));
  kbRevisionDiff(a, box.querySelector("#kb-revision-diff")).catch(kbFail);
  return box;
}

// The current version against the revision, rendered as kbDiff renders two versions; labelled, so that a revision
// written on an older version (whose diff shows the later changes undone) reads as such.
async function kbRevisionDiff(a, target) {
  const d = await api(`/api/v1/kb/articles/${a.id}/revision/diff`);
  const label = d.stale
    ? `对比：当前版本 v${d.from} → 基于 v${d.base_version} 写的修改（v${d.base_version} 之后的改动在此显示为删除，并非该修改所删）`
    : `对比：当前版本 v${d.from} → 修改`;
  target.replaceChildren(h("p", { class: "kb-diff-label" }, label), kbChanges(d.changes, "与当前版本相同"));
}

const kbSegment = (s) => (s.op === "insert" ? h("ins", {}, s.text) : s.op === "delete" ? h("del", {}, s.text) : s.text);
const kbChanges = (changes, same) => (changes.length ? h("ul", { class: "kb-changes" }, changes.map((c) => h("li", { "data-field": c.field, "data-op": c.op },
  h("span", { class: "badge" }, c.label || (c.field === "title" ? "标题" : "正文")), " ", c.segments.map(kbSegment))))
  : h("p", { class: "muted" }, same));

function kbActionForm(a, name, spec) {
  const form = h("form", { class: "kb-action", "data-action": name },
    spec.note ? h("input", { name: "note", placeholder: spec.note, maxlength: KB_NOTE_MAX }) : null,
    spec.date ? h("input", { name: "review_due_at", type: "date", title: spec.date }) : null,
    h("button", { type: "submit" }, spec.label));
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (button.disabled) return;  // a double click: the first request is still on its way
    const note = spec.note ? form.elements.namedItem("note").value.trim() : "";
    if (spec.required && !note) return alert(`请填写${spec.note}`);
    if (spec.confirm && !confirm(spec.confirm)) return;
    kbBusy(button, async () => {
      try {
        // the version read pins the action: the API answers 409 if the article changed meanwhile
        const body = { version: a.version, note: note || null };
        if (spec.date) body.review_due_at = kbAt(form.elements.namedItem("review_due_at").value);
        await api(`/api/v1/kb/articles/${a.id}/actions/${name}`, { json: body });
      } catch (err) {
        return alert(err.message);
      }
      await kbOpen(a.id);
      await kbList();
    }).catch(kbFail);
  });
  return form;
}

function kbVersions(a, items) {
  const numbers = [...new Set(items.map((v) => v.version))];
  const pick = (name, value) => h("select", { name }, numbers.map((n) => h("option", { value: n, selected: n === value }, `v${n}`)));
  const form = h("form", { id: "kb-diff-form", class: "row" },
    h("label", {}, "从", pick("from", numbers[numbers.length - 2])), h("label", {}, "到", pick("to", numbers[numbers.length - 1])),
    h("button", { type: "submit" }, "比较"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    kbDiff(a.id, form.elements.namedItem("from").value, form.elements.namedItem("to").value).catch(kbFail);
  });
  return h("div", { class: "card" }, h("h3", {}, "版本记录"),
    h("table", {}, h("tr", {}, ["版本", "操作", "状态", "操作人", "时间", "说明"].map((t) => h("th", {}, t))),
      items.map((v) => h("tr", {}, h("td", {}, `v${v.version}`), h("td", {}, KB_VERSION_ACTIONS[v.action] || v.action),
        h("td", {}, KB_STATUS[v.status] || v.status), h("td", {}, v.changed_by), h("td", {}, fmt(v.created_at)), h("td", {}, v.note || "")))),
    numbers.length > 1 ? form : null, h("div", { id: "kb-diff" }));
}

async function kbDiff(id, from, to) {
  // Rendered from `changes` (the changed fields, and the words changed in each sentence) as del/ins nodes,
  // not from the server's HTML. A field change carries its label (关键词, 分类, 失效日期 …) and the old and new
  // values shown as text; a field a version recorded before it was recorded is never reported.
  const d = await api(`/api/v1/kb/articles/${id}/diff?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  $("#kb-diff").replaceChildren(
    h("p", { class: "muted" }, `v${d.from} → v${d.to}（${d.changed_by}，${fmt(d.changed_at)}）`),
    kbChanges(d.changes, "两个版本内容相同"));
}

// A unit's (not an editor's) edit of a published article waits for review as its pending revision.
const kbProposes = (a) => Boolean(a) && a.status === "published" && !kbIsEditor();
// What a unit's edit starts from (knowledge.revisions.edit_base): its revision while written on the current version,
// the article published or not (no longer published: the save takes the revision in, and it goes to review).
const kbEditRevision = (a) => (a && !kbIsEditor() && a.pending_revision && !a.pending_revision.stale ? a.pending_revision : null);

// The notes above the edit form: what saving does here.
function kbEditNotes(a, r) {
  if (!a) return [];
  const notes = [];
  if (kbProposes(a)) notes.push("该知识已发布：保存的修改经平台编辑审核通过后才会生效，审核期间当前版本继续对外答复。");
  if (a.status === "expired" && !kbIsEditor()) notes.push("修改已过期的知识后需重新审核。");
  if (r) notes.push(`表单内容来自本单位提交的修改（基于 v${r.base_version}）${a.status === "published" ? "" : "，保存后该修改并入本次编辑"}。`);
  const p = a.pending_revision;
  if (kbIsEditor() && p && p.state === "pending" && !p.stale) {
    notes.push(`该知识有 ${p.updated_by} 提交的待审核修改（基于 v${p.base_version}），表单内容是当前版本：直接保存会使该修改过期、不能再发布，需单位在新版本上重新修改。如要采用该修改，请先取消并在知识页面审核。`);
  }
  return notes;
}

function kbEdit(a, draft = {}) {
  // a unit editing its revision (written on the current version) continues from it, as the API does
  const r = kbEditRevision(a);
  const v = r ? { ...a, ...r } : a || draft;
  const notes = kbEditNotes(a, r);
  const input = (name, attrs = {}) => h("input", { name, value: v[name] ?? "", ...attrs });
  const date = (name) => h("input", { name, type: "date", value: kbDay(v[name]) });
  const form = h("form", { id: "kb-editor", class: "card" },
    h("h2", {}, a ? `编辑知识 v${a.version}` : "新建知识"),
    notes.length ? h("p", { class: "muted", id: "kb-editor-note" }, notes.join("")) : null,
    h("label", {}, "标题", input("title", { required: "", maxlength: 300 })),
    h("label", {}, "正文（HTML；保存时服务器会清除脚本等不安全内容）", h("textarea", { name: "body", rows: 12, required: "" }, v.body_html || "")),
    h("div", { class: "row" },
      h("label", {}, "分类", input("category", { maxlength: 50, list: "kb-categories" })),
      kbIsEditor() ? h("label", {}, "单位", h("select", { name: "unit" }, h("option", { value: "" }, a ? "（不变）" : "平台通用"),
        units.map((u) => h("option", { value: u.code, selected: u.code === v.unit_code }, u.name)))) : null,
      h("label", {}, "关键词（逗号分隔）", h("input", { name: "keywords", value: (v.keywords || []).join("，") }))),
    h("div", { class: "row" }, h("label", {}, "生效日期", date("valid_from")), h("label", {}, "失效日期", date("valid_to")),
      h("label", {}, "复审日期", date("review_due_at"))),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "保存"),
      h("button", { type: "button", onclick: () => (a ? kbOpen(a.id).catch(kbFail) : $("#kb-pane").replaceChildren()) }, "取消")),
    h("p", { class: "error", id: "kb-error" }));
  const save = form.querySelector("button[type=submit]");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    kbBusy(save, () => kbSave(form, a)).catch(kbFail);  // a double click saves (creates) once
  });
  kbShow(form);
}

async function kbSave(form, a) {
  const el = (name) => form.elements.namedItem(name), val = (name) => el(name).value.trim();
  const body = { title: val("title"), body: el("body").value, category: val("category") || null,
    keywords: val("keywords").split(/[,，、;；\s]+/).filter(Boolean),
    valid_from: kbAt(val("valid_from")), valid_to: kbAt(val("valid_to")), review_due_at: kbAt(val("review_due_at")) };
  if (el("unit")) body.unit = el("unit").value || null;
  if (a) body.version = a.version;  // 409 if someone changed it since it was opened
  // a unit's edit pins the revision it was made on, or 0 when there was none: 409 if one was made (or changed) meanwhile
  if (a && !kbIsEditor()) body.revision_version = a.pending_revision ? a.pending_revision.version : 0;
  form.querySelectorAll(".invalid").forEach((x) => x.classList.remove("invalid"));
  $("#kb-error").textContent = "";
  let saved;
  try {
    saved = await api(a ? `/api/v1/kb/articles/${a.id}` : "/api/v1/kb/articles", { method: a ? "PUT" : "POST", json: body });
  } catch (err) {  // the server's validation: "字段 正文(body) 不合法：不能为空"
    const found = /字段 (?:[^\s(]+\()?(\w+)\)? /.exec(err.message);
    const name = found?.[1];
    if (name && el(name)) el(name).classList.add("invalid");
    $("#kb-error").textContent = KB_FIELDS[name] ? err.message.replace(found[0], `“${KB_FIELDS[name]}”`) : err.message;
    return;
  }
  await kbOpen(saved.id);
  await kbList();
}

async function kbGaps() {
  const { items } = await api("/api/v1/kb/gaps?limit=200");
  kbShow(h("div", { class: "card", id: "kb-gaps" }, h("h2", {}, "知识缺口"),
    h("p", { class: "muted" }, "智能问答未能答复或答复被评“没用”的问题，按出现次数排列。"),
    items.length ? h("table", {}, h("tr", {}, ["问题", "次数", "最近一次", ""].map((t) => h("th", {}, t))),
      items.map((g) => h("tr", {}, h("td", {}, g.question), h("td", {}, g.count), h("td", {}, fmt(g.last_at)),
        h("td", {}, g.article_id ? h("button", { type: "button", onclick: () => kbOpen(g.article_id).catch(kbFail) }, "被评没用的答复") : null,
          h("button", { type: "button", onclick: () => kbEdit(null, { title: g.question }) }, "补充知识"),
          kbIsEditor() ? h("button", { type: "button", class: "kb-gap-close", onclick: () => kbCloseGap(g.question) }, "已处理") : null))))
      : h("p", { class: "muted" }, "暂无知识缺口")));
}

async function kbCloseGap(question) {
  try {
    await api("/api/v1/kb/gaps/close", { json: { question } });  // the question leaves the list until asked again
    await kbGaps();
  } catch (err) {
    kbFail(err);
  }
}

async function kbSynonyms() {
  const { items } = await api("/api/v1/kb/synonyms");
  const run = (button, path, init) => kbBusy(button, async () => {
    try { await api(path, init); } catch (err) { return alert(err.message); }
    await kbSynonyms();
  });
  const row = (g) => {
    const input = h("input", { name: "terms", value: g ? g.terms.join("、") : "", placeholder: "如：公积金、住房公积金" });
    const save = (ev) => run(ev.currentTarget, g ? `/api/v1/kb/synonyms/${g.id}` : "/api/v1/kb/synonyms", { method: g ? "PUT" : "POST", json: { terms: input.value.trim() } });
    const drop = (ev) => confirm(`删除同义词组“${g.terms.join("、")}”？`) && run(ev.currentTarget, `/api/v1/kb/synonyms/${g.id}`, { method: "DELETE" });
    return h("tr", { "data-id": g ? g.id : "new" }, h("td", {}, input),
      h("td", {}, h("button", { type: "button", onclick: save }, g ? "保存" : "添加"), g ? h("button", { type: "button", onclick: drop }, "删除") : null));
  };
  kbShow(h("div", { class: "card", id: "kb-synonyms" }, h("h2", {}, "同义词"),
    h("p", { class: "muted" }, "同组的词检索时互相扩展，用顿号或逗号分隔；保存后立即生效，无需重建索引。"),
    h("table", {}, items.map(row), row(null))));
}
