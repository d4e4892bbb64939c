// Minimal chat page. Bot text is always inserted as text, never as HTML.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("text");
  const langSelect = document.getElementById("lang");
  const statusLine = document.getElementById("status");
  let texts = {};
  let sender = localStorage.getItem("chat-sender");
  if (!sender) {
    sender = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).replace(/[^A-Za-z0-9-]/g, "");
    localStorage.setItem("chat-sender", sender);
  }

  async function loadTexts(lang) {
    const code = lang || (navigator.language || "en").slice(0, 2);
    for (const candidate of [code, "en"]) {
      const res = await fetch("/static/i18n/" + candidate + ".json");
      if (res.ok) { texts = await res.json(); document.documentElement.lang = candidate; break; }
    }
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = texts[el.dataset.i18n] || el.textContent; });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = texts[el.dataset.i18nPlaceholder] || el.placeholder; });
  }

  function safeUrl(url) {
    try { const u = new URL(url); return (u.protocol === "https:" || u.protocol === "http:") ? u.href : null; } catch (e) { return null; }
  }

  function addMessage(who, message) {
    const item = document.createElement("li");
    item.className = who;
    const text = document.createElement("p");
    text.textContent = message.text || "";
    item.appendChild(text);
    (message.links || []).forEach((link) => {
      const href = safeUrl(link.url);
      if (!href) return;
      const a = document.createElement("a");
      a.href = href; a.rel = "noopener noreferrer"; a.target = "_blank";
      a.textContent = link.title || href;
      item.appendChild(a);
    });
    (message.buttons || []).forEach((button) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = button.title;
      b.addEventListener("click", () => send(button.payload, button.title));
      item.appendChild(b);
    });
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  async function send(payload, shown) {
    addMessage("user", { text: shown || payload });
    statusLine.textContent = "";
    const body = { sender: sender, message: payload };
    if (langSelect.value) body.language = langSelect.value;
    try {
      const res = await fetch("/api/v1/chat", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const data = await res.json();
      if (!res.ok) { statusLine.textContent = (data.error && data.error.message) || texts.unreachable || ""; return; }
      data.messages.forEach((m) => addMessage("bot", m));
    } catch (e) {
      statusLine.textContent = texts.unreachable || "The assistant cannot be reached right now.";
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) return;
    input.value = "";
    send(value);
  });
  langSelect.addEventListener("change", () => loadTexts(langSelect.value));
  loadTexts(langSelect.value);
})();
