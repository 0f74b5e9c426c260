// The 知识库 view's list helpers, shared by the drivers of that view (kb_driver.js, revision_driver.js).
"use strict";

// ``page`` (page.js) with: openKb, listTitles(filters), titles(), open(title); ``open`` returns the
// driver's own ``page.article()``.
function withKbList(page) {
  return Object.assign(page, {
    openKb: () => page.click(page.$("nav button[data-view=kb]"), "知识库"),
    async listTitles(filters) {  // set the list filters (the rest back to their defaults), query, the titles listed
      page.$("#kb-filters").reset();
      page.set(page.$("#kb-filters"), filters);
      await page.click(page.$("#kb-filters button[type=submit]"), "查询");
      return page.titles();
    },
    titles: () => page.$$("#kb-list td > a").map((a) => a.textContent),
    async open(title) {
      await page.click(page.$$("#kb-list td > a").find((a) => a.textContent === title), title);
      return page.article();
    },
  });
}

module.exports = { withKbList };
