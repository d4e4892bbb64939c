/*
 * The operator dashboard: signs in with a user name and password (the server sets an
 * HttpOnly session cookie this script never sees), keeps the session's CSRF token in
 * memory and sends it in X-CSRF-Token on every change. Sections follow the roles:
 * inbox (operator), proposals (moderator), reports (editor), audit and exports (admin).
 * Every text from the server is inserted with textContent, never parsed as HTML.
 */
(() => {
  "use strict";

  const API = "/admin/api";
  const INBOX_REFRESH_MS = 10000;
  const TRANSCRIPT_REFRESH_MS = 3000;
  const OUTCOMES = ["answered", "referred", "no_reply", "spam", "other"];
  const DELIVERY = {
    stream: "Reply sent; the user's chat window shows it.",
    sent: "Reply delivered to the user's messenger.",
    failed: "Reply saved but NOT delivered to the user's messenger; contact them another way.",
    outside_window: "Reply saved but NOT delivered: WhatsApp allows replies only within 24 hours of the user's last message.",
    unsupported: "Reply saved; this channel cannot show operator replies yet.",
  };
  let csrfToken = "";
  let roles = [];
  let openTicket = null;
  let lastMessageId = 0;
  let timers = [];
  const TABLES = ["proposals", "tickets", "subscriptions", "questions", "feedback"];
  const COLORS = { answered: "#0b57a4", unanswered: "#b3261e", language: "#0f766e" };
  const $ = (id) => document.getElementById(id);

  const hasRole = (...wanted) => roles.includes("admin") || wanted.some((r) => roles.includes(r));

  function say(message) {
    $("status").textContent = message;
  }

  class Unauthorized extends Error {}

  async function api(path, options) {
    const method = ((options && options.method) || "GET").toUpperCase();
    const headers = { "Content-Type": "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrfToken;
    const response = await fetch(API + path, {
      ...(options || {}),
      headers,
      credentials: "same-origin",
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

  // ----- the inbox ----------------------------------------------------------------------

  const post = (path, body) => json(path, { method: "POST", body: JSON.stringify(body || {}) });
  const ticketPath = (reference) => "/tickets/" + encodeURIComponent(reference);

  async function loadTickets() {
    const data = await json("/tickets?status=open");
    table($("tickets"), "Waiting and held conversations, oldest first", [
      ["Reference", (t) => t.reference],
      ["Opened", (t) => day(t.created_at)],
      ["Reply by", (t) => day(t.reply_by)],
      ["City", (t) => t.city],
      ["Language", (t) => t.language],
      ["Topic", (t) => t.topic],
      ["Channel", (t) => t.channel],
      ["Held by", (t) => t.assignee || "waiting"],
      ["Summary", (t) => t.summary],
      ["", (t) => {
        const wrapper = element("div");
        if (!t.assignee) {
          wrapper.append(button("Claim", () => guarded(async () => {
            await post(ticketPath(t.reference) + "/claim");
            say(`You have conversation ${t.reference}.`);
            await loadTickets();
            await showTicket(t.reference);
          }), "", `Claim ${t.reference}`), " ");
        }
        wrapper.append(button("Open", () => guarded(() => showTicket(t.reference)), "secondary", `Open ${t.reference}`));
        return wrapper;
      }],
    ], data.tickets);
  }

  function appendMessages(messages) {
    const list = $("transcript");
    for (const message of messages) {
      const item = element("li", null, "message " + message.author);
      const who = message.author === "user" ? "User" : (message.operator || "Operator").replace(/^operator:/, "");
      item.append(element("span", `${who}, ${String(message.created_at).slice(0, 16).replace("T", " ")}`, "meta"), element("p", message.text));
      list.appendChild(item);
      lastMessageId = Math.max(lastMessageId, message.id);
    }
  }

  async function showTicket(reference) {
    const data = await json(ticketPath(reference));
    openTicket = data.ticket;
    lastMessageId = 0;
    $("ticket-panel").hidden = false;
    $("ticket-title").textContent = `Conversation ${reference}`;
    const facts = $("ticket-facts");
    facts.textContent = "";
    for (const [label, value] of [["City", data.ticket.city], ["Language", data.ticket.language], ["Channel", data.ticket.channel], ["Held by", data.ticket.assignee || "nobody yet"], ["Summary", data.ticket.summary]]) {
      const group = element("div");
      group.append(element("dt", label), element("dd", value || ""));
      facts.appendChild(group);
    }
    $("transcript").textContent = "";
    appendMessages(data.messages);
    $("ticket-title").focus();
  }

  async function refreshTranscript() {
    if (!openTicket) return;
    const data = await json(`${ticketPath(openTicket.reference)}/messages?after=${lastMessageId}`);
    appendMessages(data.messages);
  }

  function closePanel() {
    openTicket = null;
    $("ticket-panel").hidden = true;
  }

  function wireInbox() {
    const outcome = $("close-outcome");
    for (const value of OUTCOMES) {
      const option = element("option", value.replace("_", " "));
      option.value = value;
      outcome.appendChild(option);
    }
    $("reply-form").addEventListener("submit", (event) => {
      event.preventDefault();
      guarded(async () => {
        const text = $("reply-text").value.trim();
        if (!openTicket || !text) return;
        const sent = await post(ticketPath(openTicket.reference) + "/reply", { text });
        $("reply-text").value = "";
        say(DELIVERY[sent.delivery] || "");
        await refreshTranscript();
      });
    });
    $("transfer-form").addEventListener("submit", (event) => {
      event.preventDefault();
      guarded(async () => {
        const city = $("transfer-city").value.trim() || null;
        const operator = $("transfer-operator").value.trim() || null;
        await post(ticketPath(openTicket.reference) + "/transfer", { city, operator });
        say(`Conversation ${openTicket.reference} transferred.`);
        closePanel();
        await loadTickets();
      });
    });
    $("close-form").addEventListener("submit", (event) => {
      event.preventDefault();
      guarded(async () => {
        await post(ticketPath(openTicket.reference) + "/close", { outcome: outcome.value });
        say(`Conversation ${openTicket.reference} closed; the assistant answers this user again.`);
        closePanel();
        await loadTickets();
      });
    });
  }

  async function loadAudit() {
    const data = await json("/audit?limit=200");
    table($("audit"), "Audit log, newest first", [
      ["When", (e) => String(e.at).slice(0, 19).replace("T", " ")],
      ["Who", (e) => e.actor],
      ["What", (e) => e.action],
      ["Target", (e) => e.target],
      ["Details", (e) => Object.keys(e.detail || {}).length ? JSON.stringify(e.detail) : ""],
    ], data.entries);
  }

  async function loadFreshness() {
    const data = await json("/freshness");
    $("freshness-summary").textContent =
      `On ${data.checked_on}: records not checked at their source for more than ${data.stale_after_days} days, and programmes whose latest call has closed.`;
    table($("freshness"), "Stale records and programmes without a current call", [
      ["File", (w) => (w.line ? `${w.file}:${w.line}` : w.file)],
      ["Field", (w) => w.field || ""],
      ["What to check", (w) => w.message],
    ], data.warnings);
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

  const SECTIONS = [
    ["inbox-section", ["operator"], loadTickets],
    ["proposals-section", ["moderator"], loadProposals],
    ["activity-section", ["editor", "reports"], loadStats],
    ["gaps-section", ["editor", "reports"], loadGaps],
    ["freshness-section", ["editor", "reports"], loadFreshness],
    ["audit-section", [], loadAudit],
    ["exports-section", ["reports"], async () => {}],
  ];

  function showDashboard(visible) {
    $("dashboard").hidden = !visible;
    $("sign-in").hidden = visible;
    $("sign-out").hidden = !visible;
    for (const [id, needed] of SECTIONS) $(id).hidden = !visible || !(needed.length ? hasRole(...needed) : hasRole("admin"));
  }

  function stopTimers() {
    for (const timer of timers) window.clearInterval(timer);
    timers = [];
  }

  function signedOut(message) {
    csrfToken = "";
    roles = [];
    stopTimers();
    closePanel();
    showDashboard(false);
    say(message || "");
    $("username").focus();
  }

  async function guarded(action) {
    try {
      await action();
    } catch (error) {
      if (error instanceof Unauthorized) signedOut(error.message);
      else say(error.message || "The request failed.");
    }
  }

  async function loadAll() {
    const visible = SECTIONS.filter(([id]) => !$(id).hidden).map(([, , load]) => load());
    await Promise.all(visible);
  }

  async function enter(session) {
    csrfToken = session.csrf_token || "";
    roles = session.roles || [];
    $("who").textContent = session.actor.replace(/^operator:/, "");
    showDashboard(true);
    await loadAll();
    stopTimers();
    if (hasRole("operator")) {
      timers.push(window.setInterval(() => guarded(loadTickets), INBOX_REFRESH_MS));
      timers.push(window.setInterval(() => guarded(refreshTranscript), TRANSCRIPT_REFRESH_MS));
    }
  }

  function start() {
    fillExports();
    wireInbox();
    $("login-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const username = $("username").value.trim();
      const password = $("password").value;
      $("password").value = "";
      say("");
      await guarded(async () => {
        const response = await fetch(API + "/auth/login", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          credentials: "same-origin",
          body: JSON.stringify({ username, password }),
        });
        if (!response.ok) throw new Error((await errorText(response)) || "Sign-in failed.");
        await enter(await response.json());
        $("dashboard-title").focus();
      });
    });
    $("dashboard-title").tabIndex = -1;
    $("ticket-title").tabIndex = -1;
    $("sign-out").addEventListener("click", () => guarded(async () => {
      await api("/auth/logout", { method: "POST" });
      signedOut("Signed out.");
    }));
    $("close-panel").addEventListener("click", closePanel);
    $("days").addEventListener("change", () => guarded(loadStats));
    $("proposal-status").addEventListener("change", () => guarded(loadProposals));
    $("gaps-filter").addEventListener("submit", (event) => {
      event.preventDefault();
      guarded(loadGaps);
    });
    // A reloaded page keeps its session cookie: ask who we are (no error if nobody).
    fetch(API + "/auth/me", { credentials: "same-origin" }).then(async (response) => {
      if (response.ok) await guarded(async () => enter(await response.json()));
    }, () => {});
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
  else start();
})();
