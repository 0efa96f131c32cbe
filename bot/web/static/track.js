/* TinyDesk tracking page: keep the server-rendered page current while it is open.
 *
 * Progressive enhancement: the page is complete without this file. Every few seconds it
 * asks GET /api/tickets/{publicId} (the token goes in the X-Tracking-Token header, never in
 * the polled URL) and redraws the stepper, the history and the messages in place, using
 * textContent only, so nothing the server sends is ever parsed as HTML.
 */
(function () {
  "use strict";

  var main = document.querySelector("main[data-poll-url]");
  if (!main || !window.fetch) {
    return;
  }
  var pollUrl = main.getAttribute("data-poll-url");
  var seconds = parseInt(main.getAttribute("data-poll-seconds"), 10) || 5;
  var token = new URLSearchParams(window.location.search).get("token");
  var MAX_BACKOFF = 12;

  /* The same labels and time format as bot/web/tracking.py and bot/web/html.py. */
  var STATE_LABELS = {
    reached: "Done",
    current: "Current stage",
    skipped: "Skipped",
    pending: "Not yet"
  };
  var LOOP_MARKER = "\u21ba";
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  var failures = 0;
  var timer = null;
  var lastSeen = null;
  var inFlight = false;

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function readableTime(iso) {
    var d = new Date(iso);
    return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear() + ", " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + " UTC";
  }

  function timeElement(iso) {
    var el = document.createElement("time");
    el.setAttribute("datetime", iso);
    el.textContent = readableTime(iso);
    return el;
  }

  function setTime(container, iso) {
    if (!container) {
      return;
    }
    container.textContent = "";
    if (iso) {
      container.appendChild(timeElement(iso));
    }
  }

  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) {
      el.className = className;
    }
    if (text !== undefined) {
      el.textContent = text;
    }
    return el;
  }

  function roundsText(rounds) {
    return rounds + (rounds === 1 ? " round" : " rounds");
  }

  /* The review loop (CHANGES_REQUESTED) is never "Done": it counts its rounds. */
  function stateLabel(step) {
    if (step.loop) {
      if (step.state === "current") {
        return LOOP_MARKER + " Current stage, round " + step.rounds;
      }
      if (step.state === "reached") {
        return LOOP_MARKER + " " + roundsText(step.rounds);
      }
      if (step.state === "skipped") {
        return "None";
      }
    }
    return STATE_LABELS[step.state];
  }

  function currentLabel(view) {
    var label = "";
    view.pipeline.forEach(function (step) {
      if (step.current) {
        label = step.closedReasonText || step.title;
      }
    });
    return label;
  }

  function renderStepper(pipeline) {
    pipeline.forEach(function (step) {
      var item = main.querySelector('.step[data-stage="' + step.stage + '"]');
      if (!item) {
        return;
      }
      item.className = "step is-" + step.state + (step.loop ? " step-loop" : "");
      if (step.state === "current") {
        item.setAttribute("aria-current", "step");
      } else {
        item.removeAttribute("aria-current");
      }
      item.querySelector(".step-state").textContent = stateLabel(step);
      var reason = item.querySelector(".step-reason");
      if (reason) {
        reason.textContent = step.closedReasonText || "";
      }
      setTime(item.querySelector(".step-time"), step.reachedAt);
    });
  }

  function renderHistory(history, titles) {
    var list = document.getElementById("history");
    if (!list) {
      return;
    }
    list.textContent = "";
    history.slice().reverse().forEach(function (step) {
      var item = document.createElement("li");
      var when = element("span", "history-time");
      when.appendChild(timeElement(step.at));
      item.appendChild(when);
      item.appendChild(document.createTextNode(" "));
      var what = element("span");
      what.appendChild(element("span", "history-stage", titles[step.to] || step.to));
      what.appendChild(document.createTextNode(" "));
      what.appendChild(element("span", "history-description", step.description));
      item.appendChild(what);
      list.appendChild(item);
    });
  }

  function renderComments(comments) {
    var list = document.getElementById("comments");
    if (!list || !comments) {
      return;
    }
    list.textContent = "";
    comments.forEach(function (comment) {
      var item = element("li", "comment");
      var meta = element("p", "comment-meta");
      meta.appendChild(element("span", "comment-author", comment.author));
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(timeElement(comment.createdAt));
      item.appendChild(meta);
      item.appendChild(element("p", "comment-body", comment.body));
      list.appendChild(item);
    });
    var empty = document.getElementById("no-comments");
    if (empty) {
      empty.hidden = comments.length > 0;
    }
  }

  function render(view) {
    var fingerprint = JSON.stringify(view);
    if (fingerprint === lastSeen) {
      return;
    }
    lastSeen = fingerprint;
    var titles = {};
    view.pipeline.forEach(function (step) {
      titles[step.stage] = step.title;
    });
    var current = document.getElementById("current-stage");
    var label = currentLabel(view);
    var changed = current && current.textContent !== label;
    renderStepper(view.pipeline);
    renderHistory(view.history, titles);
    renderComments(view.comments);
    if (current) {
      current.textContent = label;
    }
    setTime(document.getElementById("updated-at"), view.updatedAt);
    main.setAttribute("data-status", view.status);
    if (changed) {
      document.getElementById("live-status").textContent =
        "Update: the ticket is now at " + label + ".";
    }
  }

  function schedule() {
    var delay = seconds * 1000 * Math.min(Math.pow(2, failures), MAX_BACKOFF);
    timer = window.setTimeout(poll, delay);
  }

  function poll() {
    timer = null;
    if (document.hidden) {
      return; /* resumed by visibilitychange */
    }
    inFlight = true;
    var headers = { Accept: "application/json" };
    if (token) {
      headers["X-Tracking-Token"] = token;
    }
    fetch(pollUrl, { headers: headers, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (view) {
        failures = 0;
        render(view);
      })
      .catch(function () {
        failures += 1;
      })
      .then(function () {
        inFlight = false;
        schedule();
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && timer === null && !inFlight) {
      poll();
    }
  });
  main.setAttribute("data-live", "on");
  var note = document.getElementById("live-note");
  if (note) {
    note.textContent = "This page updates itself every few seconds.";
  }
  schedule();
})();
