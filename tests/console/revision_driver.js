// End-to-end driver of the 知识库 view's pending revisions (kb.js) in jsdom against a real server.
//
//   node tests/console/revision_driver.js BASE_URL SCENARIO_JSON
//
// A unit edits its published article (the edit waits as a pending revision), an agent reads the article
// (no banner), an editor finds it under 待审核修改 and sends it back with a reason, the unit reads the reason
// and edits again, the editor publishes it; then the unit proposes once more and withdraws. The results are
// printed as one JSON object on stdout for test_console_revisions.py to check.
"use strict";

const { withKbList } = require("./kb_page");
const { openConsole: openPage, runDriver } = require("./page");

const [base, scenarioJson] = process.argv.slice(2);
const S = JSON.parse(scenarioJson);
const errors = [];

async function openConsole(who) {
  const page = withKbList(await openPage(base, who, errors));
  Object.assign(page, {
    article() {
      const card = page.$("#kb-article");
      const banner = page.$("#kb-revision");
      return card && { status: card.dataset.status, version: Number(card.dataset.version), body: page.text("#kb-article .kb-body"),
        banner: banner && { state: banner.dataset.state, title: page.text("#kb-revision strong"),
          text: page.text("#kb-revision .muted"), stale: page.text("#kb-revision .kb-stale"),
          offline: page.text("#kb-revision .kb-offline"),
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

// The revisions that cannot simply be published, and two users of one unit (S.mode "edge"):
// A opens the edit form while the article has no revision, B (same unit) saves an edit first: A's save is refused
// (409) and B's revision stays. The editor's edit form warns that saving makes B's revision out of date; saved, the
// revision is stale: no 发布修改, each role told what to do, the diff labelled. The unit withdraws it, proposes
// again and reverts to the live text (withdrawn); proposes again, is sent back (a reason up to 2000 characters): its
// 待审核修改 filter lists it as 修改未通过, the editor's queue does not, an agent's 版本记录 has no revision rows.
// Edited again, then the editor expires the article: out of the queue, the banner says it is shelved; the unit's
// 编辑 starts from the revision and its save takes it in (the article back to review).
async function edgeSteps() {
  const out = {};
  const login = async (who, user) => {
    const page = await openConsole(who);
    await page.login(user.username, user.password);
    await page.openKb();
    return page;
  };
  const versionRows = (page) => page.$$("#kb-pane .card:nth-child(2) table tr").slice(1)
    .map((tr) => [tr.cells[1].textContent, tr.cells[3].textContent, tr.cells[5].textContent]);
  const banner = (page) => page.article().banner;
  const unit = await login("unit", S.unit);
  const colleague = await login("colleague", S.colleague);
  const editor = await login("editor", S.editor);
  const agent = await login("agent", S.agent);

  // 1. the lost update
  await unit.listTitles({ q: S.title });
  await unit.open(S.title);
  const opened = await unit.edit();
  out.live_body = opened.body;
  await colleague.listTitles({ q: S.title });
  await colleague.open(S.title);
  const theirs = await colleague.edit();
  out.colleague_saved = await colleague.save({ body: theirs.body.replace(S.edit.from, S.edit.to) });
  out.unit_late_save = await unit.save({ body: opened.body.replace(S.edit.from, S.other_edit) });
  await unit.listTitles({ q: S.title });
  out.unit_reopened = await unit.open(S.title);

  // 2. the editor's direct edit makes the revision out of date
  await editor.listTitles({ pending: true });
  await editor.open(S.title);
  out.editor_form = await editor.edit();
  out.editor_saved = await editor.save({ body: out.editor_form.body.replace(S.editor_edit.from, S.editor_edit.to) });
  out.editor_diff_label = editor.text("#kb-revision-diff .kb-diff-label");
  await unit.listTitles({ q: S.title });
  out.unit_stale = await unit.open(S.title);

  // 3. withdrawn; proposed again and reverted to the live text
  await unit.click(unit.revisionButton("撤回修改"), "撤回修改");
  const live = (await unit.edit()).body;
  await unit.save({ body: live.replace(S.edit.from, S.edit.to) });
  const again = await unit.edit();
  out.revert_form_body = again.body;
  out.reverted = await unit.save({ body: live });
  out.reverted_versions = versionRows(unit).slice(-1);

  // 4. rejected: the unit's to-do lists it, the editor's queue does not
  await unit.edit();
  await unit.save({ body: live.replace(S.edit.from, S.edit.to) });
  await editor.listTitles({ pending: true });
  await editor.open(S.title);
  out.reject_maxlength = editor.$("#kb-revision form input[name=note]").maxLength;
  editor.set(editor.$("#kb-revision form"), { note: S.reason });
  await editor.click(editor.revisionButton("退回修改"), "退回修改");
  out.editor_queue_after_reject = await editor.listTitles({ pending: true });
  out.unit_todo = await unit.listTitles({ pending: true });
  out.unit_todo_badges = unit.$$("#kb-list .badge.kb-revision-rejected, #kb-list .badge.kb-pending").map((b) => b.textContent);
  await agent.listTitles({ q: S.title });
  await agent.open(S.title);
  out.agent_versions = versionRows(agent).map((row) => row[0]);
  await unit.open(S.title);
  out.unit_versions = versionRows(unit).map((row) => row[0]);

  // 5. pending again, then the article expires
  await unit.edit();
  out.proposed_before_expiry = await unit.save({ body: live.replace(S.edit.from, S.edit.to) });
  await editor.listTitles({ q: S.title });
  await editor.open(S.title);
  await editor.click(editor.button("设为过期", editor.$("#kb-article")), "设为过期");
  out.editor_expired = editor.article();
  out.editor_queue_after_expiry = await editor.listTitles({ pending: true });
  out.unit_todo_after_expiry = await unit.listTitles({ pending: true });
  out.unit_todo_badges_after_expiry = unit.$$("#kb-list .badge.kb-pending").map((b) => b.textContent);
  out.unit_expired = await unit.open(S.title);
  out.unit_expired_form = await unit.edit();
  out.taken_in = await unit.save({});
  out.taken_in_versions = versionRows(unit).slice(-2);
  out.alerts = { unit: unit.alerts, colleague: colleague.alerts, agent: agent.alerts, editor: editor.alerts };
  for (const p of [unit, colleague, agent, editor]) p.close();
  return out;
}

runDriver(S.mode === "edge" ? edgeSteps : steps, errors);
