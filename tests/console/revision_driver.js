// End-to-end driver of the 知识库 view's pending revisions (kb.js) in jsdom against a real server.
//
//   node tests/console/revision_driver.js BASE_URL SCENARIO_JSON
//
// A unit edits its published article (the edit waits as a pending revision), an agent reads the article
// (no banner), an editor finds it under 待审核修改 and sends it back with a reason, the unit reads the reason
// and edits again, the editor publishes it; then the unit proposes once more and withdraws. The results are
// printed as one JSON object on stdout for test_console_revisions.py to check.
"use strict";

const { openConsole: openPage, runDriver } = require("./page");

const [base, scenarioJson] = process.argv.slice(2);
const S = JSON.parse(scenarioJson);
const errors = [];

async function openConsole(who) {
  const page = await openPage(base, who, errors);
  Object.assign(page, {
    openKb: () => page.click(page.$("nav button[data-view=kb]"), "知识库"),
    async listTitles(filters) {
      page.$("#kb-filters").reset();
      page.set(page.$("#kb-filters"), filters);
      await page.click(page.$("#kb-filters button[type=submit]"), "查询");
      return page.$$("#kb-list td > a").map((a) => a.textContent);
    },
    async open(title) {
      await page.click(page.$$("#kb-list td > a").find((a) => a.textContent === title), title);
      return page.article();
    },
    article() {
      const card = page.$("#kb-article");
      const banner = page.$("#kb-revision");
      return card && { status: card.dataset.status, version: Number(card.dataset.version), body: page.text("#kb-article .kb-body"),
        banner: banner && { state: banner.dataset.state, title: page.text("#kb-revision strong"),
          text: page.text("#kb-revision .muted"), stale: page.text("#kb-revision .kb-stale"),
          buttons: page.$$("#kb-revision button").map((b) => b.textContent),
          ins: page.$$("#kb-revision-diff ins").map((el) => el.textContent), dels: page.$$("#kb-revision-diff del").map((el) => el.textContent) } };
    },
    async edit() {
      await page.click(page.button("编辑", page.$("#kb-article")), "编辑");
      return { note: page.text("#kb-editor-note"), body: page.$("#kb-editor").elements.namedItem("body").value };
    },
    async save(values) {
      const form = page.$("#kb-editor");
      page.set(form, values);
      await page.click(form.querySelector("button[type=submit]"), "保存");
      return page.$("#kb-editor") ? { error: page.text("#kb-error") } : page.article();
    },
    revisionButton: (label) => page.button(label, page.$("#kb-revision")),
  });
  return page;
}

async function steps() {
  const out = {};
  const unit = await openConsole("unit");
  await unit.login(S.unit.username, S.unit.password);
  await unit.openKb();
  await unit.listTitles({ q: S.title });
  out.unit_opened = await unit.open(S.title);
  out.unit_form = await unit.edit();
  out.proposed = await unit.save({ body: out.unit_form.body.replace(S.edit.from, S.edit.to) });
  out.unit_list_badges = (await unit.listTitles({ q: S.title }), unit.$$("#kb-list .badge.kb-pending").map((b) => b.textContent));

  const agent = await openConsole("agent");
  await agent.login(S.agent.username, S.agent.password);
  await agent.openKb();
  await agent.listTitles({ q: S.title });
  out.agent_opened = await agent.open(S.title);
  out.agent_list_badges = agent.$$("#kb-list .badge.kb-pending").length;

  const editor = await openConsole("editor");
  await editor.login(S.editor.username, S.editor.password);
  await editor.openKb();
  out.editor_filter = editor.$("#kb-filters").elements.namedItem("pending")?.parentElement.textContent;
  out.editor_queue = await editor.listTitles({ pending: true });
  out.editor_queue_badges = editor.$$("#kb-list .badge.kb-pending").map((b) => b.textContent);
  out.editor_queue_request = editor.requests.filter((r) => r.startsWith("GET /api/v1/kb/articles?")).pop();
  out.editor_opened = await editor.open(S.title);
  await editor.click(editor.revisionButton("退回修改"), "退回修改");
  out.alerts_after_empty_reason = [...editor.alerts];
  editor.set(editor.$("#kb-revision form"), { note: S.reason });
  await editor.click(editor.revisionButton("退回修改"), "退回修改");
  out.editor_rejected = editor.article();

  await unit.listTitles({ q: S.title });
  out.unit_sees_rejection = await unit.open(S.title);
  out.unit_form_again = await unit.edit();  // continues from the rejected revision
  out.proposed_again = await unit.save({ body: out.unit_form_again.body.replace(S.edit2.from, S.edit2.to) });

  await editor.listTitles({ pending: true });
  out.editor_reopened = await editor.open(S.title);
  await editor.click(editor.revisionButton("发布修改"), "发布修改");
  out.published = editor.article();
  out.queue_after = await editor.listTitles({ pending: true });
  out.versions = editor.$$("#kb-pane .card:nth-child(2) table tr").slice(1).map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent]);

  await unit.listTitles({ q: S.title });
  await unit.open(S.title);
  await unit.edit();
  out.third = await unit.save({ title: S.third_title });
  await unit.click(unit.revisionButton("撤回修改"), "撤回修改");
  out.withdrawn = unit.article();
  out.confirms = unit.confirms;
  out.alerts = { unit: unit.alerts, agent: agent.alerts, editor: editor.alerts };
  for (const p of [unit, agent, editor]) p.close();
  return out;
}

runDriver(steps, errors);
