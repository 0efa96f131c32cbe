// The inbox's live updates (issue 19, bot/web/desk_inbox.py). Progressive: without this
// script a reload shows the same. It polls the page's own query at /desk/inbox/changes,
// compares the tickets there with the rows on screen (each row's data-stamp), and offers
// "N new or changed tickets — Show" instead of moving rows under the agent: the rows are
// replaced only when they ask, and the selected ticket (j/k) and focus stay on it.
// Backoff: 5 s, doubling to 60 s while nothing changes; back to 5 s on a change, on focus
// or when the tab is shown again; no polling while the tab is hidden.
(() => {
  "use strict";
  const MIN_DELAY = 5000;
  const MAX_DELAY = 60000;
  const list = document.getElementById("inbox-list");
  const live = document.getElementById("inbox-live");
  if (!list || !live || !list.dataset.changes) return;
  let delay = MIN_DELAY;
  let timer = null;
  let lastCount = 0;
  let stopped = false;

  const shownRows = () => Array.from(list.querySelectorAll("tbody tr[data-ticket]"));

  function differences(fresh) {
    const onScreen = new Map(shownRows().map((row) => [row.dataset.ticket, row.dataset.stamp]));
    let added = 0;
    let changed = 0;
    for (const { id, stamp } of fresh) {
      if (!onScreen.has(id)) added += 1;
      else if (onScreen.get(id) !== stamp) changed += 1;
    }
    const ids = new Set(fresh.map((row) => row.id));
    const gone = [...onScreen.keys()].filter((id) => !ids.has(id)).length;
    // On a full page, a new ticket at the top pushes one off the bottom: not a change.
    return added + changed + Math.max(0, gone - added);
  }

  function say(count) {
    live.replaceChildren();
    if (count === 0) return;
    const text = document.createElement("span");
    text.textContent = count === 1 ? "1 new or changed ticket" : `${count} new or changed tickets`;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Show";
    button.addEventListener("click", show);
    live.append(text, " — ", button);
  }

  function schedule() {
    clearTimeout(timer);
    if (stopped || document.hidden) return;
    timer = setTimeout(poll, delay);
  }

  async function poll() {
    clearTimeout(timer);
    try {
      const response = await fetch(list.dataset.changes, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
        redirect: "manual",
      });
      const json = (response.headers.get("Content-Type") || "").includes("application/json");
      if (!response.ok || !json) {
        // Signed out (a redirect to sign in), or a query the server refuses: a reload shows why.
        stopped = response.type === "opaqueredirect" || response.status === 400;
        delay = MAX_DELAY;
      } else {
        const count = differences((await response.json()).rows || []);
        delay = count !== lastCount ? MIN_DELAY : Math.min(delay * 2, MAX_DELAY);
        lastCount = count;
        say(count);
      }
    } catch (error) {
      delay = Math.min(delay * 2, MAX_DELAY); // offline for now: try again later
    }
    schedule();
  }

  async function show() {
    const selected = list.querySelector("tbody tr.selected");
    const keep = selected ? selected.dataset.ticket : null;
    const hadFocus = list.contains(document.activeElement);
    let fresh = null;
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      fresh = response.ok ? page.getElementById("inbox-list") : null;
    } catch (error) {
      fresh = null;
    }
    if (!fresh) {
      window.location.reload();
      return;
    }
    list.replaceChildren(...Array.from(fresh.childNodes));
    list.dataset.changes = fresh.dataset.changes;
    lastCount = 0;
    say(0);
    const row = keep && list.querySelector(`tbody tr[data-ticket="${CSS.escape(keep)}"]`);
    if (row) {
      row.classList.add("selected");
      const link = row.querySelector("a");
      if (link && hadFocus) link.focus();
    } else if (hadFocus) {
      list.focus();
    }
    delay = MIN_DELAY;
    schedule();
  }

  function wake() {
    if (stopped) return;
    delay = MIN_DELAY;
    poll();
  }

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) clearTimeout(timer);
    else wake();
  });
  window.addEventListener("focus", wake);
  schedule();
})();
