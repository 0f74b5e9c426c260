// End-to-end driver of the console's 知识库 view (kb.js) in jsdom against a real server.
//
//   node tests/console/kb_driver.js BASE_URL SCENARIO_JSON
//
// Each user gets a fresh console page (page.js: the real server over HTTP, only the live-events
// WebSocket replaced, which is not part of this view). The
// scenario (users, titles, texts) comes from the pytest that started the server; the results are
// printed as one JSON object on stdout for it to check.
"use strict";

const { withKbList } = require("./kb_page");
const { openConsole: openPage, runDriver } = require("./page");

const [base, scenarioJson] = process.argv.slice(2);
const S = JSON.parse(scenarioJson);
const errors = [];

// A page of the console with the 知识库 view's own helpers.
async function openConsole(who) {
  const page = withKbList(await openPage(base, who, errors));
  Object.assign(page, {
    async search(filters) {  // the same filters and the text, ranked by the full-text search
      page.$("#kb-filters").reset();
      page.set(page.$("#kb-filters"), filters);
      await page.click(page.button("全文检索", page.$("#kb-filters")), "全文检索");
      return page.titles();
    },
    listed: () => ({ count: page.text("#kb-count"), rows: page.$$("#kb-list tr[data-id]").length,
      buttons: page.$$("#kb-list button").map((b) => b.textContent), empty: page.text("#kb-list > p") }),
    article() {
      const card = page.$("#kb-article");
      return card && { id: Number(card.dataset.id), status: card.dataset.status, version: Number(card.dataset.version),
        title: card.querySelector("h2").firstChild.textContent.trim(), badge: page.text("#kb-article h2 .badge"),
        actions: page.$$(".kb-action", card).map((f) => f.dataset.action), edit: Boolean(page.button("编辑", card)) };
    },
    async act(action, note) {
      const form = page.$(`#kb-article .kb-action[data-action=${action}]`);
      if (note !== undefined) page.set(form, { note });
      await page.click(form && form.querySelector("button"), action);
      return page.article();
    },
    async save(values) {  // fill the editor and save: the article shown after it, or the error shown
      const form = page.$("#kb-editor");
      page.set(form, values);
      await page.click(form.querySelector("button[type=submit]"), "保存");
      return page.$("#kb-editor") ? { error: page.text("#kb-error"), invalid: page.$$("#kb-editor .invalid").map((el) => el.name) }
        : { article: page.article() };
    },
  });
  return page;
}

async function unitSteps() {
  const p = await openConsole("unit");
  const out = {};
  await p.login(S.unit.username, S.unit.password);
  await p.openKb();
  out.tools = p.$$("#kb > .actions button").map((b) => b.textContent);
  out.whoami = p.text("#kb-whoami");
  out.unit_options = p.$$("#kb-filters select[name=unit] option").map((o) => o.value);
  out.due_notice = p.text("#kb-due");
  await p.click(p.button("查看", p.$("#kb-due")), "查看");
  out.flagged_titles = p.$$("#kb-list td > a").map((a) => a.textContent);
  out.flagged_badges = p.$$("#kb-list .kb-due").map((b) => b.textContent);
  // still right: confirmed with the next review date, no new version and no second review
  out.flagged_opened = await p.open(out.flagged_titles[0]);
  out.flagged_alert = p.text("#kb-article .alert");
  p.set(p.$("#kb-article .kb-action[data-action=confirm]"), { review_due_at: "2031-01-01" });
  out.confirmed = await p.act("confirm");
  out.confirmed_alert = p.text("#kb-article .alert");
  out.confirmed_review = p.$$("#kb-article tr").find((tr) => tr.cells[0].textContent === "复审日期")?.cells[1].textContent;

  await p.click(p.button("新建知识"), "新建知识");
  out.editor_has_unit = Boolean(p.$("#kb-editor").elements.namedItem("unit"));
  out.rejected_save = await p.save({ title: S.article.title, body: "<script>alert(1)</script>", category: S.category,
    keywords: "养犬、犬只登记", review_due_at: "2030-06-30", valid_to: "2030-12-31" });
  out.created = (await p.save({ body: S.article.body })).article;
  const cell = (label) => p.$$("#kb-article tr").find((tr) => tr.cells[0].textContent === label)?.cells[1].textContent;
  out.created_fields = { keywords: cell("关键词"), validity: cell("有效期"), review: cell("复审日期"), category: cell("分类"),
    unit: cell("单位"), body: p.text("#kb-article .kb-body") };
  out.submitted = await p.act("submit");

  await p.click(p.button("新建知识"), "新建知识");
  out.second = (await p.save({ title: S.second.title, body: S.second.body })).article;
  out.second_submitted = await p.act("submit");
  out.list_in_review = await p.listTitles({ flagged: false, mine: true, status: "in_review" });
  out.list_badges = p.$$("#kb-list .badge").map((b) => b.textContent);
  out.list_in_review_count = p.listed().count;
  // the filter box: title or body containing the text, within the unit's own articles
  out.filtered = await p.listTitles({ q: "户籍窗口" });
  out.filtered_count = p.listed().count;
  return p.finish(out);
}

