"use strict";
// The Desktop page: renders what /api/stream pushes and calls the JSON API.
(function () {
  const $ = (sel) => document.querySelector(sel);
  let view = null;

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function time(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleTimeString();
  }
  async function api(method, path, body) {
    const res = await fetch(path, {
      method, credentials: "same-origin",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    let data = null;
    try { data = await res.json(); } catch (e) { /* empty */ }
    if (!res.ok) throw new Error((data && data.message) || res.statusText);
    return data;
  }

  // ---- routing: #dashboard / #settings; a first run goes to settings ----
  function route() {
    let page = location.hash === "#settings" ? "settings" : "dashboard";
    if (view && view.settings.firstRun) page = "settings";
    $("#dashboard").classList.toggle("hidden", page !== "dashboard");
    $("#settings").classList.toggle("hidden", page !== "settings");
    $("#nav-dashboard").classList.toggle("active", page === "dashboard");
    $("#nav-settings").classList.toggle("active", page === "settings");
  }
  window.addEventListener("hashchange", route);

  // ---- status pills ----
  function pill(title, state, text, detail) {
    return `<div class="pill ${state}"><b>${esc(title)}</b>${esc(text)}${detail ? `<small title="${esc(detail)}">${esc(detail)}</small>` : ""}</div>`;
  }
  function renderStatus(s) {
    const p = [];
    p.push(pill("EBS", !s.configured ? "warn" : s.ebs.reachable && !s.ebs.problem ? "ok" : "err",
      !s.configured ? "not configured" : s.ebs.reachable ? "reachable" : "unreachable", s.ebs.problem || s.ebs.url));
    p.push(pill("WoW", s.wow.found ? "ok" : "err", s.wow.found ? "found" : "not found", s.wow.problem || s.wow.target || s.wow.injector));
    const cl = s.chatLog;
    p.push(pill("Chat log", !cl.found ? "err" : cl.growing ? "ok" : "warn",
      !cl.found ? "not found" : cl.growing ? "found, growing" : "found, quiet", cl.problem || cl.path));
    if (s.spin) {
      p.push(pill("Spin", "ok", `${s.spin.phase}: ${s.spin.characterName}`, s.spin.whoSent ? "/who sent" : "/who pending"));
    } else {
      p.push(pill("Spin", "", "no candidate now", ""));
    }
    p.push(pill("Injection queue", s.queue > 0 ? "warn" : "ok", `${s.queue} line(s) waiting`, s.wow.injector));
    if (s.pendingMarkers && s.pendingMarkers.length) {
      const m = s.pendingMarkers[0];
      p.push(pill("Markers in progress", "warn", `${s.pendingMarkers.length}`, m.lastError || m.key));
    }
    $("#status").innerHTML = p.join("");
    $("#version").textContent = s.version ? "v" + s.version : "";
  }

  // ---- the bridge to the addon ----
  const routeTitles = { "screen": "the strip in WoW's top-left corner", "log-print": "chat log (printed lines)", "log-whisper": "chat log (whispers to self)" };
  function seen(iso) {
    // Go's zero time: the route never brought a line.
    return !iso || iso.startsWith("0001-") ? "never" : time(iso);
  }
  function renderBridge(s) {
    const b = s.bridge || {};
    const state = b.state === "up" || b.state === "down" ? b.state : "checking";
    const pillEl = $("#bridge-state");
    pillEl.className = "state " + state;
    pillEl.textContent = state;
    $("#bridge-check").textContent = b.lastCheck && !b.lastCheck.startsWith("0001-") ? "last check " + time(b.lastCheck) : "";
    $("#bridge-summary").textContent = b.summary || "";
    $("#bridge-routes tbody").innerHTML = (b.routes || []).map((r) => `<tr>
      <td title="${esc(routeTitles[r.route] || "")}">${esc(r.route)}</td>
      <td><span class="badge ${r.answered ? "yes" : "no"}">${r.answered ? "yes" : "no"}</span></td>
      <td>${r.answered ? esc(r.rttSeconds.toFixed(1)) + " s" : "—"}</td><td>${esc(seen(r.lastLine))}</td></tr>`).join("");
    const problem = $("#bridge-problem");
    const advice = b.advice || [];
    if (state === "down" && (b.problem || advice.length)) {
      const text = b.problem || "The addon does not answer.";
      problem.innerHTML = `<b>${esc(text.charAt(0).toUpperCase() + text.slice(1))}</b>` +
        (advice.length ? "<ul>" + advice.map((a) => `<li>${esc(a)}</li>`).join("") + "</ul>" : "");
      problem.classList.remove("hidden");
    } else {
      problem.classList.add("hidden");
    }
    const guard = $("#bridge-guard");
    guard.textContent = b.guard ? "Typing guard: lines wait because " + b.guard + "." : "";
    guard.classList.toggle("hidden", !b.guard);
    const cmds = b.commands || [];
    $("#bridge-commands tbody").innerHTML = cmds.map((c) => `<tr><td class="id">${esc(c.key)}</td>
      <td><span class="badge ${c.state === "failed" ? "no" : "InProgress"}">${esc(c.state)}</span></td>
      <td>${esc(c.tries)}</td><td>${esc(c.result || "")}</td></tr>`).join("");
    $("#bridge-commands").classList.toggle("hidden", cmds.length === 0);
  }

  // ---- payouts ----
  function renderPayouts(s) {
    const rows = (s.payouts || []).map((p) => {
      const btn = (a, label, enabled) => `<button class="small" data-action="${a}" data-id="${esc(p.id)}" ${enabled ? "" : "disabled"}>${label}</button>`;
      const inProgress = p.status === "InProgress";
      return `<tr>
        <td><b>${esc(p.characterName)}</b></td><td>${esc(p.gold)} g</td>
        <td><span class="badge ${esc(p.status)}">${esc(p.status)}</span></td>
        <td><span class="badge ${p.accepted ? "yes" : "no"}" title="${esc(p.acceptedAt)}">${p.accepted ? "yes" : "no"}</span></td>
        <td><span class="badge ${p.notified ? "yes" : "no"}">${p.notified ? "yes" : "no"}</span></td>
        <td>${esc(p.twitchDisplayName)}</td><td>${esc(time(p.createdAt))}</td><td class="id">${esc(p.id)}</td>
        <td class="buttons">${btn("mark-sent", "Mark Sent", inProgress)} ${btn("mark-failed", "Mark Failed", true)} ${btn("cancel", "Cancel", true)} ${btn("unlock", "Unlock", inProgress)}</td>
      </tr>`;
    });
    $("#payouts tbody").innerHTML = rows.join("");
    $("#payouts").classList.toggle("hidden", rows.length === 0);
    $("#payouts-empty").classList.toggle("hidden", rows.length !== 0);
    $("#sync").disabled = !s.configured;
    renderSync(s.lastSync);
  }
  function renderSync(r) {
    const box = $("#sync-report");
    if (!r) { box.classList.add("hidden"); return; }
    box.className = "banner " + (r.ok ? "ok" : "");
    let html = `<b>Sync / Inject ${r.ok ? "done" : "failed"}</b> (${esc(time(r.at))}): ${esc(r.message)}`;
    if (!r.ok && r.unlockable && r.unlockable.length) {
      html += ` <button class="small" id="unlock-stuck" data-ids="${esc(r.unlockable.join(","))}">Unlock ${r.unlockable.length} payout(s) back to Pending</button>`;
    }
    box.innerHTML = html;
  }

  // ---- gifts, with the visible roulette ----
  let roulettes = [];
  function renderGifts(s) {
    roulettes = s.roulettes || [];
    const rows = (s.gifts || []).map((g) => `<tr><td>${esc(g.queuePosition)}</td><td>${esc(g.viewerDisplayName)}</td>
      <td><b>${esc(g.characterName)}</b></td><td><span class="badge ${esc(g.state)}">${esc(g.state)}</span></td>
      <td>${esc(g.selectedItem || g.failureReason || "")}</td><td class="id">${esc(g.id)}</td></tr>`);
    $("#gifts tbody").innerHTML = rows.join("");
    $("#gifts").classList.toggle("hidden", rows.length === 0);
    $("#gifts-empty").textContent = s.giftProblem ? s.giftProblem : "No gift requests.";
    $("#gifts-empty").classList.toggle("hidden", rows.length !== 0);
    spin();
  }
  function spin() {
    const now = Date.now();
    $("#roulettes").innerHTML = roulettes.map((r) => {
      const until = new Date(r.until).getTime();
      const items = r.items && r.items.length ? r.items : [r.chosen];
      const shown = now < until ? items[Math.floor(now / 120) % items.length] : r.chosen;
      return `<div class="roulette"><span>Gift roulette for ${esc(r.giftId.slice(0, 8))}…</span><span class="wheel">${esc(shown)}</span>
        <span class="muted">${now < until ? "spinning…" : "selected"}</span></div>`;
    }).join("");
  }
  setInterval(() => { if (roulettes.length) spin(); }, 120);

  // ---- events ----
  function renderEvents(events) {
    $("#events").innerHTML = (events || []).map((e) =>
      `<li class="${esc(e.level)}"><span class="t">${esc(time(e.time))}</span>${esc(e.message)}</li>`).join("");
  }

  // ---- settings ----
  let formFilled = false;
  function renderSettings(v, force) {
    $("#first-run").classList.toggle("hidden", !v.firstRun);
    $("#key-storage").textContent = v.apiKeySet ? "A key is saved (" + v.apiKeyStorage + ")." : "No API key saved yet.";
    $("#chat-log-path").textContent = v.chatLogPath ? "Reading: " + v.chatLogPath + (v.chatLogNote ? " — " + v.chatLogNote : "") : (v.chatLogNote || "");
    $("#injector").textContent = "Injector: " + v.injector;
    $("#settings-file").textContent = "Settings file: " + v.settingsFile + (v.problem ? " — " + v.problem : "");
    if (formFilled && !force) return; // do not overwrite what the streamer is typing
    const f = $("#settings-form");
    for (const k of ["ebsUrl", "pollIntervalSeconds", "injectionStrategy", "wowInstallDirectory", "wowChatLogPathOverride", "wowProcess", "wowSimulatorUrl"]) {
      f.elements[k].value = v[k] == null ? "" : v[k];
    }
    f.elements.apiKey.value = "";
    f.elements.clearApiKey.checked = false;
    formFilled = true;
  }
  function formValues() {
    const f = $("#settings-form");
    return {
      ebsUrl: f.elements.ebsUrl.value.trim(), apiKey: f.elements.apiKey.value.trim(),
      clearApiKey: f.elements.clearApiKey.checked,
      pollIntervalSeconds: parseInt(f.elements.pollIntervalSeconds.value, 10) || 0,
      injectionStrategy: f.elements.injectionStrategy.value,
      wowInstallDirectory: f.elements.wowInstallDirectory.value, wowChatLogPathOverride: f.elements.wowChatLogPathOverride.value,
      wowProcess: f.elements.wowProcess.value, wowSimulatorUrl: f.elements.wowSimulatorUrl.value,
    };
  }
  function result(ok, text) {
    const el = $("#settings-result");
    el.className = "banner " + (ok ? "ok" : "error");
    el.textContent = text;
  }
  $("#test").addEventListener("click", async () => {
    const v = formValues();
    result(true, "Testing…");
    try {
      const r = await api("POST", "/api/settings/test", { ebsUrl: v.ebsUrl, apiKey: v.apiKey });
      result(r.ok, r.message);
    } catch (e) { result(false, e.message); }
  });
  $("#settings-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const v = await api("PUT", "/api/settings", formValues());
      renderSettings(v, true);
      result(true, "Saved.");
      if (view) view.settings = v;
      if (!v.firstRun && location.hash !== "#dashboard") location.hash = "#dashboard";
      route();
    } catch (e) { result(false, e.message); }
  });
  async function loadWindows() {
    try {
      const ws = await api("GET", "/api/wow/windows");
      $("#windows").innerHTML = ws.length ? "Running windows: " + ws.map((w) =>
        `<button type="button" class="small" data-pick="pid:${w.pid}" title="${esc(w.title)}">${esc(w.exe)} (${w.pid})${w.default ? " ★" : ""}</button>`).join(" ") : "";
    } catch (e) { /* not on Windows */ }
  }
  $("#windows").addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-pick]");
    if (b) $("#settings-form").elements.wowProcess.value = b.dataset.pick;
  });

  // ---- the doctor ----
  $("#doctor-run").addEventListener("click", async () => {
    const b = $("#doctor-run"), out = $("#doctor-out");
    b.disabled = true; b.textContent = "Checking…";
    out.className = "";
    out.textContent = "Typing a handshake into WoW and waiting for the answers…";
    $("#doctor-copy").classList.add("hidden");
    try {
      const r = await api("POST", "/api/doctor");
      out.className = r.ok ? "ok" : "fail";
      out.textContent = r.text;
      $("#doctor-copy").classList.remove("hidden");
    } catch (e) {
      out.className = "fail";
      out.textContent = "The doctor could not run: " + e.message;
    }
    b.disabled = false; b.textContent = "Run doctor";
  });
  $("#doctor-copy").addEventListener("click", async () => {
    const b = $("#doctor-copy"), text = $("#doctor-out").textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      // Older browsers: select the report and copy the selection.
      const range = document.createRange();
      range.selectNodeContents($("#doctor-out"));
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      document.execCommand("copy");
    }
    b.textContent = "Copied";
    setTimeout(() => { b.textContent = "Copy"; }, 1500);
  });

  // ---- buttons ----
  $("#sync").addEventListener("click", async () => {
    const b = $("#sync");
    b.disabled = true; b.textContent = "Syncing…";
    try { renderSync(await api("POST", "/api/sync")); } catch (e) { alert(e.message); }
    b.disabled = false; b.textContent = "Sync / Inject";
  });
  $("#refresh").addEventListener("click", () => api("POST", "/api/refresh").catch((e) => alert(e.message)));
  $("#clear-log").addEventListener("click", () => api("POST", "/api/events/clear"));
  document.addEventListener("click", async (ev) => {
    const b = ev.target.closest("[data-action]");
    if (b) {
      const a = b.dataset.action;
      if ((a === "mark-failed" || a === "cancel") && !confirm(`${b.textContent} payout ${b.dataset.id}?`)) return;
      try { await api("POST", `/api/payouts/${b.dataset.id}/${a}`); } catch (e) { alert(e.message); }
    }
    const u = ev.target.closest("#unlock-stuck");
    if (u) {
      try { await api("POST", "/api/unlock", { ids: u.dataset.ids.split(",") }); u.remove(); } catch (e) { alert(e.message); }
    }
  });

  // ---- Controls: pause/resume, remove, bans, history (through the EBS) ----
  const pauseText = { streamer: "paused by the streamer", budget: "paused: today's gold is given out", offline: "paused: the stream is offline" };
  function renderControls(c) {
    const phase = $("#ctl-phase");
    phase.textContent = c.spinPhase === "paused" ? (pauseText[c.pausedReason] || "paused") : c.spinPhase;
    phase.className = "state " + (c.spinPhase === "paused" ? "checking" : "up");
    const parts = [];
    parts.push(c.paused ? `Paused${c.pausedBy ? " by " + c.pausedBy : ""} since ${time(c.pausedAt)}.` : "Running.");
    parts.push(`${c.poolParticipantCount} in the pool; entry: ${c.entryRule}.`);
    if (c.dailyGoldBudget > 0) parts.push(`Gold today: ${c.goldCommittedToday} of ${c.dailyGoldBudget}.`);
    if (c.winnerCooldownCycles > 0 || c.winnerCooldownHours > 0) parts.push(`Winner cooldown: ${c.winnerCooldownCycles} cycles, ${c.winnerCooldownHours} h.`);
    if (c.drawOnlyWhileLive) parts.push(`Draws only while live (stream: ${c.streamLive == null ? "unknown" : c.streamLive ? "live" : "offline"}).`);
    $("#ctl-summary").textContent = parts.join(" ");
    $("#ctl-pause").disabled = c.paused;
    $("#ctl-resume").disabled = !c.paused;
  }
  function renderBans(bans) {
    $("#ctl-bans tbody").innerHTML = bans.map((b) => `<tr><td>${esc(b.twitchUserId)}</td><td>${esc(b.twitchDisplayName)}</td>` +
      `<td>${esc(b.characterName)}</td><td>${esc(b.reason)}</td><td>${esc(b.bannedBy)}</td><td>${esc(time(b.bannedAt))}</td>` +
      `<td><button data-unban="${esc(b.twitchUserId)}">Unban</button></td></tr>`).join("");
    $("#ctl-bans-empty").classList.toggle("hidden", bans.length > 0);
  }
  function controlsProblem(e) {
    const p = $("#ctl-problem");
    p.textContent = e ? e.message : "";
    p.classList.toggle("hidden", !e);
  }
  async function loadControls() {
    try {
      renderControls(await api("GET", "/api/controls"));
      renderBans(await api("GET", "/api/controls/bans"));
      controlsProblem(null);
    } catch (e) { controlsProblem(e); }
  }
  async function control(method, path, body) {
    try { await api(method, path, body); controlsProblem(null); } catch (e) { controlsProblem(e); }
    loadControls();
  }
  function target() {
    const v = $("#ctl-target").value.trim();
    return $("#ctl-by-id").checked ? { twitchUserId: v } : { characterName: v };
  }
  $("#ctl-pause").addEventListener("click", () => control("POST", "/api/controls/pause"));
  $("#ctl-resume").addEventListener("click", () => control("POST", "/api/controls/resume"));
  $("#ctl-remove").addEventListener("click", () => control("POST", "/api/controls/remove", target()));
  $("#ctl-ban").addEventListener("click", () => {
    const t = target();
    const reason = $("#ctl-reason").value.trim();
    if (reason) t.reason = reason;
    control("POST", "/api/controls/bans", t);
  });
  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-unban]");
    if (b) control("DELETE", "/api/controls/bans/" + encodeURIComponent(b.dataset.unban));
  });
  const today = new Date().toISOString().slice(0, 10);
  $("#ctl-from").value = today;
  $("#ctl-to").value = today;
  loadControls();
  setInterval(loadControls, 5000);

  // ---- live updates ----
  function render(u) {
    view = u;
    renderStatus(u.status);
    renderBridge(u.status);
    renderPayouts(u.status);
    renderGifts(u.status);
    renderEvents(u.events);
    renderSettings(u.settings, false);
    route();
  }
  function connect() {
    const es = new EventSource("/api/stream");
    es.addEventListener("update", (ev) => { $("#offline").classList.add("hidden"); render(JSON.parse(ev.data)); });
    es.onerror = () => { $("#offline").classList.remove("hidden"); };
  }
  route();
  loadWindows();
  // First paint from the data the server put into the page, then live updates.
  const initial = document.getElementById("initial");
  if (initial) render(JSON.parse(initial.textContent));
  connect();
})();
