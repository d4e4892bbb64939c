/*
 * Civic participation and EU funding assistant: the embeddable chat widget.
 *
 * A city embeds it with one script tag (README: "Embedding the widget on a city's site"):
 *
 *   <script src="https://assistant.example.eu/static/widget/widget.js" defer></script>
 *
 * Optional settings, either as an object defined before the script tag
 *   window.CivicAssistantConfig = { apiBase, language, title, position, primaryColor,
 *                                   storage, open, city, country }
 * or as data- attributes on the script tag (data-api-base, data-language, data-title,
 * data-position, data-primary-color, data-storage, data-open, data-city, data-country).
 * The object wins. `city` (a name, at most 80 characters) and `country` (ISO 3166-1
 * alpha-2) say where the embedding site is: they go with every message, so "my city"
 * means this city.
 *
 * Isolation: everything lives in the shadow root of one <civic-assistant-widget>
 * element, so the host page's CSS cannot restyle the widget and the widget's CSS
 * cannot leak into the page.
 * Safety: text from the assistant or the user is only ever inserted with
 * textContent / createTextNode; this file never parses HTML. Links are created only
 * for http(s), mailto and tel URLs. The assistant's one markup, **bold** (a card's
 * title), becomes a <strong> built around a text node, and bare http(s) URLs in its
 * text become anchors built the same way (richText below).
 * Texts: every UI string comes from i18n/<lang>.json next to this file; the small
 * English table below is a last resort for when those files cannot be loaded.
 */