async function editorSteps() {
  const p = await openConsole("editor");
  const out = {};
  await p.login(S.editor.username, S.editor.password);
  await p.openKb();
  out.tools = p.$$("#kb > .actions button").map((b) => b.textContent);
  out.whoami = p.text("#kb-whoami");
  out.first_page = p.listed();

  // paging: one unit's many drafts, 50 a page
  out.paged = [await p.listTitles({ unit: S.bulk.unit })];
  out.pages = [p.listed()];
  await p.click(p.button("下一页", p.$("#kb-list")), "下一页");
  out.paged.push(p.titles());
  out.pages.push(p.listed());
  await p.click(p.button("上一页", p.$("#kb-list")), "上一页");
  out.pages.push(p.listed());
  out.bulk_filtered = await p.listTitles({ unit: S.bulk.unit, q: S.bulk.filter });
  out.bulk_filtered_count = p.listed().count;
  out.nothing = await p.listTitles({ q: "没有这样的知识" });
  out.nothing_listed = p.listed();

  out.in_review = await p.listTitles({ status: "in_review" });

  out.opened = await p.open(S.article.title);
  await p.click(p.button("编辑", p.$("#kb-article")), "编辑");
  out.editor_units = p.$$("#kb-editor select[name=unit] option").length;
  const body = p.$("#kb-editor").elements.namedItem("body").value;
  out.edited = (await p.save({ body: body.replace(S.edit.from, S.edit.to) })).article;
  out.published = await p.act("publish", "已核实");

  out.versions = p.$$("#kb-pane .card:nth-child(2) table tr").slice(1).map((tr) => [...tr.cells].map((td) => td.textContent));
  await p.click(p.$("#kb-diff-form button[type=submit]"), "比较");
  out.diff_meta = p.text("#kb-diff p");
  out.diff_items = p.$$("#kb-diff li").map((li) => ({ field: li.dataset.field, op: li.dataset.op, text: li.textContent }));
  out.dels = p.$$("#kb-diff del").map((el) => el.textContent);
  out.ins = p.$$("#kb-diff ins").map((el) => el.textContent);
  out.diff_tags = [...new Set(p.$$("#kb-diff *").map((el) => el.tagName.toLowerCase()))].sort();

  await p.listTitles({ status: "in_review" });
  out.second_opened = await p.open(S.second.title);
  out.reject_without_reason = await p.act("reject", "");
  out.alerts_after_empty_reject = [...p.alerts];
  out.rejected = await p.act("reject", S.reject_reason);

  out.search = await p.search({ q: S.search });
  out.search_marks = p.$$("#kb-list em").map((em) => em.textContent);
  out.search_count = p.listed().count;
  out.search_unit_category = await p.search({ q: S.search, unit: "police", category: S.category });
  out.search_other_unit = await p.search({ q: S.search, unit: S.bulk.unit });
  out.search_other_unit_listed = p.listed();
  out.search_other_category = await p.search({ q: S.search, unit: "police", category: "C0501" });
  out.search_requests = p.requests.filter((r) => r.startsWith("GET /api/v1/kb/search?"));
  await p.click(p.button("返回列表", p.$("#kb-list")), "返回列表");
  out.back_to_list = p.listed();

  await p.click(p.button("知识缺口"), "知识缺口");
  out.gaps = p.$$("#kb-gaps tr").slice(1).map((tr) => ({ question: tr.cells[0].textContent, count: tr.cells[1].textContent }));
  await p.click(p.button("补充知识", p.$("#kb-gaps")), "补充知识");
  out.gap_draft_title = p.$("#kb-editor").elements.namedItem("title").value;
  await p.click(p.button("知识缺口"), "知识缺口");
  const gapRow = p.$$("#kb-gaps tr").find((tr) => tr.cells[0].textContent === out.gap_draft_title);
  await p.click(p.button("已处理", gapRow), "已处理");
  out.gaps_after_close = p.$$("#kb-gaps tr").slice(1).map((tr) => tr.cells[0].textContent);

  await p.click(p.button("同义词"), "同义词");
  p.$('#kb-synonyms tr[data-id="new"] input').value = S.synonyms;
  await p.click(p.button("添加", p.$("#kb-synonyms")), "添加");
  out.synonyms = p.$$("#kb-synonyms tr input").map((i) => i.value);
  return p.finish(out);
}

async function agentSteps() {  // reads, and is offered no change
  const p = await openConsole("agent");
  await p.login(S.agent.username, S.agent.password);
  await p.openKb();
  const out = { tools: p.$$("#kb > .actions button").map((b) => b.textContent), due_notice: p.text("#kb-due"),
    whoami: p.text("#kb-whoami"), unit_options: p.$$("#kb-filters select[name=unit] option").length };
  // a search: an article not yet in force comes after the ones in force, marked
  out.search = await p.search({ q: S.future.search });
  out.search_badges = p.$$("#kb-list tr[data-id]").map((tr) => p.$$(".badge.kb-not-in-force", tr).map((b) => b.textContent));
  await p.listTitles({ status: "published" });
  out.opened = await p.open(S.article.title);
  return p.finish(out);
}

runDriver(async () => ({ unit: await unitSteps(), editor: await editorSteps(), agent: await agentSteps() }), errors);
