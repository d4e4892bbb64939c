/*
 * The admin dashboard: asks for the admin token, keeps it in sessionStorage (this tab
 * only), and reads /admin/api/... with `Authorization: Bearer <token>`. Every text from
 * the server is inserted with textContent, never parsed as HTML.
 */
(() => {
  "use strict";

  const API = "/admin/api";
  const TOKEN_KEY = "civic-assistant:admin-token";
  const TABLES = ["proposals", "tickets", "subscriptions", "questions", "feedback"];
  const COLORS = { answered: "#0b57a4", unanswered: "#b3261e", language: "#0f766e" };
  const $ = (id) => document.getElementById(id);

  function token() {
    return window.sessionStorage.getItem(TOKEN_KEY) || "";
  }

  function say(message) {
    $("status").textContent = message;
  }

  class Unauthorized extends Error {}

  async function api(path, options) {
    const response = await fetch(API + path, {
      ...(options || {}),
      headers: { Authorization: "Bearer " + token(), "Content-Type": "application/json" },
      credentials: "omit",
    });
    if (response.status === 401) throw new Unauthorized((await errorText(response)) || "Not authorised");
    if (!response.ok) throw new Error((await errorText(response)) || "HTTP " + response.status);
    return response;
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      return body && body.error ? body.error.message : "";
    } catch (error) {
      return "";
    }
  }

  async function json(path, options) {
    return (await api(path, options)).json();
  }

  // ----- building blocks ----------------------------------------------------------------

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function button(label, onClick, className, description) {
    const node = element("button", label, className);
    node.type = "button";
    if (description) node.setAttribute("aria-label", description);
    node.addEventListener("click", onClick);
    return node;
  }

  /** A table with a caption; `columns` are [heading, (row) => text or Node, numeric?]. */
  function table(container, caption, columns, rows) {
    container.textContent = "";
    if (!rows.length) {
      container.appendChild(element("p", "Nothing to show.", "empty"));
      return;
    }
    const node = document.createElement("table");
    node.appendChild(element("caption", caption));
    const head = node.createTHead().insertRow();
    for (const [heading] of columns) {
      const th = element("th", heading);
      th.scope = "col";
      head.appendChild(th);
    }
    const body = node.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      for (const [, value, numeric] of columns) {
        const cell = tr.insertCell();
        const content = value(row);
        if (content instanceof Node) cell.appendChild(content);
        else cell.textContent = content === null || content === undefined ? "" : String(content);
        if (numeric) cell.className = "number";
        if (content instanceof Node) cell.classList.add("actions");
      }
    }
    container.appendChild(node);
  }

  const day = (iso) => (iso ? String(iso).slice(0, 10) : "");

  // ----- sections -----------------------------------------------------------------------

  async function loadStats() {
    const stats = await json("/stats?days=" + encodeURIComponent($("days").value));
    const byDay = new Map();
    const byLanguage = new Map();
    let questions = 0;
    let unanswered = 0;
    for (const item of stats.questions_per_day) {
      const entry = byDay.get(item.day) || { answered: 0, unanswered: 0 };
      entry.answered += item.questions - item.unanswered;
      entry.unanswered += item.unanswered;
      byDay.set(item.day, entry);
      byLanguage.set(item.language, (byLanguage.get(item.language) || 0) + item.questions);
      questions += item.questions;
      unanswered += item.unanswered;
    }
    const figures = [
      ["Questions", questions],
      ["Unanswered", unanswered],
      ["Subscriptions", stats.subscriptions],
      ["Open tickets", stats.open_tickets],
      ["Helpful votes", stats.feedback_up],
      ["Unhelpful votes", stats.feedback_down],
    ];
    const list = $("figures");
    list.textContent = "";
    for (const [label, value] of figures) {
      const group = element("div");
      group.append(element("dt", label), element("dd", value));
      list.appendChild(group);
    }
    const days = [...byDay.keys()].sort();
    window.CivicCharts.stackedBars($("chart-days"), {
      summary: `Questions per day over the last ${stats.days} days: ${questions} in total, ${unanswered} unanswered.`,
      categoryName: "Day",
      categories: days,
      series: [
        { name: "answered", color: COLORS.answered, values: days.map((d) => byDay.get(d).answered) },
        { name: "unanswered", color: COLORS.unanswered, values: days.map((d) => byDay.get(d).unanswered) },
      ],
    });
    const languages = [...byLanguage.keys()].sort((a, b) => byLanguage.get(b) - byLanguage.get(a));
    window.CivicCharts.horizontalBars($("chart-languages"), {
      summary: `Questions per language: ${languages.map((l) => l + " " + byLanguage.get(l)).join(", ") || "none"}.`,
      categoryName: "Language",
      categories: languages,
      series: [{ name: "questions", color: COLORS.language, values: languages.map((l) => byLanguage.get(l)) }],
    });
  }

  async function moderate(reference, status, reason) {
    await json(`/proposals/${encodeURIComponent(reference)}/moderation`, {
      method: "POST",
      body: JSON.stringify({ status, reason: reason || null }),
    });
    say(`Proposal ${reference}: ${status}.`);
    await loadProposals();
  }

  function moderationControls(proposal) {
    if (proposal.status !== "pending") return proposal.reason || "";
    const wrapper = element("div");
    const reasonId = "reason-" + proposal.reference;
    const label = element("label", "Reason", "visually-hidden");
    label.htmlFor = reasonId;
    const reason = document.createElement("input");
    reason.id = reasonId;
    reason.placeholder = "Reason (for rejecting)";
    wrapper.append(
      button("Publish", () => guarded(() => moderate(proposal.reference, "published")), "", `Publish ${proposal.reference}`),
      " ",
      label,
      reason,
      " ",
      button("Reject", () => guarded(() => moderate(proposal.reference, "rejected", reason.value.trim())), "secondary", `Reject ${proposal.reference}`),
    );
    return wrapper;
  }

  async function loadProposals() {
    const status = $("proposal-status").value;
    const data = await json("/proposals" + (status ? "?status=" + encodeURIComponent(status) : ""));
    table($("proposals"), "Proposals, newest first", [
      ["Reference", (p) => p.reference],
      ["Date", (p) => day(p.created_at)],
      ["Language", (p) => p.language],
      ["City", (p) => p.city],
      ["Topic", (p) => p.topic],
      ["Proposal", (p) => p.text],
      ["Status", (p) => p.status],
      ["Moderation", moderationControls],
    ], data.proposals);
  }

  async function loadTickets() {
    const data = await json("/tickets?status=open");
    table($("tickets"), "Open tickets, newest first", [
      ["Reference", (t) => t.reference],
      ["Opened", (t) => day(t.created_at)],
      ["Reply by", (t) => day(t.reply_by)],
      ["Language", (t) => t.language],
      ["Topic", (t) => t.topic],
      ["Summary", (t) => t.summary],
      ["", (t) => button("Close", () => guarded(async () => {
        await json(`/tickets/${encodeURIComponent(t.reference)}/close`, { method: "POST" });
        say(`Ticket ${t.reference} closed.`);
        await loadTickets();
      }), "secondary", `Close ticket ${t.reference}`)],
    ], data.tickets);
  }

  async function loadGaps() {
    const language = $("gaps-language").value.trim().toLowerCase();
    const data = await json("/content-gaps" + (language ? "?language=" + encodeURIComponent(language) : ""));
    table($("unanswered"), "Unanswered questions (personal data masked)", [
      ["Language", (u) => u.language],
      ["Question", (u) => u.text],
      ["Times asked", (u) => u.count, true],
      ["Last asked", (u) => day(u.last_asked)],
    ], data.unanswered);
    table($("low-rated"), "Records cited by poorly rated answers", [
      ["Language", (r) => r.language],
      ["Record", (r) => r.record_id],
      ["Helpful", (r) => r.up, true],
      ["Unhelpful", (r) => r.down, true],
      ["Score", (r) => r.score, true],
    ], data.low_rated);
  }

  async function download(name) {
    const blob = await (await api(`/export/${name}.csv`)).blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name + ".csv";
    document.body.appendChild(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(link.href);
  }

  function fillExports() {
    const list = $("exports");
    list.textContent = "";
    for (const name of TABLES) {
      const item = element("li");
      item.appendChild(button(`Download ${name}.csv`, () => guarded(() => download(name)), "secondary"));
      list.appendChild(item);
    }
  }

  // ----- signing in and out -------------------------------------------------------------

  function showDashboard(visible) {
    $("dashboard").hidden = !visible;
    $("sign-in").hidden = visible;
    $("sign-out").hidden = !visible;
  }

  function signOut(message) {
    window.sessionStorage.removeItem(TOKEN_KEY);
    showDashboard(false);
    say(message || "");
    $("token").focus();
  }

  async function guarded(action) {
    try {
      await action();
    } catch (error) {
      if (error instanceof Unauthorized) signOut(error.message);
      else say(error.message || "The request failed.");
    }
  }

  async function loadAll() {
    await Promise.all([loadStats(), loadProposals(), loadTickets(), loadGaps()]);
  }

  function start() {
    fillExports();
    $("token-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      window.sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
      $("token").value = "";
      say("");
      await guarded(async () => {
        await loadAll();
        showDashboard(true);
        $("period-title").focus();
      });
    });
    $("period-title").tabIndex = -1;
    $("sign-out").addEventListener("click", () => signOut("Signed out."));
    $("days").addEventListener("change", () => guarded(loadStats));
    $("proposal-status").addEventListener("change", () => guarded(loadProposals));
    $("gaps-filter").addEventListener("submit", (event) => {
      event.preventDefault();
      guarded(loadGaps);
    });
    if (token()) guarded(async () => {
      await loadAll();
      showDashboard(true);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
  else start();
})();
