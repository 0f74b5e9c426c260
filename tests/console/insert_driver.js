// End-to-end driver of the knowledge panel in a ticket's reply forms (console.js) and of a rejected draft's
// reason (kb.js), in jsdom against a real server.
//
//   node tests/console/insert_driver.js BASE_URL SCENARIO_JSON
//
// An agent opens a new ticket, opens the 知识库 panel of its 直接答复 form and reads the suggested articles,
// puts the cursor between two lines of the reply and inserts an article's answer (double-clicked, its request
// delayed: the button is disabled meanwhile), sees an insert refused by the server as an error in the form,
// then answers the ticket. A unit user opens its signed ticket, inserts a suggested article into its 答复
// (never focused: appended on a new line), searches for another article (Enter in the search box) and inserts
// it after the first, sees a refused search as an error, and replies. In 知识库 a platform editor opens a
// rejected draft, a plain one and a resubmitted one; the draft's unit opens the rejected one. The results are printed as one JSON object on stdout.
"use strict";

const { openConsole, runDriver, sleep } = require("./page");

const [base, scenarioJson] = process.argv.slice(2);
const S = JSON.parse(scenarioJson);
const errors = [];

const transitions = (p) => p.requests.filter((r) => /^POST \/api\/v1\/tickets\/[^/]+\/transitions /.test(r));
const inserts = (p) => p.requests.filter((r) => r.startsWith("POST /api/v1/assist/insert "));
const assists = (p) => p.requests.filter((r) => r.startsWith("POST /api/v1/assist "));

// The knowledge panel of the reply form `action` on the open ticket.
function panelOf(p, action) {
  const form = p.$(`#detail form[data-action="${action}"]`);
  if (!form) throw new Error(`no ${action} form`);
  const panel = form.querySelector(".kb-reply");
  const read = () => ({
    present: !!panel,
    open: panel ? !panel.querySelector(".kb-reply-body").hidden : false,
    toggle: panel ? panel.querySelector(".kb-reply-toggle").textContent.trim() : "",
    suggested: panel ? p.$$(".kb-reply-suggested .kb-reply-article", panel).map((d) => ({
      id: d.dataset.id, title: d.querySelector(".kb-reply-title").textContent, snippet: d.querySelector(".snippet")?.textContent || "",
      marked: p.$$(".snippet em", d).map((e) => e.textContent) })) : [],
    suggested_text: panel ? panel.querySelector(".kb-reply-suggested").textContent : "",
    results: panel ? p.$$(".kb-reply-results .kb-reply-article", panel).map((d) => d.querySelector(".kb-reply-title").textContent) : [],
    error: panel ? panel.querySelector(".kb-reply-error").textContent : "",
  });
  const insertButton = (where, title) => {
    const item = p.$$(`${where} .kb-reply-article`, panel).find((d) => d.querySelector(".kb-reply-title").textContent.startsWith(title));
    if (!item) throw new Error(`no article ${title} in ${where}: ${JSON.stringify(read())}`);
    return item.querySelector("button.kb-reply-insert");
  };
  return { form, panel, read, insertButton, textarea: form.querySelector("textarea") };
}

