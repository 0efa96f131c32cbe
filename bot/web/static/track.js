/* TinyDesk tracking page: keep the server-rendered page current while it is open.
 *
 * Progressive enhancement: the page is complete without this file. It asks
 * GET /api/tickets/{publicId} (the token goes in the X-Tracking-Token header, never in the
 * polled URL) and redraws the stepper, the history and the messages in place, using
 * textContent only, so nothing the server sends is ever parsed as HTML.
 *
 * The schedule is bot/rules/poll_schedule.py's: the first wait is data-poll-seconds, each
 * answer without news (or a failure) doubles it up to data-poll-max-seconds, news brings it
 * back; a hidden tab does not poll, and a CLOSED ticket is never polled (the server leaves
 * out data-poll-url; a ticket that closes while open stops its polling). A ticket that
 * reaches a finished stage is drawn again by the server, which words the ending.
 * Times are shown in the reader's own time zone.
 */
(function () {
  "use strict";

  var main = document.querySelector("main[data-public-id]");
  if (!main) {
    return;
  }
  /* The same constants as bot/rules/poll_schedule.py. */
  var BASE_SECONDS = 5;
  var MAX_SECONDS = 300;
  var FACTOR = 2;
  var FINAL_STAGES = ["CLOSED"];
  var FINISHED_STAGES = ["MERGED", "DEPLOYED", "CLOSED"];

  var pollUrl = main.getAttribute("data-poll-url");
  var seconds = parseFloat(main.getAttribute("data-poll-seconds")) || BASE_SECONDS;
  var maxSeconds = parseFloat(main.getAttribute("data-poll-max-seconds")) || MAX_SECONDS;
  var token = new URLSearchParams(window.location.search).get("token");

  /* The same labels and time format as bot/web/tracking.py and bot/web/html.py. */
  var STATE_LABELS = {
    reached: "Done",
    current: "Current stage",
    skipped: "Skipped",
    pending: "Not yet"
  };
  var LOOP_MARKER = "\u21ba";
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  var quiet = 0; /* answers in a row without news, or failures */
  var stopped = false;
  var timer = null;
  var lastSeen = null;
  var inFlight = false;

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function utcTime(iso) {
    var d = new Date(iso);
    return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear() + ", " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + " UTC";
  }

  var localFormat = null;
  try {
    localFormat = new Intl.DateTimeFormat(undefined, {
      day: "numeric", month: "short", year: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
  } catch (e) {
    localFormat = null;
  }

  /* In the reader's time zone, named ("2 Dec 2026, 15:04 GMT+1"); UTC without Intl. */
  function readableTime(iso) {
    var d = new Date(iso);
    if (!localFormat || isNaN(d.getTime())) {
      return utcTime(iso);
    }
    return localFormat.format(d);
  }

  function localiseTimes() {
    var times = document.querySelectorAll("main time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var iso = times[i].getAttribute("datetime");
      times[i].textContent = readableTime(iso);
      times[i].setAttribute("title", utcTime(iso));
    }
  }

  function timeElement(iso) {
    var el = document.createElement("time");
    el.setAttribute("datetime", iso);
    el.textContent = readableTime(iso);
    el.setAttribute("title", utcTime(iso));
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
      meta.appendChild(
        element("span", "comment-author", comment.author + (comment.fromSubmitter ? " (you)" : ""))
      );
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

  /* Whether the view brought news (false: the same as last time). */
  function render(view) {
    var fingerprint = JSON.stringify(view);
    if (fingerprint === lastSeen) {
      return false;
    }
    var first = lastSeen === null;
    var moved = view.status !== main.getAttribute("data-stage");
    lastSeen = fingerprint;
    var finishing = FINISHED_STAGES.indexOf(view.status) >= 0;
    if (moved && (finishing || document.getElementById("finished"))) {
      /* The server words a finished ticket ("Your fix is live"), and takes the words back
         when it is reopened: draw the page anew. */
      stopped = true;
      window.location.reload();
      return true;
    }
    main.setAttribute("data-stage", view.status);
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
    return moved || !first;
  }

  function nextDelay() {
    return Math.min(maxSeconds, seconds * Math.pow(FACTOR, Math.min(quiet, 64)));
  }

  function schedule() {
    if (stopped) {
      return;
    }
    timer = window.setTimeout(poll, nextDelay() * 1000);
  }

  function stop(why) {
    stopped = true;
    main.setAttribute("data-live", "stopped");
    var note = document.getElementById("live-note");
    if (note) {
      note.textContent = why;
    }
  }

  function poll() {
    timer = null;
    if (stopped || document.hidden) {
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
        var news = render(view);
        quiet = news ? 0 : quiet + 1;
        if (FINAL_STAGES.indexOf(view.status) >= 0) {
          stop("This ticket is closed: nothing more is on its way.");
        }
      })
      .catch(function () {
        quiet += 1;
      })
      .then(function () {
        inFlight = false;
        schedule();
      });
  }

  localiseTimes();
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    zone = "";
  }
  var zoneWords = zone ? "Times are in your time zone (" + zone + "). " : "";
  var note = document.getElementById("live-note");
  if (!pollUrl || !window.fetch) {
    if (note && zone) {
      note.textContent = zoneWords + note.textContent.replace("Times are in UTC. ", "");
    }
    return; /* a CLOSED ticket: nothing to wait for */
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && timer === null && !inFlight && !stopped) {
      quiet = 0; /* back to the page: ask at once, then at the first pace */
      poll();
    }
  });
  main.setAttribute("data-live", "on");
  if (note) {
    note.textContent = zoneWords + "This page updates itself while it is open.";
  }
  schedule();
})();
