// The workspace's keyboard shortcuts (issue 19). Progressive: every action works without
// them. Keys are ignored while typing in a field. ? shows the list.
(() => {
  "use strict";
  const rows = () => Array.from(document.querySelectorAll("tbody tr"));
  // Read from the page each time: the inbox may replace its rows (desk_inbox.js) and keeps
  // the selected ticket's row marked.
  const selected = () => rows().findIndex((row) => row.classList.contains("selected"));

  function select(index) {
    const all = rows();
    if (all.length === 0) return;
    const current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((row, i) => row.classList.toggle("selected", i === current));
    const link = all[current].querySelector("a");
    if (link) link.focus();
  }

  function focusField(id) {
    const field = document.getElementById(id);
    if (field) {
      field.focus();
      return true;
    }
    return false;
  }

  function toggleHelp() {
    const help = document.getElementById("shortcuts");
    if (help) help.hidden = !help.hidden;
  }

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
    if (event.key === "Escape" && typing && target instanceof HTMLElement) {
      target.blur();
      return;
    }
    if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
    const actions = {
      j: () => select(selected() + 1),
      k: () => select(selected() - 1),
      r: () => focusField("reply"),
      n: () => focusField("note"),
      t: () => focusField("minutes"),
      a: () => focusField("assignee"),
      "?": () => toggleHelp(),
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });
})();