(() => {
  "use strict";

  if (window.CivicAssistant && window.CivicAssistant.version) {
    return; // the script tag is on the page twice: keep the first widget
  }

  const VERSION = "1.0.0";
  const WIDGET_PATH = /\/static\/widget\/widget\.js(?:[?#].*)?$/;
  const HOST_TAG = "civic-assistant-widget";
  const DEFAULT_PRIMARY = "#0b57a4";
  const MAX_STORED_MESSAGES = 50;
  const MAX_MESSAGE_CHARS = 4000;
  const REQUEST_TIMEOUT_MS = 35000;
  const TYPING_ANNOUNCE_DELAY_MS = 1200;
  const SAFE_PROTOCOLS = ["https:", "http:", "mailto:", "tel:"];
  const WEB_PROTOCOLS = ["https:", "http:"]; // the only URLs made clickable inside a text
  // The assistant's markup, parsed as channels/markup.py does: **bold** on one line with
  // no space just inside the stars; bare http(s) URLs, without the punctuation after them.
  const BOLD_RE = /\*\*(?=\S)([^\n]+?)(?<=\S)\*\*/g;
  const URL_RE = /https?:\/\/[^\s<>"'`\u00a0\u200b]+/gi;
  const URL_TRAILING = ".,;:!?'\"»”’…";
  const CITY_MAX_CHARS = 80;
  const CITY_RE = /^[\p{L}\p{M}\p{N} \-'’.(),/]+$/u;
  const SENDER_RE = /^web-[A-Za-z0-9-]{8,64}$/;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const ICONS = {
    chat: "M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.5 4v-4h0A1.5 1.5 0 0 1 4 14.5z",
    down: "M6 9l6 6 6-6",
    close: "M6 6l12 12M18 6L6 18",
    send: "M4 12l16-8-6 16-2.5-6.5z M11.5 13.5L20 4",
    trash: "M4 7h16M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3",
    alert: "M12 3l10 18H2zM12 10v4M12 17.5v.5",
    thumbUp: "M7 10v10H4V10zM7 10l4-7a2 2 0 0 1 3 2l-1 5h5.5a2 2 0 0 1 2 2.3l-1.2 6A2 2 0 0 1 17.3 20H7",
    thumbDown: "M7 14V4H4v10zM7 14l4 7a2 2 0 0 0 3-2l-1-5h5.5a2 2 0 0 0 2-2.3l-1.2-6A2 2 0 0 0 17.3 4H7",
  };
  const SENDER_HEADER = "X-Sender-Id";
  const MAX_ACK_IDS = 100; // the server's limit per acknowledgement
  const RATINGS = ["up", "down"];
  // A person's replies (after a handoff): read from a server-sent event stream with fetch,
  // reconnecting from the last message id seen, for a day after the last handoff sign.
  const TICKET_RE = /\bHT-\d{4}-\d{5}\b/;
  const HANDOVER_LISTEN_MS = 24 * 60 * 60 * 1000;
  const RECONNECT_MIN_MS = 1000;
  const RECONNECT_MAX_MS = 30000;
  // Last resort only (i18n files unreachable); the real texts are in i18n/en.json.
  const FALLBACK_TEXTS = {
    "launcher.label": "Ask the assistant",
    title: "City assistant",
    close: "Close the chat",
    "input.label": "Your message",
    send: "Send",
    "error.unreachable": "The assistant cannot be reached right now. Check your connection and try again.",
    retry: "Try again",
  };

  const script = document.currentScript || document.querySelector('script[src*="/static/widget/widget.js"]');
  const config = readConfig(script);
  const store = makeStore(config.storage, "civic-assistant:v1:" + config.apiBase);

  let languages = { en: "English" }; // UI languages: code -> name in that language
  const catalogues = {}; // code -> texts
  let texts = {};
  let busy = false;
  let failedTurn = null; // { message, payload, language } of the last undelivered message
  let typingTimer = 0;
  let epoch = 0; // bumped by "delete my data": late replies to a deleted conversation are dropped
  const ui = {};
  const rendered = new Map(); // message -> { element, key } of the conversation list
  const fullScreen = window.matchMedia("(max-width: 480px)");

  const saved = store.load() || {};
  const restored = typeof saved.sender === "string" && SENDER_RE.test(saved.sender);
  const state = {
    sender: restored ? saved.sender : newSender(),
    language: typeof saved.language === "string" ? saved.language : "", // explicit choice; "" = automatic
    replyLanguage: normaliseLanguage(saved.replyLanguage),
    messages: restoreMessages(saved.messages),
    open: typeof saved.open === "boolean" ? saved.open : config.open,
    // Handover: when the last sign of one came (ms since epoch), and the last reply id shown.
    handoverSince: Number.isFinite(saved.handoverSince) ? saved.handoverSince : 0,
    operatorAfter: Number.isInteger(saved.operatorAfter) && saved.operatorAfter > 0 ? saved.operatorAfter : 0,
  };
  let listening = false;

  // ----- configuration ---------------------------------------------------------------

  function readConfig(element) {
    const data = (element && element.dataset) || {};
    const given =
      window.CivicAssistantConfig && typeof window.CivicAssistantConfig === "object"
        ? window.CivicAssistantConfig
        : {};
    const pick = (key) => {
      const value = given[key];
      return value !== undefined && value !== null && value !== "" ? value : data[key];
    };
    const src = element && element.src ? element.src : "";
    let apiBase = pick("apiBase");
    if (!apiBase) {
      apiBase = WIDGET_PATH.test(src)
        ? src.replace(WIDGET_PATH, "")
        : src
          ? new URL(src).origin
          : window.location.origin;
    }
    const storage = String(pick("storage") || "local");
    const open = pick("open");
    return {
      apiBase: String(apiBase).replace(/\/+$/, ""),
      language: normaliseLanguage(pick("language")),
      title: pick("title"),
      position: pick("position") === "left" ? "left" : "right",
      primaryColor: parseHex(pick("primaryColor")) || parseHex(DEFAULT_PRIMARY),
      storage: ["local", "session", "none"].includes(storage) ? storage : "local",
      open: open === true || open === "true",
      city: cleanCity(pick("city")),
      country: cleanCountry(pick("country")),
    };
  }

  // A city name as the chat API accepts it (plain text, at most 80 characters), else null.
  function cleanCity(value) {
    if (typeof value !== "string") return null;
    const name = value.trim().split(/\s+/).join(" ");
    if (!name || name.length > CITY_MAX_CHARS || name.startsWith("/")) return null;
    return CITY_RE.test(name) && /\p{L}/u.test(name) ? name : null;
  }

  function cleanCountry(value) {
    if (typeof value !== "string") return null;
    const code = value.trim().toUpperCase();
    return /^[A-Z]{2}$/.test(code) ? code : null;
  }

  function normaliseLanguage(code) {
    if (typeof code !== "string") return null;
    const base = code.trim().toLowerCase().split(/[-_]/)[0];
    return /^[a-z]{2}$/.test(base) ? base : null;
  }

  // ----- storage (the user's device only; see README, privacy) ------------------------

  function makeStore(kind, key) {
    let backend = null;
    try {
      backend = kind === "local" ? window.localStorage : kind === "session" ? window.sessionStorage : null;
      if (backend) {
        backend.setItem(key + ":probe", "1");
        backend.removeItem(key + ":probe");
      }
    } catch (error) {
      backend = null; // storage disabled (privacy settings): keep the conversation in memory
    }
    return {
      load() {
        try {
          return backend ? JSON.parse(backend.getItem(key) || "null") : null;
        } catch (error) {
          return null;
        }
      },
      save(value) {
        try {
          if (backend) backend.setItem(key, JSON.stringify(value));
        } catch (error) {
          /* quota exceeded: the conversation still works, it is just not kept */
        }
      },
      clear() {
        try {
          if (backend) backend.removeItem(key);
        } catch (error) {
          /* nothing to clear */
        }
      },
    };
  }

  function persist() {
    store.save({
      sender: state.sender,
      language: state.language,
      replyLanguage: state.replyLanguage,
      open: state.open,
      messages: state.messages.slice(-MAX_STORED_MESSAGES),
      handoverSince: state.handoverSince,
      operatorAfter: state.operatorAfter,
    });
  }

  function newSender() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes); // randomUUID needs a secure context; this does not
    return "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function asText(value) {
    return typeof value === "string" ? value : "";
  }

  function restoreMessages(list) {
    if (!Array.isArray(list)) return [];
    return list.slice(-MAX_STORED_MESSAGES).map(cleanMessage).filter(Boolean);
  }

  function cleanMessage(item) {
    if (!item || typeof item !== "object") return null;
    const who = item.who === "user" ? "user" : "bot";
    const buttons = Array.isArray(item.buttons) ? item.buttons : [];
    const links = Array.isArray(item.links) ? item.links : [];
    const message = {
      who,
      text: asText(item.text),
      buttons: buttons
        .filter((b) => b && typeof b === "object" && asText(b.payload))
        .map((b) => ({ title: asText(b.title) || asText(b.payload), payload: asText(b.payload) })),
      links: links
        .filter((l) => l && typeof l === "object" && asText(l.url))
        .map((l) => ({ title: asText(l.title), url: asText(l.url) })),
      lang: normaliseLanguage(item.lang),
      failed: item.failed === true,
      // Feedback: the server's id of the turn this answer ends, and the user's vote on it.
      turnId: Number.isInteger(item.turnId) && item.turnId > 0 ? item.turnId : null,
      rating: RATINGS.includes(item.rating) ? item.rating : null,
      // A deadline reminder the server kept for this conversation (GET /api/v1/notices).
      noticeId: who === "bot" && Number.isInteger(item.noticeId) ? item.noticeId : null,
    };
    return message.text || message.links.length ? message : null;
  }

  // ----- texts -------------------------------------------------------------------------

  async function fetchJson(path) {
    const response = await fetch(config.apiBase + path, { credentials: "omit" });
    if (!response.ok) throw new Error("HTTP " + response.status + " for " + path);
    return response.json();
  }

  async function loadCatalogue(code) {
    if (!catalogues[code]) {
      try {
        catalogues[code] = await fetchJson("/static/widget/i18n/" + code + ".json");
      } catch (error) {
        catalogues[code] = null;
      }
    }
    return catalogues[code];
  }

  function uiLanguage() {
    const browser = (navigator.languages || [navigator.language || ""]).map(normaliseLanguage);
    const candidates = [state.language, state.replyLanguage, config.language, ...browser, "en"];
    return candidates.find((code) => code && languages[code]) || "en";
  }

  async function useLanguage(code) {
    const english = (await loadCatalogue("en")) || {};
    const chosen = (await loadCatalogue(code)) || {};
    texts = Object.assign({}, FALLBACK_TEXTS, english, chosen);
    texts.__lang = catalogues[code] ? code : "en";
  }

  function t(key) {
    const value = texts[key];
    return typeof value === "string" && value ? value : FALLBACK_TEXTS[key] || "";
  }

  function title() {
    const given = config.title;
    if (typeof given === "string" && given.trim()) return given.trim();
    if (given && typeof given === "object") {
      const localised = given[texts.__lang] || given.en;
      if (typeof localised === "string" && localised.trim()) return localised.trim();
    }
    return t("title");
  }

  // ----- colours: keep the city's colour, but never below WCAG AA contrast ----------

  function parseHex(value) {
    const match = typeof value === "string" && value.trim().match(/^#?([0-9a-f]{3}|[0-9a-f]{6})$/i);
    if (!match) return null;
    const hex = match[1].length === 3 ? match[1].replace(/./g, "$&$&") : match[1];
    return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  }

  function luminance(rgb) {
    const [r, g, b] = rgb.map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }

  function contrast(a, b) {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  }

  function darken(rgb, until) {
    let colour = rgb;
    for (let i = 0; i < 30 && !until(colour); i += 1) colour = colour.map((c) => Math.round(c * 0.9));
    return colour;
  }

  function toCss(rgb) {
    return "#" + rgb.map((c) => c.toString(16).padStart(2, "0")).join("");
  }

  function palette(primary) {
    const white = [255, 255, 255];
    const ink = [17, 24, 39];
    let fill = primary;
    let onFill = contrast(fill, white) >= contrast(fill, ink) ? white : ink;
    if (contrast(fill, onFill) < 4.5) {
      fill = darken(fill, (c) => contrast(c, white) >= 4.5);
      onFill = white;
    }
    const accent = darken(primary, (c) => contrast(c, white) >= 4.5 && contrast(c, [240, 243, 247]) >= 4.5);
    return {
      "--ca-primary": toCss(fill),
      "--ca-primary-hover": toCss(fill.map((c) => Math.round(c * (onFill === white ? 0.85 : 0.92)))),
      "--ca-on-primary": toCss(onFill),
      "--ca-accent": toCss(accent),
    };
  }

  // ----- DOM helpers (no HTML parsing anywhere) ----------------------------------------

  function h(tag, attrs, children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") element.className = value;
      else if (name === "text") element.textContent = value;
      else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else element.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children || []) {
      if (child) element.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return element;
  }

  function icon(name) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "ca-icon ca-icon-" + name);
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function safeUrl(url) {
    try {
      const parsed = new URL(url);
      return SAFE_PROTOCOLS.includes(parsed.protocol) ? parsed.href : null;
    } catch (error) {
      return null;
    }
  }

  // ----- the assistant's text: **bold** and bare URLs, built as DOM -----------------------

  function trimUrl(url) {
    let end = url.length;
    const unbalanced = (text) => text.split(")").length > text.split("(").length;
    while (end > 0) {
      const last = url[end - 1];
      if (URL_TRAILING.includes(last) || (last === ")" && unbalanced(url.slice(0, end)))) end -= 1;
      else break;
    }
    return url.slice(0, end);
  }

  // The nodes of a piece of text with its bare http(s) URLs as anchors (new tab).
  function linkified(text) {
    const nodes = [];
    let position = 0;
    for (const match of text.matchAll(URL_RE)) {
      const url = trimUrl(match[0]);
      let href = null;
      try {
        const parsed = new URL(url);
        if (WEB_PROTOCOLS.includes(parsed.protocol) && parsed.hostname.includes(".")) href = parsed.href;
      } catch (error) {
        href = null;
      }
      if (!href) continue;
      if (match.index > position) nodes.push(document.createTextNode(text.slice(position, match.index)));
      nodes.push(
        h("a", { class: "ca-inline-link", href, target: "_blank", rel: "noopener noreferrer nofollow" }, [url]),
      );
      position = match.index + url.length;
    }
    if (position < text.length) nodes.push(document.createTextNode(text.slice(position)));
    return nodes;
  }

  // The assistant's text as DOM: text nodes, <strong> for **bold**, anchors for URLs.
  function richText(text) {
    const fragment = document.createDocumentFragment();
    let position = 0;
    for (const match of text.matchAll(BOLD_RE)) {
      for (const node of linkified(text.slice(position, match.index))) fragment.appendChild(node);
      fragment.appendChild(h("strong", {}, linkified(match[1])));
      position = match.index + match[0].length;
    }
    for (const node of linkified(text.slice(position))) fragment.appendChild(node);
    return fragment;
  }

  // The text as a screen reader should hear it (no stars around a title).
  function spokenText(text) {
    return text.replace(BOLD_RE, "$1");
  }

  // ----- building the widget -------------------------------------------------------------

  function build() {
    const host = document.createElement(HOST_TAG);
    host.setAttribute("data-version", VERSION);
    const shadow = host.attachShadow({ mode: "open" });
    const stylesheet = h("link", {
      rel: "stylesheet",
      href: config.apiBase + "/static/widget/widget.css?v=" + VERSION,
    });
    const styled = new Promise((resolve) => {
      stylesheet.addEventListener("load", resolve);
      stylesheet.addEventListener("error", resolve);
    });
    shadow.appendChild(stylesheet);

    ui.launcherLabel = h("span", { class: "ca-launcher-label" });
    ui.launcher = h(
      "button",
      {
        type: "button",
        class: "ca-launcher",
        "aria-expanded": "false",
        "aria-controls": "ca-panel",
        onclick: () => setOpen(!state.open),
      },
      [icon("chat"), icon("down"), ui.launcherLabel],
    );

    ui.title = h("h2", { id: "ca-title", class: "ca-title" });
    ui.subtitle = h("p", { class: "ca-subtitle" });
    ui.close = h(
      "button",
      { type: "button", class: "ca-icon-button ca-close", onclick: () => setOpen(false) },
      [icon("close")],
    );
    ui.clear = h(
      "button",
      { type: "button", class: "ca-icon-button ca-clear", onclick: () => deleteMyData({ focus: true }) },
      [icon("trash")],
    );
    const header = h("div", { class: "ca-header" }, [
      h("div", { class: "ca-heading" }, [ui.title, ui.subtitle]),
      h("div", { class: "ca-header-actions" }, [ui.clear, ui.close]),
    ]);

    ui.languageLabel = h("label", { for: "ca-language", class: "ca-language-label" });
    ui.language = h("select", { id: "ca-language", class: "ca-language", onchange: onLanguagePicked });
    const toolbar = h("div", { class: "ca-toolbar" }, [ui.languageLabel, ui.language]);

    ui.welcome = h("p", { class: "ca-welcome-text" });
    ui.privacy = h("p", { class: "ca-privacy" });
    ui.suggestions = h("div", { class: "ca-quick-replies ca-suggestions", role: "group" });
    const welcome = h("div", { class: "ca-welcome" }, [
      h("div", { class: "ca-bubble" }, [ui.welcome]),
      ui.suggestions,
      ui.privacy,
    ]);
    ui.log = h("ol", { class: "ca-log" });
    ui.typing = h("div", { class: "ca-typing", hidden: true, "aria-hidden": "true" }, [
      h("span", { class: "ca-dot" }),
      h("span", { class: "ca-dot" }),
      h("span", { class: "ca-dot" }),
    ]);
    ui.scroller = h("div", { class: "ca-scroller", role: "region", tabindex: "0" }, [
      welcome,
      ui.log,
      ui.typing,
    ]);

    ui.alert = h("div", { class: "ca-alert", role: "alert" });
    ui.inputLabel = h("label", { for: "ca-input", class: "ca-visually-hidden" });
    ui.input = h("textarea", {
      id: "ca-input",
      class: "ca-input",
      rows: "1",
      maxlength: String(MAX_MESSAGE_CHARS),
      "aria-describedby": "ca-hint",
      onkeydown: onInputKey,
      oninput: autoGrow,
    });
    ui.send = h("button", { type: "submit", class: "ca-send" }, [icon("send")]);
    ui.form = h("form", { class: "ca-form", onsubmit: onSubmit }, [ui.inputLabel, ui.input, ui.send]);
    ui.hint = h("p", { id: "ca-hint", class: "ca-hint" });
    ui.announcer = h("div", { class: "ca-visually-hidden", "aria-live": "polite", "aria-atomic": "true" });

    ui.panel = h(
      "div",
      {
        id: "ca-panel",
        class: "ca-panel",
        role: "dialog",
        "aria-modal": "false",
        "aria-labelledby": "ca-title",
        hidden: true,
        onkeydown: onPanelKey,
      },
      [header, toolbar, ui.scroller, ui.alert, ui.form, ui.hint],
    );
    // Hidden until its stylesheet has loaded: no flash of unstyled buttons, and no colour
    // transition from the browser's default button style when the styles arrive.
    // The live region sits outside the panel, so that a reminder shown while the panel is
    // closed is still announced.
    ui.root = h("div", { class: "ca-root ca-" + config.position, hidden: true }, [
      ui.launcher,
      ui.panel,
      ui.announcer,
    ]);
    for (const [name, value] of Object.entries(palette(config.primaryColor)))
      ui.root.style.setProperty(name, value);
    shadow.appendChild(ui.root);
    ui.host = host;
    document.body.appendChild(host);
    return styled;
  }

  function fillLanguages() {
    ui.language.textContent = "";
    ui.language.appendChild(h("option", { value: "", text: t("language.auto") }));
    for (const [code, name] of Object.entries(languages)) {
      ui.language.appendChild(h("option", { value: code, lang: code, text: name }));
    }
    ui.language.value = languages[state.language] ? state.language : "";
  }

  function applyTexts() {
    ui.root.lang = texts.__lang || "en";
    ui.launcherLabel.textContent = t("launcher.label");
    ui.title.textContent = title();
    ui.subtitle.textContent = t("subtitle");
    ui.close.setAttribute("aria-label", t("close"));
    ui.close.title = t("close");
    ui.languageLabel.textContent = t("language.label");
    ui.clear.setAttribute("aria-label", t("clear"));
    ui.clear.title = t("clear");
    ui.welcome.textContent = t("welcome");
    ui.privacy.textContent = t("privacy");
    ui.scroller.setAttribute("aria-label", t("conversation"));
    ui.suggestions.setAttribute("aria-label", t("suggestions"));
    ui.inputLabel.textContent = t("input.label");
    ui.input.placeholder = t("input.placeholder");
    ui.send.setAttribute("aria-label", t("send"));
    ui.send.title = t("send");
    ui.hint.textContent = t("input.hint");
    fillLanguages();
    renderLog();
  }

  // ----- rendering the conversation ----------------------------------------------------

  // Messages are rendered incrementally: a message's element is only rebuilt when what it
  // shows changes, so the keyboard focus (e.g. on a link) survives new replies.
  function renderLog() {
    const current = new Set(state.messages);
    for (const [message, entry] of rendered) {
      if (!current.has(message)) {
        entry.element.remove();
        rendered.delete(message);
      }
    }
    let previous = null;
    state.messages.forEach((message, index) => {
      const withButtons = index === state.messages.length - 1 && !busy;
      const key = [texts.__lang, message.failed, withButtons, message.rating].join("|");
      let entry = rendered.get(message);
      if (!entry || entry.key !== key) {
        const element = renderMessage(message, withButtons);
        if (entry) entry.element.replaceWith(element);
        else if (previous) previous.after(element);
        else ui.log.prepend(element);
        entry = { element, key };
        rendered.set(message, entry);
      }
      previous = entry.element;
    });
    ui.suggestions.textContent = "";
    if (!state.messages.length) {
      const text = t("suggestion.help");
      if (text) ui.suggestions.appendChild(quickReply(text, text, texts.__lang));
    }
    ui.typing.hidden = !busy;
    ui.scroller.setAttribute("aria-busy", busy ? "true" : "false");
    scrollToEnd();
  }

  function renderMessage(message, withButtons) {
    const fromBot = message.who === "bot";
    const notice = fromBot && message.noticeId !== null;
    const item = h("li", { class: "ca-message ca-from-" + message.who + (notice ? " ca-notice" : "") });
    const speaker = notice ? t("notice.label") : fromBot ? t("message.assistant") : t("message.you");
    item.appendChild(h("span", { class: "ca-visually-hidden", text: speaker + " " }));
    const bubble = h("div", { class: "ca-bubble", lang: fromBot ? message.lang : null });
    if (message.text)
      bubble.appendChild(
        fromBot ? h("p", { class: "ca-text" }, [richText(message.text)]) : h("p", { class: "ca-text", text: message.text }),
      );
    if (message.links.length) {
      const list = h("ul", { class: "ca-links", "aria-label": t("links") });
      for (const link of message.links) {
        const href = safeUrl(link.url);
        const label = link.title || link.url;
        list.appendChild(
          h("li", {}, [
            href
              ? h("a", { href, target: "_blank", rel: "noopener noreferrer nofollow" }, [
                  label,
                  h("span", { class: "ca-visually-hidden", text: " " + t("link.newTab") }),
                ])
              : h("span", { text: label }),
          ]),
        );
      }
      bubble.appendChild(list);
    }
    item.appendChild(bubble);
    if (message.failed) item.appendChild(h("p", { class: "ca-not-sent", text: t("message.notSent") }));
    if (fromBot && message.turnId) item.appendChild(feedbackButtons(message));
    if (fromBot && withButtons && message.buttons.length) {
      const group = h("div", { class: "ca-quick-replies", role: "group", "aria-label": t("suggestions") });
      for (const button of message.buttons)
        group.appendChild(quickReply(button.title, button.payload, message.lang));
      item.appendChild(group);
    }
    return item;
  }

  // Thumbs up/down under an answer the server recorded (it sent a turn id with it).
  function feedbackButtons(message) {
    const group = h("div", { class: "ca-feedback", role: "group", "aria-label": t("feedback.label") });
    const labels = { up: t("feedback.up"), down: t("feedback.down") };
    for (const rating of RATINGS) {
      group.appendChild(
        h(
          "button",
          {
            type: "button",
            class: "ca-icon-button ca-feedback-" + rating,
            "aria-label": labels[rating],
            title: labels[rating],
            "aria-pressed": String(message.rating === rating),
            onclick: () => rate(message, rating),
          },
          [icon(rating === "up" ? "thumbUp" : "thumbDown")],
        ),
      );
    }
    return group;
  }

  async function rate(message, rating) {
    const body = { sender: state.sender, turn_id: message.turnId, rating };
    let ok = false;
    try {
      const response = await fetch(config.apiBase + "/api/v1/feedback", {
        method: "POST",
        headers: requestHeaders({ "Content-Type": "application/json" }),
        body: JSON.stringify(body),
        credentials: "omit",
      });
      ok = response.ok;
    } catch (error) {
      ok = false;
    }
    if (!ok) {
      announce(t("feedback.failed"));
      return;
    }
    message.rating = rating;
    persist();
    renderLog();
    const pressed = ui.log.querySelector(".ca-feedback-" + rating + "[aria-pressed='true']");
    if (pressed) pressed.focus();
    announce(t("feedback.thanks"));
  }

  function requestHeaders(extra) {
    const headers = Object.assign({}, extra);
    if (config.language) headers["Accept-Language"] = config.language;
    return headers;
  }

  // A quick reply is in the language of the message that offered it: payloads such as
  // "/find_funding" must not be taken for English by the assistant's language detection.
  function quickReply(label, payload, language) {
    return h("button", {
      type: "button",
      class: "ca-quick-reply",
      text: label,
      onclick: () => {
        send(payload, label, language);
        ui.input.focus();
      },
    });
  }

  function scrollToEnd() {
    ui.scroller.scrollTop = ui.scroller.scrollHeight;
  }

  function announce(text) {
    ui.announcer.textContent = "";
    window.setTimeout(() => {
      ui.announcer.textContent = text;
    }, 60);
  }

  function clearAlert() {
    ui.alert.textContent = "";
    ui.root.classList.remove("ca-has-error");
  }

  function showError(message, canRetry) {
    clearAlert();
    ui.root.classList.add("ca-has-error");
    ui.alert.appendChild(icon("alert"));
    ui.alert.appendChild(h("p", { class: "ca-alert-text", text: message }));
    if (canRetry) {
      ui.alert.appendChild(
        h("button", { type: "button", class: "ca-retry", text: t("retry"), onclick: retry }),
      );
    }
    scrollToEnd();
  }

  // ----- behaviour ---------------------------------------------------------------------

  function setOpen(open, options) {
    const moveFocus = !options || options.focus !== false;
    state.open = open;
    persist();
    ui.panel.hidden = !open;
    ui.panel.setAttribute("aria-modal", String(open && fullScreen.matches));
    ui.launcher.setAttribute("aria-expanded", String(open));
    ui.root.classList.toggle("ca-is-open", open);
    if (open) {
      scrollToEnd();
      if (moveFocus) ui.input.focus();
    } else if (moveFocus) {
      ui.launcher.focus();
    }
  }

  function onPanelKey(event) {
    if (event.key === "Escape" && !event.defaultPrevented) {
      event.preventDefault();
      setOpen(false);
    } else if (event.key === "Tab" && fullScreen.matches) {
      keepFocusInside(event); // on phones the panel covers the page: Tab cycles inside it
    }
  }

  function keepFocusInside(event) {
    const focusable = [
      ...ui.panel.querySelectorAll("button, select, textarea, a[href], [tabindex='0']"),
    ].filter((element) => !element.disabled && element.getClientRects().length > 0);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const active = ui.host.shadowRoot.activeElement;
    if (event.shiftKey && active === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  }

  function onInputKey(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.form.requestSubmit ? ui.form.requestSubmit() : onSubmit(event);
    }
  }

  function autoGrow() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight, 140) + "px";
  }

  function onSubmit(event) {
    event.preventDefault();
    if (busy) return;
    const text = ui.input.value.trim();
    if (!text) {
      ui.input.focus();
      return;
    }
    ui.input.value = "";
    autoGrow();
    send(text, text, null);
  }

  async function onLanguagePicked() {
    state.language = ui.language.value;
    persist();
    await useLanguage(uiLanguage());
    applyTexts();
    ui.language.focus();
  }

  function send(payload, shown, language) {
    if (busy) return;
    const message = { who: "user", text: shown, buttons: [], links: [], lang: null, failed: false };
    state.messages.push(message);
    state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
    clearAlert();
    persist();
    deliver(message, payload, language);
  }

  function retry() {
    if (!failedTurn || busy) return;
    const { message, payload, language } = failedTurn;
    ui.input.focus();
    deliver(message, payload, language);
  }

  function setBusy(value) {
    busy = value;
    window.clearTimeout(typingTimer);
    if (value) typingTimer = window.setTimeout(() => announce(t("typing")), TYPING_ANNOUNCE_DELAY_MS);
    renderLog();
  }

  async function deliver(message, payload, language) {
    const started = epoch;
    failedTurn = null;
    clearAlert();
    setBusy(true);
    const body = { sender: state.sender, message: payload };
    const explicit = state.language || language || ""; // language: of the reply it answers
    if (explicit) body.language = explicit;
    if (config.city) body.city = config.city;
    if (config.country) body.country = config.country;
    const headers = { "Content-Type": "application/json" };
    if (config.language) headers["Accept-Language"] = config.language;
    let outcome;
    const controller = new AbortController();
    const timer = window.setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(config.apiBase + "/api/v1/chat", {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        credentials: "omit",
        signal: controller.signal,
      });
      let data = null;
      try {
        data = await response.json();
      } catch (error) {
        data = null;
      }
      if (response.ok && data && Array.isArray(data.messages)) {
        outcome = { ok: true, data };
      } else {
        const error = data && data.error && typeof data.error.message === "string" ? data.error.message : "";
        outcome = { ok: false, retry: response.status >= 500 || response.status === 429, message: error };
      }
    } catch (error) {
      outcome = { ok: false, retry: true, message: "" }; // network error, CORS refusal, timeout
    } finally {
      window.clearTimeout(timer);
    }
    if (started !== epoch) return;
    message.failed = !outcome.ok;
    if (outcome.ok) {
      await receive(outcome.data);
    } else {
      failedTurn = { message, payload, language };
      setBusy(false);
      showError(outcome.message || t("error.unreachable"), outcome.retry);
    }
    persist();
  }

  async function receive(data) {
    const language = normaliseLanguage(data.language);
    const replies = data.messages
      .map((m) =>
        cleanMessage({
          who: "bot",
          text: m && m.text,
          buttons: m && m.buttons,
          links: m && m.links,
          lang: language,
        }),
      )
      .filter(Boolean);
    const turnId = Number.isInteger(data.turn_id) ? data.turn_id : null;
    if (turnId && replies.length) replies[replies.length - 1].turnId = turnId; // rate the whole answer once
    state.messages.push(...replies);
    state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
    if (language) state.replyLanguage = language;
    const before = texts.__lang;
    if (!state.language && languages[language] && language !== before) {
      await useLanguage(uiLanguage()); // automatic mode: the UI follows the conversation
      setBusy(false);
      applyTexts();
    } else {
      setBusy(false);
    }
    const spoken = replies.map((m) =>
      [spokenText(m.text), ...m.links.map((l) => l.title)].filter(Boolean).join(" "),
    );
    announce(t("message.assistant") + " " + spoken.join(" "));
    // An empty answer means a person holds the conversation; a ticket reference, that one
    // was just asked for. Either way, their replies may come: listen for them.
    if (!data.messages.length || replies.some((m) => TICKET_RE.test(m.text))) {
      state.handoverSince = Date.now();
      persist();
      listenForOperator();
    }
  }

  // ----- a person's replies (live) ---------------------------------------------------

  function operatorEvent(block, started) {
    let id = 0;
    let data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("id:")) id = parseInt(line.slice(3).trim(), 10) || 0;
      else if (line.startsWith("data:")) data += line.slice(5).trim();
    }
    if (!data || id <= state.operatorAfter || started !== epoch) return;
    let event = null;
    try {
      event = JSON.parse(data);
    } catch (error) {
      return;
    }
    const message = cleanMessage({ who: "bot", text: event && event.text, lang: state.replyLanguage });
    state.operatorAfter = id;
    if (message) {
      state.messages.push(message);
      state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
      renderLog();
      announce(t("message.assistant") + " " + message.text);
    }
    persist();
  }

  async function readOperatorStream(started) {
    const path = "/api/v1/chat/operator-events?after=" + encodeURIComponent(state.operatorAfter);
    const response = await fetch(config.apiBase + path, {
      headers: requestHeaders({ [SENDER_HEADER]: state.sender, Accept: "text/event-stream" }),
      credentials: "omit",
    });
    if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done || started !== epoch) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
      let cut = buffer.indexOf("\n\n");
      while (cut >= 0) {
        operatorEvent(buffer.slice(0, cut), started);
        buffer = buffer.slice(cut + 2);
        cut = buffer.indexOf("\n\n");
      }
    }
  }

  async function listenForOperator() {
    if (listening || !window.TextDecoder) return;
    listening = true;
    const started = epoch;
    let wait = RECONNECT_MIN_MS;
    while (started === epoch && Date.now() - state.handoverSince < HANDOVER_LISTEN_MS) {
      try {
        await readOperatorStream(started);
        wait = RECONNECT_MIN_MS; // the server ends each stream after a while: reconnect
      } catch (error) {
        wait = Math.min(RECONNECT_MAX_MS, wait * 2); // offline or server restarting
      }
      await new Promise((resolve) => window.setTimeout(resolve, wait));
    }
    listening = false;
  }

  // "Delete my data": first on the server (what it keeps about this conversation, the
  // Rasa history included), then in this browser; if the server cannot be reached,
  // nothing is forgotten locally, so that the user can try again with the same id.
  async function forgetOnServer() {
    try {
      const response = await fetch(config.apiBase + "/api/v1/me", {
        method: "DELETE",
        headers: requestHeaders({ [SENDER_HEADER]: state.sender }),
        credentials: "omit",
      });
      return response.ok;
    } catch (error) {
      return false;
    }
  }

  async function deleteMyData(options) {
    if (!(await forgetOnServer())) {
      showError(t("clear.failed"), false);
      return;
    }
    await clearData(options);
  }

  function clearData(options) {
    store.clear();
    epoch += 1;
    busy = false;
    window.clearTimeout(typingTimer);
    failedTurn = null;
    state.sender = newSender();
    state.language = "";
    state.replyLanguage = null;
    state.messages = [];
    state.handoverSince = 0;
    state.operatorAfter = 0;
    clearAlert();
    return useLanguage(uiLanguage()).then(() => {
      applyTexts();
      announce(t("cleared"));
      if (options && options.focus) ui.input.focus();
    });
  }

  // ----- reminders waiting for this conversation --------------------------------------
  // Web users have no push channel: deadline reminders they subscribed to in the chat wait
  // on the server as notices. They are shown once, as a message of the conversation (text
  // only, like every reply), announced politely, then acknowledged so that the server does
  // not hand them out again; ids already in the conversation are never added twice.

  async function fetchNotices() {
    const language = state.language || state.replyLanguage || texts.__lang;
    const query = language ? "?lang=" + encodeURIComponent(language) : "";
    try {
      const response = await fetch(config.apiBase + "/api/v1/notices" + query, {
        headers: requestHeaders({ [SENDER_HEADER]: state.sender }),
        credentials: "omit",
      });
      const data = response.ok ? await response.json() : null;
      return data && Array.isArray(data.notices) ? data.notices : [];
    } catch (error) {
      return []; // offline or server down: they stay pending and come next time
    }
  }

  function noticeMessage(notice) {
    const links = [];
    if (asText(notice.url)) links.push({ title: asText(notice.title) || notice.url, url: notice.url });
    if (asText(notice.unsubscribe_url))
      links.push({ title: t("notice.unsubscribe"), url: notice.unsubscribe_url });
    return cleanMessage({ who: "bot", text: notice.text, links, lang: notice.language, noticeId: notice.id });
  }

  async function acknowledgeNotices(ids) {
    try {
      await fetch(config.apiBase + "/api/v1/notices/ack", {
        method: "POST",
        headers: requestHeaders({ "Content-Type": "application/json" }),
        body: JSON.stringify({ sender: state.sender, ids: ids.slice(0, MAX_ACK_IDS) }),
        credentials: "omit",
      });
    } catch (error) {
      /* not acknowledged: shown again next time would duplicate, so ids are checked */
    }
  }

  async function showNotices() {
    const started = epoch;
    const notices = (await fetchNotices()).filter((n) => n && Number.isInteger(n.id) && asText(n.text));
    if (!notices.length || started !== epoch) return;
    const known = new Set(state.messages.map((m) => m.noticeId).filter((id) => id !== null));
    const fresh = notices.filter((n) => !known.has(n.id)).map(noticeMessage).filter(Boolean);
    if (fresh.length) {
      state.messages.push(...fresh);
      state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
      persist();
      renderLog();
      announce(t("notice.label") + " " + fresh.map((m) => m.text).join(" "));
    }
    await acknowledgeNotices(notices.map((n) => n.id));
  }

  // ----- start -------------------------------------------------------------------------

  async function start() {
    try {
      languages = (await fetchJson("/static/widget/languages.json")) || languages;
    } catch (error) {
      /* keep English only */
    }
    if (state.language && !languages[state.language]) state.language = "";
    const styled = build();
    await Promise.all([useLanguage(uiLanguage()), styled]);
    applyTexts();
    ui.root.hidden = false;
    if (state.open) setOpen(true, { focus: false });
    if (restored) await showNotices(); // a new conversation id cannot have reminders yet
    if (restored && Date.now() - state.handoverSince < HANDOVER_LISTEN_MS) listenForOperator();
  }

  window.CivicAssistant = {
    version: VERSION,
    open: () => ui.panel && setOpen(true),
    close: () => ui.panel && setOpen(false),
    /** Delete what the server keeps about this conversation, then the browser's copy. */
    clearData: () => (ui.panel ? deleteMyData({ focus: false }) : forgetOnServer().then((ok) => ok && store.clear())),
    setLanguage: (code) => {
      if (!ui.language) return;
      ui.language.value = languages[code] ? code : "";
      onLanguagePicked();
    },
  };

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
})();
