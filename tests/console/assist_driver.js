// End-to-end driver of the console's new-ticket form with live assist, a unit's actions and the 知识库 editor
// (console.js, kb.js) in jsdom against a real server.
//
//   node tests/console/assist_driver.js BASE_URL SCENARIO_JSON
//
// An agent types into the new-ticket form and reads the assist panel (the router's pick and its alerts, the
// suggested articles with their snippets, similar tickets), races two texts and clears one, and answers a
// ticket directly from the knowledge base (once as it should go, once with the answer step failing, then
// saving new content). A unit user signs a ticket with a double click and hands another back (退单). A
// platform editor creates an article with a double click on 保存. The results are printed as one JSON object
// on stdout for the pytest that started the server to check.
"use strict";

const { openConsole, runDriver, sleep } = require("./page");

const [base, scenarioJson] = process.argv.slice(2);
const S = JSON.parse(scenarioJson);
const errors = [];

async function type(p, text, settle = true) {
  const ta = p.$("#new-form").elements.namedItem("text");
  ta.value = text;
  ta.dispatchEvent(new p.w.Event("input"));
  await sleep(400);  // the assist waits 300 ms for the typing to pause
  if (settle) await p.idle();  // else: its request may still be on its way
}

const panel = (p) => ({
  text: p.text("#assist"),
  route: p.text("#assist-route"),
  alerts: p.$$("#assist .alert").map((d) => d.textContent),
  snippets: p.$$("#assist .snippet").map((d) => ({ text: d.textContent, marked: p.$$("em", d).map((e) => e.textContent) })),
  similar: p.$$("#assist .similar").map((d) => d.textContent),
});

const transitions = (p) => p.requests.filter((r) => /^POST \/api\/v1\/tickets\/\d+\/transitions /.test(r));

async function agentSteps() {
  const p = await openConsole(base, "agent", errors);
  const out = {};
  await p.login(S.agent.username, S.agent.password);
  await p.click(p.$('nav button[data-view="new"]'), "新建工单");

  for (const [key, text] of Object.entries(S.panels)) {
    await type(p, text);
    out[key] = panel(p);
  }

  // A slow answer for an earlier text arrives after the answer for the text as it is now: it is dropped.
  p.delay("POST", /^\/api\/v1\/assist$/, 1500);
  await type(p, S.race.first, false);
  await type(p, S.race.second);
  await sleep(1600);
  await p.idle();
  out.race = panel(p);
  // Cleared while its request is in flight: the panel empties at once and stays empty.
  p.delay("POST", /^\/api\/v1\/assist$/, 1500);
  await type(p, S.race.first, false);
  const ta = p.$("#new-form").elements.namedItem("text");
  ta.value = "";
  ta.dispatchEvent(new p.w.Event("input"));
  out.cleared_at_once = p.text("#assist");
  await sleep(1600);
  await p.idle();
  out.cleared = p.text("#assist");
  out.aborted = p.requests.filter((r) => r.startsWith("POST /api/v1/assist ") && r.endsWith("aborted")).length;

  // Answered directly from the knowledge base (double-clicked): created without being dispatched, answered.
  p.set(p.$("#new-form"), { phone: S.phone });
  await type(p, S.answer.text);
  const button = p.button("用此答复直接办结", p.$("#assist"));
  button.click();
  button.click();
  await sleep(100);
  await p.idle();
  out.answered = { error: p.text("#new-error"), header: p.text("#detail .card p"), new_hidden: p.$("#new-ticket").hidden,
    creates: p.requests.filter((r) => r.startsWith("POST /api/v1/tickets ")).length, transitions: transitions(p).length };

  // The answer step fails: the agent is told which ticket was saved, and the form takes new content.
  await p.click(p.$('nav button[data-view="new"]'), "新建工单");
  p.stub("POST", /^\/api\/v1\/tickets\/\d+\/transitions$/, 409, { error: { code: "conflict", message: "工单已被他人处理" } });
  await type(p, S.answer.text2);
  await p.click(p.button("用此答复直接办结", p.$("#assist")), "用此答复直接办结（失败）");
  out.failed = { error: p.text("#new-error"), link: p.text("#new-created"), text_left: p.$("#new-form").elements.namedItem("text").value,
    assist: p.text("#assist") };
  await type(p, S.answer.text3);
  await p.click(p.$("#new-form button[type=submit]"), "保存工单");
  out.saved_after = { error: p.text("#new-error"), header: p.text("#detail .card p") };
  return p.finish(out);
}

async function unitSteps() {
  const p = await openConsole(base, "unit", errors);
  const out = {};
  await p.login(S.unit.username, S.unit.password);
  // 签收, double-clicked: one request, no error
  await p.click(p.$(`#ticket-list li[data-number="${S.unit.sign}"]`), S.unit.sign);
  const sign = p.$('#detail form[data-action="sign"] button[type=submit]');
  sign.click();
  out.sign_disabled = sign.disabled;
  sign.click();
  await p.idle();
  out.signs = transitions(p).length;
  out.sign_state = p.text("#detail .badge");
  // 退单: the unit can no longer see the ticket afterwards
  await p.click(p.$(`#ticket-list li[data-number="${S.unit.return}"]`), S.unit.return);
  const form = p.$('#detail form[data-action="return"]');
  p.set(form, { reason: S.unit.reason });
  await p.click(form.querySelector("button[type=submit]"), "退单");
  out.returned = { detail: p.text("#detail"), listed: p.$$("#ticket-list li").map((li) => li.dataset.number) };
  return p.finish(out);
}

async function editorSteps() {
  const p = await openConsole(base, "editor", errors);
  const out = {};
  await p.login(S.editor.username, S.editor.password);
  await p.click(p.$('nav button[data-view="kb"]'), "知识库");
  await p.click(p.button("新建知识"), "新建知识");
  out.editor_scrolled = [...p.scrolled];
  const form = p.$("#kb-editor");
  p.set(form, { title: S.article.title, body: S.article.body });
  const save = p.button("保存", form);
  save.click();
  out.save_disabled = save.disabled;
  save.click();
  await p.idle();
  out.creates = p.requests.filter((r) => r.startsWith("POST /api/v1/kb/articles ")).length;
  out.opened = p.text("#kb-article h2");
  out.scrolled = [...p.scrolled];
  return p.finish(out);
}

runDriver(async () => ({ agent: await agentSteps(), unit: await unitSteps(), editor: await editorSteps() }), errors);
