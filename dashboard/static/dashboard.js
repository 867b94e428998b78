// perpfleet dashboard: live updates from /events and the control buttons.
// Hand-written, no dependency; the server renders every page complete without it.
"use strict";
(function () {
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const page = document.body.dataset.page;
  const message = document.getElementById("message");

  function say(text, bad) {
    message.textContent = text;
    message.className = "show" + (bad ? " bad" : "");
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    });
    let answer = {};
    try { answer = await response.json(); } catch (e) { answer = {}; }
    return { status: response.status, answer: answer };
  }

  async function control(bot, action, body) {
    const { status, answer } = await post(
      "/api/v1/bots/" + encodeURIComponent(bot) + "/" + action, body);
    if (status === 409 && answer.kind === "needs_confirmation") {
      if (window.confirm(answer.error + "\nDo it anyway?")) {
        const again = Object.assign({}, body, action === "reset-kill" ? { force: true } : { confirm: true });
        return control(bot, action, again);
      }
      return;
    }
    if (status >= 400) { say(answer.error || ("HTTP " + status), true); return; }
    say(answer.message || "done", false);
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-action], button[data-close]");
    if (!button) return;
    const bot = document.body.dataset.bot;
    if (button.dataset.close) {
      if (window.confirm("Close position " + button.dataset.close + " at market?")) {
        control(bot, "close", { position: button.dataset.close, mode: "market" });
      }
      return;
    }
    const action = button.dataset.action;
    if (action === "kill") {
      const typed = window.prompt("Kill " + bot + ": every position is closed and the bot stops.\nType the bot's name to confirm.");
      if (typed === null) return;
      control(bot, "kill", { confirm: typed });
    } else if (action === "reset-kill") {
      const reason = window.prompt("Why may the kill switch be cleared? (audited)");
      if (reason === null) return;
      control(bot, "reset-kill", { reason: reason });
    } else if (action === "stop") {
      if (window.confirm("Stop " + bot + "? Its resting orders are cancelled.")) control(bot, "stop", {});
    } else {
      control(bot, action, {});
    }
  });

  const launch = document.getElementById("launch");
  if (launch) {
    launch.addEventListener("submit", async function (event) {
      event.preventDefault();
      say("launching…", false);
      const { status, answer } = await post("/api/v1/launch", {
        config: launch.config.value, account: launch.account.value || null });
      if (status >= 400) say(answer.error || ("HTTP " + status), true);
      else { say(answer.message, false); setTimeout(function () { location.reload(); }, 800); }
    });
  }

  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }

  function money(value) {
    const n = Number(value);
    return isFinite(n) ? n.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : String(value);
  }

  let reloading = false;
  function reloadSoon() {
    if (reloading) return;
    reloading = true;
    setTimeout(function () { location.reload(); }, 500);
  }

  function onBotPage(message) {
    const data = message.data || {};
    if (message.type === "relay") {
      const live = document.getElementById("live");
      if (live) {
        live.textContent = data.connected ? "live" : ("not live: " + (data.detail || "connecting"));
        live.className = "live" + (data.connected ? " on" : "");
      }
    } else if (message.type === "fill") {
      const body = document.getElementById("live-fills");
      const row = document.createElement("tr");
      row.className = "new";
      row.dataset.fillId = data.fill_id || "";
      [String(data.fill_ts || message.ts || "").replace("T", " ").slice(0, 19), data.venue,
       data.symbol, data.side, data.size, data.price, data.fee].forEach(function (v) {
        row.appendChild(cell(v === undefined || v === null ? "" : String(v)));
      });
      body.insertBefore(row, body.firstChild);
      while (body.children.length > 200) body.removeChild(body.lastChild);
    } else if (message.type === "status" || message.type === "hello") {
      const status = message.type === "hello" ? data.status : data;
      if (status && status.state) document.getElementById("state").textContent = status.state;
      const equity = document.getElementById("equity");
      if (status && equity && status.equity !== undefined) equity.textContent = money(status.equity);
    } else if (message.type === "pnl") {
      const net = document.getElementById("net");
      if (net && data.net !== undefined) net.textContent = money(data.net);
    } else if (message.type === "reset") {
      reloadSoon();
    }
  }

  function onOverview(message) {
    const row = document.querySelector('tr[data-bot="' + CSS.escape(message.bot || "") + '"]');
    if (!row) return;
    const data = message.data || {};
    const set = function (field, text) {
      const el = row.querySelector('[data-field="' + field + '"]');
      if (el) el.textContent = text;
    };
    const status = message.type === "hello" ? data.status : message.type === "status" ? data : null;
    if (status) {
      if (status.state) set("state", status.state);
      if (status.equity !== undefined) set("equity", money(status.equity));
    } else if (message.type === "pnl" && data.net !== undefined) {
      set("net", money(data.net));
    }
  }

  function listen(url, handler) {
    if (!window.EventSource) return;
    const source = new EventSource(url);
    source.onmessage = function (event) {
      let parsed;
      try { parsed = JSON.parse(event.data); } catch (e) { return; }
      handler(parsed);
    };
  }

  if (page === "bot") {
    listen("/events/" + encodeURIComponent(document.body.dataset.bot), onBotPage);
  } else if (page === "overview") {
    listen("/events", onOverview);
  }

  // Sortable tables: click a header; cells holding data-sort sort numerically.
  document.querySelectorAll("table.sortable th").forEach(function (th, index) {
    th.addEventListener("click", function () {
      const body = th.closest("table").tBodies[0];
      const rows = Array.from(body.rows);
      const descending = th.dataset.dir !== "desc";
      th.dataset.dir = descending ? "desc" : "asc";
      const key = function (row) {
        const el = row.cells[index].querySelector("[data-sort]");
        if (el) return el.dataset.sort === "" ? -Infinity : Number(el.dataset.sort);
        return row.cells[index].textContent;
      };
      rows.sort(function (a, b) {
        const x = key(a), y = key(b);
        const order = x < y ? -1 : x > y ? 1 : 0;
        return descending ? -order : order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
