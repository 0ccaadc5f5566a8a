// AWM viewer: live polling only; every page is complete without it. HTML fragments come from the server,
// rendered by the same autoescaped templates as the pages, so nothing here builds markup from data.
"use strict";

function pollCalls(box) {
  const status = document.getElementById("live-status");
  const url = box.dataset.pollUrl;
  let since = Number(box.dataset.since || 0);
  async function tick() {
    let reply;
    try {
      const response = await fetch(url + "?since=" + since, {headers: {accept: "application/json"}});
      reply = await response.json();
    } catch (error) {
      status.textContent = "the server did not answer; retrying";
      setTimeout(tick, 3000);
      return;
    }
    if (!reply.open) {
      status.textContent = "session closed" + (reply.reason ? ": " + reply.reason : "");
      status.classList.add("closed");
      return;
    }
    if (reply.restarted) {
      box.textContent = "";
    }
    if (reply.html.trim()) {
      box.insertAdjacentHTML("beforeend", reply.html);
    }
    since = reply.next;
    box.dataset.since = String(since);
    status.textContent = reply.recording
      ? "watching: " + reply.total + " call(s) so far"
      : "this session does not record its calls (created with record: false)";
    setTimeout(tick, 1000);
  }
  tick();
}

function refreshRows(body) {
  async function tick() {
    try {
      const response = await fetch(body.dataset.refreshUrl);
      if (response.ok) {
        body.innerHTML = await response.text();
      }
    } catch (error) {
      // the server went away; keep the last list and try again
    }
    setTimeout(tick, 2000);
  }
  setTimeout(tick, 2000);
}

document.querySelectorAll("[data-poll-url]").forEach(pollCalls);
document.querySelectorAll("[data-refresh-url]").forEach(refreshRows);
