// A console page in jsdom against a real server, for the console drivers (kb_driver.js, dispatch_driver.js).
//
// Each page is loaded from BASE_URL/console (index.html, console.js and kb.js as the server serves them)
// with window.fetch going to the real server over HTTP (Node's fetch, the session cookie kept per page).
// Only the live-events WebSocket is replaced. Alerts are recorded and confirm() is answered yes.
// A driver can delay a request (page.delay) or answer it itself (page.stub), e.g. to race two responses or to
// make one step fail; an aborted request (AbortController) rejects with an AbortError, as in a browser.
// scrollIntoView (which jsdom lacks) records the element it was called on (page.scrolled).
"use strict";

const { JSDOM, VirtualConsole } = require("jsdom");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what, fn, timeout = 15000) {
  const started = Date.now();
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() - started > timeout) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// A browser page: its own cookie, alerts recorded, confirm() answered yes.
async function openConsole(base, who, errors) {
  let cookie = null, pending = 0;
  const alerts = [], confirms = [];
  const requests = [];
  const delays = [], stubs = [], scrolled = [];
  const take = (rules, method, url) => {
    const i = rules.findIndex((r) => r.method === method && r.path.test(url.pathname));
    return i < 0 ? null : rules.splice(i, 1)[0];
  };
  const virtualConsole = new VirtualConsole();
  virtualConsole.on("jsdomError", (e) => errors.push(`${who}: ${e.message}`));
  virtualConsole.on("error", (...args) => errors.push(`${who}: console.error ${args.join(" ")}`));
  const dom = await JSDOM.fromURL(`${base}/console`, {
    runScripts: "dangerously", resources: "usable", pretendToBeVisual: true, virtualConsole,
    beforeParse(window) {
      window.fetch = async (path, init = {}) => {
        pending += 1;
        try {
          const url = new URL(path, base);
          const { json, credentials, signal, ...rest } = init;  // eslint-disable-line no-unused-vars
          const method = rest.method || "GET";
          const aborted = () => {
            if (!signal?.aborted) return;
            requests.push(`${method} ${url.pathname}${url.search} aborted`);
            throw new window.DOMException("The operation was aborted.", "AbortError");
          };
          const delay = take(delays, method, url);
          if (delay) await sleep(delay.ms);
          aborted();
          const stub = take(stubs, method, url);
          if (stub) {
            requests.push(`${method} ${url.pathname}${url.search} ${stub.status} (stub)`);
            return new Response(JSON.stringify(stub.body), { status: stub.status, headers: { "Content-Type": "application/json" } });
          }
          const headers = { ...(init.headers || {}) };
          if (cookie) headers.Cookie = cookie;
          const resp = await fetch(url, { ...rest, headers });
          for (const set of resp.headers.getSetCookie?.() ?? [resp.headers.get("set-cookie")].filter(Boolean)) {
            const pair = set.split(";")[0];
            if (pair.startsWith("hotline_session=")) cookie = pair.length > "hotline_session=".length && !/max-age=0/i.test(set) ? pair : null;
          }
          requests.push(`${rest.method || "GET"} ${url.pathname}${url.search} ${resp.status}`);
          const body = await resp.arrayBuffer();  // read here, so "no request pending" means the page has its data
          aborted();
          return new Response(body.byteLength ? body : null, { status: resp.status, statusText: resp.statusText, headers: resp.headers });
        } finally {
          pending -= 1;
        }
      };
      window.WebSocket = class { close() {} };  // live call events: not part of the knowledge view
      window.alert = (message) => alerts.push(String(message));
      window.confirm = (message) => { confirms.push(String(message)); return true; };
      window.Element.prototype.scrollIntoView = function scrollIntoView() { scrolled.push(this.id || this.tagName); };
      // jsdom lacks a form's named-element properties (form.username), which console.js uses.
      for (const name of ["username", "password", "state", "q", "flag", "text", "since", "until", "channel", "intake_line", "request_type", "phone", "name"]) {
        Object.defineProperty(window.HTMLFormElement.prototype, name, {
          configurable: true, get() { return this.elements.namedItem(name); } });
      }
    },
  });
  const w = dom.window, doc = w.document;
  await until(`${who}: console started`, () => typeof w.showKb === "function" && !doc.querySelector("#login").hidden);
  // Settled: no request in flight over a few checks (a page's follow-up request starts in the same task).
  const idle = async () => {
    for (let quiet = 0; quiet < 3; quiet = pending ? 0 : quiet + 1) await sleep(pending ? 10 : 25);
  };
  const page = {
    w, doc, alerts, confirms, requests, idle, scrolled,
    // the next `method` request whose path matches `path` (a RegExp) waits `ms` first / gets `status` and `body`
    delay: (method, path, ms) => delays.push({ method, path, ms }),
    stub: (method, path, status, body) => stubs.push({ method, path, status, body }),
    $: (sel) => doc.querySelector(sel),
    $$: (sel, root = doc) => [...root.querySelectorAll(sel)],
    button: (text, root = doc) => [...root.querySelectorAll("button")].find((b) => b.textContent.trim() === text && !b.hidden),
    text: (sel) => (doc.querySelector(sel)?.textContent || "").trim(),
    async click(el, what) {
      if (!el) throw new Error(`${who}: nothing to click for ${what}`);
      el.click();
      await idle();
    },
    set(form, values) {
      for (const [name, value] of Object.entries(values)) {
        const el = form.elements.namedItem(name);
        if (!el) throw new Error(`${who}: no field ${name}`);
        if (el.type === "checkbox") el.checked = value; else el.value = value;
      }
    },
    async login(username, password) {
      page.set(page.$("#login-form"), { username, password });
      await page.click(page.$("#login-form button[type=submit]"), "login");
      if (page.$("#app").hidden) throw new Error(`${who}: login failed: ${page.text("#login-error")}`);
    },
  };
  page.close = () => w.close();
  page.finish = (out) => {  // the end of a role's steps: the alerts it saw go with its results
    out.alerts = alerts;
    page.close();
    return out;
  };
  return page;
}

// Run a driver's steps and print their result (and the pages' errors) as one JSON object on stdout.
function runDriver(steps, errors) {
  steps().then((result) => {
    process.stdout.write(JSON.stringify({ ...result, errors }));
    process.exit(0);
  }, (err) => {
    process.stdout.write(JSON.stringify({ fatal: String(err && err.stack || err), errors }));
    process.exit(1);
  });
}

module.exports = { openConsole, runDriver, sleep, until };
