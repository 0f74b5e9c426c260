// End-to-end driver of the console's dispatch queue (console.js) in jsdom against a real server.
//
//   node tests/console/dispatch_driver.js BASE_URL SCENARIO_JSON
//
// A dispatcher logs in through the login form (page.js: the real server over HTTP), lists the tickets
// waiting for dispatch, opens the one a unit handed back, reads what the page offers (the router's
// candidates, who returned it and why, the unit and category the dispatch form starts with), picks a
// candidate by clicking it, corrects the category and dispatches; then lists the tickets the router
// flagged as sensitive or mass incidents. The results are printed as one JSON
// object on stdout for the pytest that started the server to check.
"use strict";

const { openConsole, runDriver } = require("./page");

const [base, scenarioJson] = process.argv.slice(2);
const S = JSON.parse(scenarioJson);
const errors = [];

async function dispatcherSteps() {
  const p = await openConsole(base, "dispatcher", errors);
  const out = {};
  await p.login(S.dispatcher.username, S.dispatcher.password);
  p.set(p.$("#filters"), { state: "new,accepted" });
  await p.click(p.$("#filters button[type=submit]"), "查询");
  const item = p.$(`#ticket-list li[data-number="${S.number}"]`);
  out.listed_badges = item ? p.$$(".badge", item).map((b) => b.textContent) : null;
  await p.click(item, S.number);
  out.header = p.text("#detail .card p");

  const form = () => p.$('#detail form[data-action="dispatch"]');
  out.candidates = p.$$("#candidates button").map((b) => ({ unit: b.dataset.unit, text: b.textContent,
    returned: b.classList.contains("returned"), disabled: b.disabled }));
  out.returns = p.$$("#returns .returned").map((d) => d.textContent);
  out.form_unit = form().elements.namedItem("lead_unit").value;
  out.returned_option = [...form().elements.namedItem("lead_unit").options]
    .filter((o) => o.textContent.includes("已退回")).map((o) => o.value);
  out.recalled_option = [...form().elements.namedItem("lead_unit").options]
    .filter((o) => o.textContent.includes("已撤回")).map((o) => o.value);
  out.category_start = form().elements.namedItem("category").value;
  out.category_options = form().elements.namedItem("category").options.length;

  const note = () => form().elements.namedItem("note");
  out.note_at_start = { required: note().required, placeholder: note().placeholder };
  await p.click(p.$(`#candidates button[data-unit="${S.returned}"]`), S.returned);  // the unit that returned it
  out.note_for_returned = { required: note().required, placeholder: note().placeholder };
  await p.click(p.$(`#candidates button[data-unit="${S.pick}"]`), S.pick);
  out.note_after_pick = note().required;
  out.form_unit_after_click = form().elements.namedItem("lead_unit").value;
  p.set(form(), { category: S.category });
  // a co-handling unit picked from the list (a multiple select, not codes typed in)
  const co = form().elements.namedItem("co_units");
  out.co_is_list = co.tagName === "SELECT" && co.multiple;
  for (const option of co.options) option.selected = option.value === S.co;
  await p.click(form().querySelector("button[type=submit]"), "派单");
  out.after = { state: p.text("#detail .badge"), lead: p.$$("#detail tr").find((tr) => tr.cells[0].textContent === "主办单位")?.cells[1].textContent };

  // the router's flags: the list filtered to sensitive or mass incidents, and what the ticket shows
  p.set(p.$("#filters"), { state: "", flag: "sensitive" });
  await p.click(p.$("#filters button[type=submit]"), "查询");
  out.flagged = p.$$("#ticket-list li").map((li) => ({ number: li.dataset.number,
    badges: p.$$(".badge.flag", li).map((b) => b.textContent) }));
  await p.click(p.$(`#ticket-list li[data-number="${S.sensitive}"]`), S.sensitive);
  out.flagged_alerts = p.$$("#detail .alert").map((d) => d.textContent);
  out.flagged_form = { lead: form().elements.namedItem("lead_unit").value,
    co: [...form().elements.namedItem("co_units").selectedOptions].map((o) => o.value).join(",") };

  // an emergency the router named a number for: the transfer form starts with it, and asks before handing over
  p.set(p.$("#filters"), { state: "", flag: "" });
  await p.click(p.$("#filters button[type=submit]"), "查询");
  await p.click(p.$(`#ticket-list li[data-number="${S.emergency}"]`), S.emergency);
  const transfer = p.$('#detail form[data-action="transfer_emergency"]');
  out.transfer_number = transfer.elements.namedItem("number").value;
  await p.click(transfer.querySelector("button[type=submit]"), "转紧急热线");
  out.transfer_confirms = p.confirms;
  out.transfer_state = p.text("#detail .badge");
  return p.finish(out);
}

// A leader opens the sensitive ticket: no action is theirs, and nothing stands in for the missing card.
async function leaderSteps() {
  const p = await openConsole(base, "leader", errors);
  await p.login(S.leader.username, S.leader.password);
  await p.click(p.$(`#ticket-list li[data-number="${S.sensitive}"]`), S.sensitive);
  const out = { text: p.text("#detail"), cards: p.$$("#detail > .card h3").map((h) => h.textContent), alerts: p.alerts };
  p.close();
  return out;
}

runDriver(async () => ({ dispatcher: await dispatcherSteps(), leader: await leaderSteps() }), errors);
