// The demo's page: Telegram's chat for each person of the demo network (issue #18).
//
// Contract with the server: see bot/sandbox/web.py. Security rule of this file: every node is
// built with createElement/textContent from the JSON; nothing the server sends ever reaches
// innerHTML or the like, and links are made only for http(s) and tg addresses.
"use strict";

(() => {
  const MAX_TEXT = 4096;
  const TOAST_MS = 1600; // a toast stays this long, a little more for a long one (toastMs)
  const TAP_PENDING_MS = 5000;
  const NARROW = window.matchMedia("(max-width: 600px)");

  const state = {
    people: [],
    byId: new Map(),
    chats: new Map(), // person id -> chat view, in the order shown (left to right)
    used: 0, // clock of use: each chat's lastUsed says which one to replace first
    unread: new Map(),
    socket: null,
    retries: 0,
    everConnected: false,
  };

  // ------------------------------------------------------------------------- helpers
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(className, text, onClick) {
    const node = el("button", className, text);
    node.type = "button";
    if (onClick) node.addEventListener("click", onClick);
    return node;
  }

  // Only absolute http(s) and tg addresses become links; anything else stays plain text.
  function safeUrl(raw) {
    if (typeof raw !== "string") return null;
    const value = raw.trim();
    if (!/^(https?|tg):\/\//i.test(value)) return null;
    try {
      const url = new URL(value);
      return ["http:", "https:", "tg:"].includes(url.protocol) ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  // Photos and documents come from this server only.
  function fileUrl(raw) {
    return typeof raw === "string" && raw.startsWith("/files/") ? raw : null;
  }

  function link(href, className) {
    const a = el("a", className);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  async function api(method, path, body) {
    const options = { method, headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch (_) {
      throw new Error("Le serveur de la démo ne répond pas.");
    }
    if (!response.ok) {
      let message = `Erreur ${response.status}.`;
      try {
        const data = await response.json();
        if (data && typeof data.error === "string") message = data.error;
      } catch (_) {
        /* not JSON: keep the status */
      }
      throw new Error(message);
    }
    if (response.status === 204) return null;
    return response.json();
  }

  function initials(name) {
    const words = String(name || "?").split(/\s+/).filter(Boolean);
    return words.slice(0, 2).map((w) => Array.from(w)[0].toUpperCase()).join("") || "?";
  }

  function avatar(person, className) {
    const node = el("span", `avatar ${className || ""} tint-${Math.abs(Number(person.id) || 0) % 7}`);
    node.textContent = initials(person.name);
    node.setAttribute("aria-hidden", "true");
    return node;
  }

  function describe(person) {
    return [person.role_label, person.site].filter(Boolean).join(" · ");
  }

  // Hours are shown in the Caf's zone (GET /api/people), as the bot's texts give them,
  // whatever the browser's zone; the browser's own zone only if the server names none.
  let timeFormat = null;
  let dateTimeFormat = null;

  function setTimeZone(zone) {
    const options = {};
    if (typeof zone === "string" && zone) {
      try {
        new Intl.DateTimeFormat("fr-FR", { timeZone: zone });
        options.timeZone = zone;
      } catch (_) {
        /* unknown to this browser: its own zone */
      }
    }
    timeFormat = new Intl.DateTimeFormat("fr-FR", { ...options, hour: "2-digit", minute: "2-digit" });
    dateTimeFormat = new Intl.DateTimeFormat("fr-FR", {
      ...options,
      dateStyle: "full",
      timeStyle: "short",
    });
  }
  setTimeZone(null);

  // ------------------------------------------------------------- text + entities → DOM
  function entityNode(entity, text, chat) {
    const whole = text.slice(entity.offset, entity.end);
    let node;
    switch (entity.type) {
      case "bold":
        return el("strong");
      case "italic":
        return el("em");
      case "underline":
        return el("u");
      case "strikethrough":
        return el("s");
      case "code":
        return el("code", "inline-code");
      case "pre":
        node = el("pre", "pre");
        if (typeof entity.language === "string" && entity.language) {
          node.dataset.language = entity.language;
        }
        return node;
      case "spoiler":
        node = el("span", "spoiler");
        node.title = "Toucher pour afficher";
        return node;
      case "blockquote":
        return el("blockquote", "quote");
      case "expandable_blockquote":
        node = el("blockquote", "quote expandable");
        node.title = "Toucher pour déplier";
        return node;
      case "text_link": {
        const href = safeUrl(entity.url);
        return href ? link(href, "text-link") : el("span", "text-link-unsafe");
      }
      case "url": {
        const href = safeUrl(/^[a-z][a-z0-9+.-]*:/i.test(whole) ? whole : `http://${whole}`);
        return href ? link(href, "text-link") : el("span");
      }
      case "bot_command":
        node = el("span", "bot-command");
        node.dataset.command = whole;
        node.setAttribute("role", "button");
        node.tabIndex = 0;
        return node;
      case "mention":
      case "hashtag":
      case "cashtag":
        return el("span", "mention");
      default:
        return el("span");
    }
  }

  // Telegram's apps also find commands and addresses in plain text by themselves: the
  // same here, where no entity of the bot's covers them.
  const AUTO = /(^|[\s(«"'])(\/[a-zA-Z0-9_]{1,32})(?=$|[\s.,;:!?)»"'])|\bhttps?:\/\/[^\s<>«»"]+/g;

  function autoEntities(text, entities) {
    const taken = entities.map((e) => [e.offset, e.offset + e.length]);
    const found = [];
    for (const match of text.matchAll(AUTO)) {
      let offset = match.index;
      let value = match[0];
      let type = "url";
      if (match[2]) {
        offset += match[1].length;
        value = match[2];
        type = "bot_command";
      } else {
        value = value.replace(/[.,;:!?)]+$/, "");
      }
      const end = offset + value.length;
      if (!taken.some(([from, to]) => offset < to && end > from)) {
        found.push({ type, offset, length: value.length });
      }
    }
    return found;
  }

  // Telegram's entities may nest or overlap: cut the text at every entity boundary, and for
  // each piece keep open the chain of entities covering it (outermost first).
  function renderRich(container, text, entities, chat) {
    const content = typeof text === "string" ? text : "";
    const given = Array.isArray(entities) ? entities : [];
    const list = given
      .concat(autoEntities(content, given.filter((e) => e && Number.isInteger(e.offset))))
      .filter(
        (e) =>
          e &&
          typeof e.type === "string" &&
          Number.isInteger(e.offset) &&
          Number.isInteger(e.length) &&
          e.offset >= 0 &&
          e.length > 0 &&
          e.offset < content.length
      )
      .map((e, order) => ({ ...e, end: Math.min(e.offset + e.length, content.length), order }));
    list.sort((a, b) => a.offset - b.offset || b.end - a.end || a.order - b.order);
    const cuts = new Set([0, content.length]);
    for (const e of list) {
      cuts.add(e.offset);
      cuts.add(e.end);
    }
    const points = Array.from(cuts).sort((a, b) => a - b);
    const open = []; // [{entity, node}], outermost first
    for (let k = 0; k < points.length - 1; k += 1) {
      const start = points[k];
      const stop = points[k + 1];
      const active = list.filter((e) => e.offset <= start && e.end >= stop);
      let same = 0;
      while (same < open.length && same < active.length && open[same].entity === active[same]) {
        same += 1;
      }
      open.length = same;
      for (let q = same; q < active.length; q += 1) {
        const node = entityNode(active[q], content, chat);
        (q ? open[q - 1].node : container).appendChild(node);
        open.push({ entity: active[q], node });
      }
      const parent = open.length ? open[open.length - 1].node : container;
      parent.appendChild(document.createTextNode(content.slice(start, stop)));
    }
  }

  // ---------------------------------------------------------------------- messages
  function documentIcon(name) {
    const ext = String(name || "").split(".").pop().toLowerCase();
    if (ext === "xlsx" || ext === "xls" || ext === "csv") return "📊";
    if (ext === "pdf") return "📕";
    if (ext === "ics") return "📅";
    if (ext === "png" || ext === "jpg" || ext === "jpeg") return "🖼️";
    return "📄";
  }

  function renderMessage(chat, message) {
    const fromUser = message.from === "user";
    const root = el("div", `message ${fromUser ? "from-user" : "from-bot"}`);
    root.dataset.messageId = String(message.message_id);
    const bubble = el("div", "bubble");
    root.appendChild(bubble);

    const photo = message.photo && fileUrl(message.photo.url);
    if (photo) {
      const frame = link(photo, "photo-link");
      const img = el("img", "photo");
      img.src = photo;
      img.alt = "Image envoyée par l’assistant";
      img.addEventListener("load", () => chat.keepAtBottom());
      frame.title = "Agrandir";
      frame.addEventListener("click", (event) => {
        // A plain click enlarges it in the page; a middle or modified click opens a tab.
        if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
        event.preventDefault();
        showPhoto(photo, img.alt);
      });
      frame.appendChild(img);
      bubble.appendChild(frame);
      bubble.classList.add("has-photo");
    }

    const doc = message.document;
    const docUrl = doc && fileUrl(doc.url);
    if (docUrl) {
      const name = typeof doc.name === "string" && doc.name ? doc.name : "fichier";
      const a = el("a", "document");
      a.href = docUrl;
      a.setAttribute("download", name);
      a.title = `Télécharger ${name}`;
      a.appendChild(el("span", "document-icon", documentIcon(name)));
      const label = el("span", "document-text");
      label.appendChild(el("span", "document-name", name));
      label.appendChild(el("span", "document-hint", "Télécharger"));
      a.appendChild(label);
      bubble.appendChild(a);
    }

    const hasText = typeof message.text === "string" && message.text.length > 0;
    const hasCaption = typeof message.caption === "string" && message.caption.length > 0;
    if (hasText || hasCaption) {
      const text = el("div", "text");
      if (hasText) renderRich(text, message.text, message.entities, chat);
      else renderRich(text, message.caption, message.caption_entities, chat);
      bubble.appendChild(text);
    }

    const meta = el("span", "meta");
    if (message.edited) meta.appendChild(el("span", "edited", "modifié"));
    if (Number.isFinite(message.date)) {
      const when = new Date(message.date * 1000);
      const time = el("time", "time", timeFormat.format(when));
      time.dateTime = when.toISOString();
      time.title = dateTimeFormat.format(when);
      meta.appendChild(time);
    }
    bubble.appendChild(meta);

    if (Array.isArray(message.inline_keyboard) && message.inline_keyboard.length) {
      // As wide as a message may be, so that its buttons have room for their words.
      root.classList.add("has-keyboard");
      root.appendChild(renderInlineKeyboard(chat, message));
    }
    return root;
  }

  function renderInlineKeyboard(chat, message) {
    const keyboard = el("div", "inline-keyboard");
    for (const row of message.inline_keyboard) {
      if (!Array.isArray(row)) continue;
      const line = el("div", "inline-row");
      for (const key of row) {
        if (!key || typeof key.text !== "string") continue;
        if (typeof key.callback_data === "string") {
          const b = button("inline-button", key.text, () =>
            chat.tap(message.message_id, key.callback_data, b)
          );
          line.appendChild(b);
        } else if (safeUrl(key.url)) {
          const a = link(safeUrl(key.url), "inline-link");
          a.textContent = key.text;
          a.appendChild(el("span", "inline-link-mark", " ↗"));
          line.appendChild(a);
        } else {
          const b = button("inline-button", key.text);
          b.disabled = true;
          b.title = "Ce bouton ne fait rien dans la démo.";
          line.appendChild(b);
        }
      }
      keyboard.appendChild(line);
    }
    return keyboard;
  }

  // ------------------------------------------------------------- a photo, full size
  // A chart's small print is readable only at its own size: a click shows it over the page;
  // Échap, a click or the × closes it.
  let photoOverlay = null;

  function closePhoto() {
    if (!photoOverlay) return;
    const { node, back } = photoOverlay;
    photoOverlay = null;
    node.remove();
    document.removeEventListener("keydown", onPhotoKey, true);
    if (back && document.contains(back)) back.focus();
  }

  function onPhotoKey(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closePhoto();
    }
  }

  function showPhoto(src, alt) {
    closePhoto();
    const node = el("div", "photo-overlay");
    node.setAttribute("role", "dialog");
    node.setAttribute("aria-modal", "true");
    node.setAttribute("aria-label", "Image en grand");
    const img = el("img", "photo-full");
    img.src = src;
    img.alt = alt || "";
    node.appendChild(img);
    const close = button("photo-close", "×");
    close.title = "Fermer (Échap)";
    close.setAttribute("aria-label", "Fermer l’image");
    node.appendChild(close);
    node.appendChild(el("p", "photo-hint", "Échap ou un clic pour fermer"));
    node.addEventListener("click", closePhoto);
    photoOverlay = { node, back: document.activeElement };
    document.body.appendChild(node);
    document.addEventListener("keydown", onPhotoKey, true);
    close.focus();
  }

  // -------------------------------------------------------------------------- a chat
  class ChatView {
    constructor(person) {
      this.id = person.id;
      this.person = person;
      this.nodes = new Map();
      this.loading = false;
      this.queue = [];
      this.generation = 0;
      this.stuck = true; // the person is reading the end of the chat: follow what comes
      this.toastTimer = null;
      this.lastUsed = 0;
      this.touch();
      this.build();
    }

    // The person used this chat: it is the last one a third chat would replace.
    touch() {
      state.used += 1;
      this.lastUsed = state.used;
    }

    build() {
      const person = this.person;
      this.root = el("section", "chat");
      this.root.dataset.chatId = String(person.id);
      this.root.setAttribute("aria-label", `Conversation de ${person.name}`);
      this.root.addEventListener("pointerdown", () => this.touch());
      this.root.addEventListener("focusin", () => this.touch());

      const header = el("header", "chat-header");
      header.appendChild(avatar(person, "avatar-small"));
      const who = el("div", "chat-who");
      who.appendChild(el("h2", "chat-name", person.name));
      who.appendChild(el("p", "chat-role", describe(person)));
      header.appendChild(who);
      const close = button("chat-close", "×", () => closeChat(this.id));
      close.setAttribute("aria-label", `Fermer la conversation de ${person.name}`);
      close.title = "Fermer";
      header.appendChild(close);
      this.root.appendChild(header);
      // Toasts show over the header: never over a message one is reading.
      this.toastLayer = el("div", "toast-layer");
      this.root.appendChild(this.toastLayer);

      const body = el("div", "chat-body");
      this.list = el("div", "messages");
      this.list.setAttribute("role", "log");
      this.list.addEventListener("scroll", () => {
        this.stuck = this.nearBottom();
        this.jump.hidden = this.stuck;
      });
      // The chat narrows when a second one opens beside it: its end stays in view.
      new ResizeObserver(() => this.keepAtBottom()).observe(this.list);
      this.list.addEventListener("click", (event) => this.onListClick(event));
      this.list.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && event.target.classList.contains("bot-command")) {
          this.onListClick(event);
        }
      });
      body.appendChild(this.list);
      this.empty = el("div", "chat-empty");
      this.empty.appendChild(el("p", "", "Aucun message pour l’instant."));
      this.empty.appendChild(button("start", "Démarrer", () => this.send("/start")));
      body.appendChild(this.empty);
      this.jump = button("jump", "↓", () => this.scrollToBottom());
      this.jump.title = "Aller aux derniers messages";
      this.jump.setAttribute("aria-label", "Aller aux derniers messages");
      this.jump.hidden = true;
      body.appendChild(this.jump);
      this.root.appendChild(body);

      const footer = el("footer", "chat-footer");
      this.keyboard = el("div", "reply-keyboard");
      this.keyboard.hidden = true;
      footer.appendChild(this.keyboard);

      this.commandMenu = el("div", "command-menu");
      this.commandMenu.hidden = true;
      this.commandMenu.setAttribute("role", "menu");
      footer.appendChild(this.commandMenu);

      const bar = el("div", "composer-bar");
      this.commandsButton = button("commands-button", "/", () => this.toggleCommands());
      this.commandsButton.title = "Commandes";
      this.commandsButton.setAttribute("aria-label", "Liste des commandes");
      this.commandsButton.hidden = true;
      bar.appendChild(this.commandsButton);

      this.composer = el("textarea", "composer");
      this.composer.rows = 1;
      this.composer.placeholder = "Écrire un message…";
      this.composer.setAttribute("aria-label", `Message de ${person.name}`);
      this.composer.addEventListener("keydown", (event) => this.onComposerKey(event));
      this.composer.addEventListener("input", () => this.onComposerInput());
      bar.appendChild(this.composer);

      this.keyboardToggle = button("keyboard-toggle", "⌨", () => this.toggleKeyboard());
      this.keyboardToggle.title = "Afficher ou masquer le clavier de l’assistant";
      this.keyboardToggle.setAttribute("aria-label", "Clavier de l’assistant");
      this.keyboardToggle.hidden = true;
      bar.appendChild(this.keyboardToggle);

      this.sendButton = button("send", "Envoyer", () => this.sendComposer());
      bar.appendChild(this.sendButton);
      footer.appendChild(bar);
      this.root.appendChild(footer);

      this.alertLayer = el("div", "alert-backdrop");
      this.alertLayer.hidden = true;
      this.root.appendChild(this.alertLayer);

      this.keyboardRows = null;
      this.keyboardHidden = false;
      this.commands = [];
    }

    // --- loading and live events
    async load() {
      this.generation += 1;
      const generation = this.generation;
      this.loading = true;
      this.queue = [];
      this.root.classList.add("loading");
      try {
        const data = await api("GET", `/api/chats/${encodeURIComponent(this.id)}`);
        if (generation !== this.generation) return;
        this.list.replaceChildren();
        this.nodes.clear();
        for (const message of Array.isArray(data.messages) ? data.messages : []) {
          this.upsert(message, false, false);
        }
        this.setKeyboard(data.keyboard);
        this.setCommands(data.commands);
        const queued = this.queue;
        this.queue = [];
        this.loading = false;
        for (const event of queued) this.apply(event);
        this.scrollToBottom();
      } catch (error) {
        if (generation !== this.generation) return;
        this.loading = false;
        this.toast(error.message, false);
      } finally {
        if (generation === this.generation) this.root.classList.remove("loading");
        this.updateEmpty();
      }
    }

    handle(event) {
      if (this.loading) this.queue.push(event);
      else this.apply(event);
    }

    apply(event) {
      switch (event.type) {
        case "message":
        case "edit":
          if (event.message) this.upsert(event.message, event.type === "message");
          break;
        case "delete":
          this.remove(event.message_id);
          break;
        case "keyboard":
          this.setKeyboard(event.keyboard);
          break;
        case "commands":
          this.setCommands(event.commands);
          break;
        case "toast":
          this.clearPending();
          if (typeof event.text === "string" && event.text) {
            this.toast(event.text, Boolean(event.show_alert));
          }
          break;
        default:
          break;
      }
      this.updateEmpty();
    }

    upsert(message, isNew, follow = true) {
      if (!message || !Number.isInteger(message.message_id)) return;
      const stick = follow && (this.stuck || (isNew && message.from === "user"));
      const node = renderMessage(this, message);
      const old = this.nodes.get(message.message_id);
      if (old) {
        old.replaceWith(node);
      } else {
        // Keep the order of message ids, whatever order events and snapshots arrive in.
        let before = null;
        for (const [id, other] of this.nodes) {
          if (id > message.message_id && (!before || id < Number(before.dataset.messageId))) {
            before = other;
          }
        }
        this.list.insertBefore(node, before);
      }
      this.nodes.set(message.message_id, node);
      if (stick) this.scrollToBottom();
    }

    remove(messageId) {
      const node = this.nodes.get(messageId);
      if (!node) return;
      this.nodes.delete(messageId);
      node.remove();
    }

    updateEmpty() {
      this.empty.hidden = this.nodes.size > 0 || this.loading;
    }

    nearBottom() {
      const list = this.list;
      return list.scrollHeight - list.scrollTop - list.clientHeight < 120;
    }

    scrollToBottom() {
      this.list.scrollTop = this.list.scrollHeight;
      this.stuck = true;
      this.jump.hidden = true;
    }

    // A photo that loads grows the chat: keep following the end if the person was there.
    keepAtBottom() {
      if (this.stuck) this.scrollToBottom();
    }

    // --- reply keyboard and commands
    setKeyboard(rows) {
      this.keyboardRows = Array.isArray(rows) && rows.length ? rows : null;
      this.keyboard.replaceChildren();
      if (this.keyboardRows) {
        for (const row of this.keyboardRows) {
          if (!Array.isArray(row)) continue;
          const line = el("div", "reply-row");
          for (const label of row) {
            const text = typeof label === "string" ? label : label && label.text;
            if (typeof text !== "string") continue;
            line.appendChild(button("reply-button", text, () => this.send(text)));
          }
          this.keyboard.appendChild(line);
        }
      }
      this.keyboardToggle.hidden = !this.keyboardRows;
      this.keyboard.hidden = !this.keyboardRows || this.keyboardHidden;
      this.keyboardToggle.setAttribute("aria-pressed", String(!this.keyboard.hidden));
    }

    toggleKeyboard() {
      this.keyboardHidden = !this.keyboardHidden;
      this.keyboard.hidden = !this.keyboardRows || this.keyboardHidden;
      this.keyboardToggle.setAttribute("aria-pressed", String(!this.keyboard.hidden));
    }

    setCommands(commands) {
      this.commands = (Array.isArray(commands) ? commands : []).filter(
        (c) => c && typeof c.command === "string"
      );
      this.commandsButton.hidden = this.commands.length === 0;
      if (!this.commandMenu.hidden) this.showCommands(this.commandFilter());
    }

    commandFilter() {
      const value = this.composer.value;
      return /^\/\S*$/.test(value) ? value.slice(1).toLowerCase() : "";
    }

    showCommands(filter) {
      this.commandMenu.replaceChildren();
      const shown = this.commands.filter((c) => c.command.toLowerCase().startsWith(filter || ""));
      for (const c of shown) {
        const item = button("command", null, () => {
          this.hideCommands();
          this.composer.value = "";
          this.send(`/${c.command}`);
        });
        item.setAttribute("role", "menuitem");
        item.appendChild(el("span", "command-name", `/${c.command}`));
        item.appendChild(el("span", "command-description", c.description || ""));
        this.commandMenu.appendChild(item);
      }
      this.commandMenu.hidden = shown.length === 0;
      this.commandsButton.setAttribute("aria-expanded", String(!this.commandMenu.hidden));
    }

    hideCommands() {
      this.commandMenu.hidden = true;
      this.commandsButton.setAttribute("aria-expanded", "false");
    }

    toggleCommands() {
      if (this.commandMenu.hidden) this.showCommands("");
      else this.hideCommands();
    }

    // --- what the person does
    onComposerKey(event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.sendComposer();
      } else if (event.key === "Escape") {
        this.hideCommands();
      }
    }

    onComposerInput() {
      const composer = this.composer;
      composer.style.height = "auto";
      composer.style.height = `${Math.min(composer.scrollHeight, 160)}px`;
      if (this.commands.length && /^\/\S*$/.test(composer.value)) {
        this.showCommands(this.commandFilter());
      } else {
        this.hideCommands();
      }
    }

    async sendComposer() {
      const text = this.composer.value;
      if (!text.trim()) return;
      if (text.length > MAX_TEXT) {
        this.toast("Message trop long : 4 096 caractères au plus.", false);
        return;
      }
      this.hideCommands();
      if (await this.send(text)) {
        this.composer.value = "";
        this.onComposerInput();
      }
      this.composer.focus();
    }

    async send(text) {
      try {
        await api("POST", `/api/chats/${encodeURIComponent(this.id)}/send`, { text });
        return true;
      } catch (error) {
        this.toast(error.message, false);
        return false;
      }
    }

    async tap(messageId, data, node) {
      node.classList.add("pending");
      window.setTimeout(() => node.classList.remove("pending"), TAP_PENDING_MS);
      try {
        await api("POST", `/api/chats/${encodeURIComponent(this.id)}/tap`, {
          message_id: messageId,
          callback_data: data,
        });
      } catch (error) {
        node.classList.remove("pending");
        this.toast(error.message, false);
      }
    }

    clearPending() {
      for (const node of this.list.querySelectorAll(".inline-button.pending")) {
        node.classList.remove("pending");
      }
    }

    onListClick(event) {
      const target = event.target instanceof Element ? event.target : null;
      if (!target) return;
      const spoiler = target.closest(".spoiler");
      if (spoiler && !spoiler.classList.contains("revealed")) {
        event.preventDefault();
        spoiler.classList.add("revealed");
        return;
      }
      const quote = target.closest(".quote.expandable");
      if (quote && !target.closest("a")) {
        quote.classList.toggle("expanded");
      }
      const command = target.closest(".bot-command");
      if (command && command.dataset.command) {
        this.send(command.dataset.command);
      }
    }

    // --- callback answers
    toast(text, alert) {
      if (alert) {
        this.showAlert(text);
        return;
      }
      window.clearTimeout(this.toastTimer);
      this.toastLayer.replaceChildren();
      const node = el("div", "toast", text);
      node.setAttribute("role", "status");
      this.toastLayer.appendChild(node);
      // Long enough to read, no longer: about 1.6 s, up to 4 s for a long sentence.
      const duration = Math.min(4000, TOAST_MS + 25 * Math.max(0, String(text).length - 30));
      this.toastTimer = window.setTimeout(() => {
        node.classList.add("fading");
        window.setTimeout(() => node.remove(), 350);
      }, duration);
    }

    showAlert(text) {
      const box = el("div", "alert");
      box.setAttribute("role", "alertdialog");
      box.setAttribute("aria-modal", "true");
      box.appendChild(el("p", "alert-text", text));
      const ok = button("alert-ok", "OK", () => {
        this.alertLayer.hidden = true;
        this.alertLayer.replaceChildren();
        this.composer.focus();
      });
      box.appendChild(ok);
      box.addEventListener("keydown", (event) => {
        if (event.key === "Escape") ok.click();
      });
      this.alertLayer.replaceChildren(box);
      this.alertLayer.hidden = false;
      ok.focus();
    }
  }

  // ------------------------------------------------------------------- people, chats
  const chatsArea = document.getElementById("chats");
  const chatsEmpty = document.getElementById("chats-empty");
  const peopleList = document.getElementById("people");

  async function loadPeople() {
    const data = await api("GET", "/api/people");
    document.getElementById("caf-name").textContent = typeof data.caf === "string" ? data.caf : "";
    setTimeZone(data.timezone);
    state.people = (Array.isArray(data.people) ? data.people : []).filter((p) =>
      Number.isInteger(p && p.id)
    );
    state.byId = new Map(state.people.map((p) => [p.id, p]));
    renderPeople();
  }

  function renderPeople() {
    peopleList.replaceChildren();
    for (const person of state.people) {
      const item = el("li");
      const entry = button(`person role-${String(person.role || "").replace(/[^a-z]/g, "")}`, null, () =>
        openChat(person.id)
      );
      entry.dataset.personId = String(person.id);
      entry.dataset.role = String(person.role || "");
      if (typeof person.site === "string") entry.dataset.site = person.site;
      entry.appendChild(avatar(person));
      const text = el("span", "person-text");
      text.appendChild(el("span", "person-name", person.name));
      // Role and site in full, each on its line: who works where shows at a glance.
      if (person.role_label) text.appendChild(el("span", "person-role", person.role_label));
      if (typeof person.site === "string" && person.site) {
        text.appendChild(el("span", "person-site", person.site));
      }
      entry.appendChild(text);
      entry.appendChild(el("span", "badge"));
      item.appendChild(entry);
      peopleList.appendChild(item);
    }
    refreshPeople();
  }

  function refreshPeople() {
    for (const entry of peopleList.querySelectorAll(".person")) {
      const id = Number(entry.dataset.personId);
      const open = state.chats.has(id);
      entry.classList.toggle("open", open);
      entry.setAttribute("aria-pressed", String(open));
      const count = state.unread.get(id) || 0;
      const badge = entry.querySelector(".badge");
      badge.textContent = count ? String(count) : "";
      badge.hidden = !count;
      badge.title = count ? `${count} message${count > 1 ? "s" : ""} non lu${count > 1 ? "s" : ""}` : "";
    }
    chatsEmpty.hidden = state.chats.size > 0;
  }

  function maxChats() {
    return NARROW.matches ? 1 : 2;
  }

  function openChat(id) {
    const person = state.byId.get(id);
    if (!person) return;
    state.unread.delete(id);
    let chat = state.chats.get(id);
    if (chat) {
      // Already open: it stays where it is (the chats never swap sides).
      chat.touch();
    } else {
      chat = new ChatView(person);
      let replaced = null;
      while (state.chats.size > maxChats()) closeChat(leastRecentlyUsed().id);
      if (state.chats.size === maxChats()) {
        // The chat used least recently gives its place to the new one, on the same side.
        replaced = leastRecentlyUsed();
        replaced.generation += 1;
        replaced.root.replaceWith(chat.root);
        state.chats = new Map(
          Array.from(state.chats, ([key, view]) => (key === replaced.id ? [id, chat] : [key, view]))
        );
      } else {
        state.chats.set(id, chat);
        chatsArea.appendChild(chat.root);
      }
      chat.load();
      if (replaced && maxChats() > 1) {
        chat.toast(`Conversation de ${replaced.person.name} fermée (deux au plus).`, false);
      }
    }
    refreshPeople();
    if (!NARROW.matches) chat.composer.focus();
  }

  function leastRecentlyUsed() {
    let oldest = null;
    for (const chat of state.chats.values()) {
      if (!oldest || chat.lastUsed < oldest.lastUsed) oldest = chat;
    }
    return oldest;
  }

  function closeChat(id) {
    const chat = state.chats.get(id);
    if (!chat) return;
    chat.generation += 1;
    chat.root.remove();
    state.chats.delete(id);
    refreshPeople();
  }

  NARROW.addEventListener("change", () => {
    while (state.chats.size > maxChats()) closeChat(leastRecentlyUsed().id);
  });

  async function resync() {
    try {
      await loadPeople();
    } catch (error) {
      setConnection(error.message);
      return;
    }
    for (const [id, chat] of Array.from(state.chats)) {
      if (state.byId.has(id)) chat.load();
      else closeChat(id);
    }
  }

  // ----------------------------------------------------------------------- live events
  function onEvent(event) {
    if (!event || typeof event.type !== "string") return;
    if (event.type === "reset") {
      state.unread.clear();
      resync();
      return;
    }
    const chat = state.chats.get(event.chat_id);
    if (chat) {
      chat.handle(event);
    } else if (event.type === "message" && event.message && event.message.from === "bot") {
      state.unread.set(event.chat_id, (state.unread.get(event.chat_id) || 0) + 1);
      refreshPeople();
    }
  }

  const connection = document.getElementById("connection");

  function setConnection(text) {
    connection.textContent = text || "";
    connection.hidden = !text;
    document.body.classList.toggle("connected", !text);
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${window.location.host}/ws`);
    state.socket = socket;
    socket.addEventListener("open", () => {
      state.retries = 0;
      setConnection(null);
      // Whatever happened while the socket was down (or before it opened) is re-read.
      if (state.everConnected) resync();
      else for (const chat of state.chats.values()) chat.load();
      state.everConnected = true;
    });
    socket.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (_) {
        return;
      }
      onEvent(event);
    });
    socket.addEventListener("close", () => {
      if (state.socket !== socket) return;
      document.body.classList.remove("connected");
      const delay = Math.min(5000, 300 * 2 ** state.retries);
      state.retries += 1;
      if (state.everConnected) setConnection("Connexion perdue — reconnexion…");
      window.setTimeout(connect, delay);
    });
  }

  // ----------------------------------------------------------------------------- reset
  const resetButton = document.getElementById("reset");
  const confirmReset = document.getElementById("confirm-reset");

  function hideConfirm() {
    confirmReset.hidden = true;
    resetButton.focus();
  }

  resetButton.addEventListener("click", () => {
    confirmReset.hidden = false;
    document.getElementById("confirm-reset-cancel").focus();
  });
  document.getElementById("confirm-reset-cancel").addEventListener("click", hideConfirm);
  confirmReset.addEventListener("keydown", (event) => {
    if (event.key === "Escape") hideConfirm();
  });
  document.getElementById("confirm-reset-ok").addEventListener("click", async () => {
    confirmReset.hidden = true;
    resetButton.disabled = true;
    resetButton.textContent = "Réinitialisation…";
    try {
      await api("POST", "/api/reset");
      state.unread.clear();
      await resync();
    } catch (error) {
      window.alert(error.message);
    } finally {
      resetButton.disabled = false;
      resetButton.textContent = "Réinitialiser la démo";
    }
  });

  // ------------------------------------------------------------------------------ start
  loadPeople().catch((error) => setConnection(error.message));
  connect();
})();