async function agentSteps() {
  const p = await openConsole(base, "agent", errors);
  const out = {};
  await p.login(S.agent.username, S.agent.password);
  await p.click(p.$(`#ticket-list li[data-number="${S.agent.ticket}"]`), S.agent.ticket);
  const k = panelOf(p, "answer");
  out.collapsed = { ...k.read(), assists: assists(p).length };
  await p.click(k.panel.querySelector(".kb-reply-toggle"), "知识库");
  out.opened = { ...k.read(), assists: assists(p).length };

  // The cursor on the empty line between the greeting and the closing: the answer goes there.
  const ta = k.textarea;
  ta.value = S.agent.draft;
  ta.focus();
  ta.setSelectionRange(S.agent.caret, S.agent.caret);
  p.delay("POST", /^\/api\/v1\/assist\/insert$/, 400);
  const button = k.insertButton(".kb-reply-suggested", S.agent.article);
  button.click();
  out.disabled_while_running = button.disabled;
  button.click();  // a double click: one request
  await sleep(50);
  out.value_while_running = ta.value;
  await p.idle();
  out.inserted = { value: ta.value, enabled_after: !button.disabled, inserts: inserts(p).length,
    transitions: transitions(p).length, form_still_there: !!p.$('#detail form[data-action="answer"]'), error: k.read().error,
    caret: ta.selectionStart };

  // The server refuses an article (here: stubbed as no longer in force): told in the form, the reply untouched.
  p.stub("POST", /^\/api\/v1\/assist\/insert$/, 400, { error: { code: "invalid_input", message: S.refused } });
  const before = ta.value;
  await p.click(k.insertButton(".kb-reply-suggested", S.agent.article), "插入答复（失败）");
  out.refused = { error: k.read().error, unchanged: ta.value === before, enabled: !k.insertButton(".kb-reply-suggested", S.agent.article).disabled };

  // The agent edits a little and answers the ticket with the text as it stands.
  ta.value = `${ta.value}${S.agent.edit}`;
  out.submitted_text = ta.value;
  await p.click(k.form.querySelector("button[type=submit]"), "直接答复");
  out.after = { badge: p.text("#detail .badge"), transitions: transitions(p).length };
  return p.finish(out);
}

async function unitSteps() {
  const p = await openConsole(base, "unit", errors);
  const out = {};
  await p.login(S.unit.username, S.unit.password);
  await p.click(p.$(`#ticket-list li[data-number="${S.unit.ticket}"]`), S.unit.ticket);
  const k = panelOf(p, "reply");
  await p.click(k.panel.querySelector(".kb-reply-toggle"), "知识库");
  out.opened = k.read();
  out.assist_requests = assists(p);

  // Never focused: the answer is appended on a new line after what is there.
  const ta = k.textarea;
  ta.value = S.unit.draft;
  await p.click(k.insertButton(".kb-reply-suggested", S.unit.article), "插入答复");
  out.appended = ta.value;

  // Another article, searched for: Enter in the search box searches and does not submit the reply.
  const q = k.panel.querySelector(".kb-reply-q");
  q.value = S.unit.search;
  q.dispatchEvent(new p.w.KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
  await sleep(50);
  await p.idle();
  out.searched = { ...k.read(), transitions: transitions(p).length,
    request: p.requests.filter((r) => r.startsWith("GET /api/v1/kb/search")).pop() || "" };
  await p.click(k.insertButton(".kb-reply-results", S.unit.search_article), "插入答复（检索）");
  out.second = ta.value;

  // A search the server refuses (digits: tickets' numbers are masked for units): the reason in the form.
  q.value = S.unit.bad_search;
  await p.click(k.panel.querySelector(".kb-reply-find"), "检索（被拒）");
  out.bad_search = { error: k.read().error, results: k.read().results, value_kept: ta.value === out.second };

  await p.click(k.form.querySelector("button[type=submit]"), "答复");
  out.after = { badge: p.text("#detail .badge"), transitions: transitions(p).length };
  return p.finish(out);
}

// In 知识库, as a platform editor (who sent the draft back) or as the draft's unit.
async function kbSteps(who, login, titles) {
  const p = await openConsole(base, who, errors);
  const out = {};
  await p.login(login.username, login.password);
  await p.click(p.$('nav button[data-view="kb"]'), "知识库");
  const open = async (title) => {
    const link = p.$$("#kb-list td > a").find((a) => a.textContent === title);
    await p.click(link, title);
    return { badge: p.text("#kb-article h2 .badge"), rejected: p.text("#kb-rejected"),
      first_after_title: p.$("#kb-article h2").nextElementSibling?.id || "" };
  };
  for (const key of titles) out[key] = await open(S.editor[key]);
  return p.finish(out);
}

const STEPS = { agent: agentSteps, unit: unitSteps,
  editor: () => kbSteps("editor", S.editor, ["rejected", "plain", "resubmitted"]),
  unit_kb: () => kbSteps("unit", S.unit, ["rejected"]) };
runDriver(async () => {
  const out = {};
  for (const name of S.steps || Object.keys(STEPS)) out[name] = await STEPS[name]();
  return out;
}, errors);
