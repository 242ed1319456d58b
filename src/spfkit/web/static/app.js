// spfkit web: progressive enhancement only. Every page works without this file.
// - copy buttons (navigator.clipboard, "Copied" announced through an aria-live region);
// - after a submit, the focus moves to the result and the result is announced;
// - "Expand all" for the record tree of /check;
// - the wizard's live update: the form state goes to POST /api/wizard as the answers change;
//   an answer the server refuses marks the record shown as stale (its copy buttons disabled).
(function () {
  "use strict";

  var live = document.getElementById("live-status");
  function announce(text) {
    if (!live) return;
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 30);
  }

  // -- copy buttons ---------------------------------------------------------------------
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  document.querySelectorAll("button.copy").forEach(function (button) {
    button.hidden = false;
    var label = button.textContent;
    button.addEventListener("click", function () {
      var target = document.querySelector(button.getAttribute("data-copy-target"));
      if (!target) return;
      copyText(target.textContent).then(function () {
        button.textContent = "Copied";
        announce("Copied");
        window.setTimeout(function () { button.textContent = label; }, 2000);
      }, function () {
        announce("Copying failed: select the text and copy it by hand");
      });
    });
  });

  // -- after a submit: focus on the result, and say it -------------------------------------
  // A page loaded with a result (a submitted form) moves the focus to it: on a phone it is
  // below the form, and a screen reader user hears where they are. An error alert
  // (role=alert) speaks for itself and keeps the focus in the form.
  var result = document.querySelector("[data-result]");
  if (result && !document.getElementById("form-error")) {
    result.focus({preventScroll: false});
    var spoken = result.getAttribute("data-announce") ||
      (document.querySelector("[data-result] [role=status]") || result).textContent;
    announce(spoken.replace(/\s+/g, " ").trim());
  }

  // -- expand all / collapse all (the record tree) --------------------------------------------
  document.querySelectorAll("button[data-expand]").forEach(function (button) {
    var selector = button.getAttribute("data-expand");
    function all() { return Array.prototype.slice.call(document.querySelectorAll(selector)); }
    function sync() {
      var open = all().every(function (d) { return d.open; });
      button.textContent = open ? "Collapse all" : "Expand all";
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    if (all().length < 2) return;  // one record: nothing to expand
    button.hidden = false;
    sync();
    button.addEventListener("click", function () {
      var open = !all().every(function (d) { return d.open; });
      all().forEach(function (d) { d.open = open; });
      sync();
      announce(open ? "Every record of the tree expanded" : "The tree collapsed to its top record");
      if (!open) { var top = all()[0]; if (top) top.open = true; sync(); }
    });
    all().forEach(function (d) { d.addEventListener("toggle", sync); });
  });

  // -- the wizard's live update -----------------------------------------------------------
  var form = document.getElementById("wizard-form");
  if (!form) return;

  var FIELDS = {domain: "domain", mx: "mx", a: "a", ip4: "ip4", ip6: "ip6", a_hosts: "a-hosts",
                mx_domains: "mx-domains", includes: "includes", ptr: "ptr", all: "all",
                ttl: "ttl", mail_hosts: "mail-hosts"};
  var AREAS = ["ip4", "ip6", "a_hosts", "mx_domains", "includes", "mail_hosts"];

  function lines(text) {
    return text.split(/\r?\n/).map(function (s) { return s.trim(); })
      .filter(function (s) { return s.length > 0; });
  }

  function state() {
    var el = form.elements;
    var body = {
      domain: el.domain.value, mx: el.mx.checked, a: el.a.checked, ptr: el.ptr.checked,
      all: el.all.value, ttl: el.ttl.value.trim() === "" ? 3600 : Number(el.ttl.value)
    };
    if (!Number.isInteger(body.ttl)) body.ttl = el.ttl.value;
    AREAS.forEach(function (name) { body[name] = lines(el[name].value); });
    return body;
  }

  function setText(selector, text) {
    var node = document.querySelector(selector);
    if (node) node.textContent = text;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function fillList(selector, items, build) {
    var list = document.querySelector(selector);
    if (!list) return;
    list.replaceChildren();
    items.forEach(function (item) { list.appendChild(build(item)); });
  }

  function findingItem(f) {
    var li = element("li", "finding severity-" + f.severity);
    li.appendChild(element("span", "severity", f.severity));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(element("code", "code", f.code));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(element("span", "message", (f.domain ? f.domain + ": " : "") + f.message));
    if (f.term) {
      var term = element("span", "term", "(term ");
      term.appendChild(element("code", "", f.term));
      term.appendChild(document.createTextNode(")"));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(term);
    }
    li.appendChild(document.createTextNode(" "));
    li.appendChild(element("span", "rfc", "(RFC " + f.rfc + ")"));
    if (f.fix) {
      var fix = element("p", "fix");
      fix.appendChild(element("strong", "", "Fix:"));
      fix.appendChild(document.createTextNode(" " + f.fix));
      li.appendChild(fix);
    }
    if (f.fixed_record) {
      var fixed = element("p", "fixed", "Corrected record: ");
      fixed.appendChild(element("code", "", f.fixed_record));
      li.appendChild(fixed);
    }
    return li;
  }

  function clearErrors() {
    var slot = document.getElementById("form-error-slot");
    if (slot) slot.replaceChildren();
    Object.keys(FIELDS).forEach(function (name) {
      var field = document.getElementById(FIELDS[name]);
      if (!field) return;
      field.removeAttribute("aria-invalid");
      if (document.getElementById(FIELDS[name] + "-help")) {
        field.setAttribute("aria-describedby", FIELDS[name] + "-help");
      } else {
        field.removeAttribute("aria-describedby");
      }
    });
  }

  function labelOf(id) {
    var label = document.querySelector('label[for="' + id + '"]');
    return label ? label.textContent.replace(/\s+/g, " ").trim() : id;
  }

  function showErrors(messages) {
    clearErrors();
    var slot = document.getElementById("form-error-slot");
    if (!slot) return;
    var box = element("div");
    box.id = "form-error";
    // while the user types, say it politely: an alert would interrupt at every pause
    box.setAttribute("role", "status");
    box.setAttribute("aria-live", "polite");
    box.appendChild(element("p", "form-error-title",
      messages.length === 1 ? "Please correct this:" : "Please correct these:"));
    var list = element("ul");
    var done = {};
    messages.forEach(function (m) {
      var loc = (m.loc || []).filter(function (p) { return p !== "body"; });
      var name = FIELDS[loc[0]] ? loc[0] : "domain";
      var id = FIELDS[name];
      var text = m.msg;
      if (!m.plain) {
        var where = labelOf(id);
        if (typeof loc[1] === "number") where += ", line " + (loc[1] + 1);
        text = where + ": " + m.msg;
      }
      var li = element("li", "", text);
      if (!m.plain && !done[id]) {
        li.id = id + "-error";
        var field = document.getElementById(id);
        if (field) {
          field.setAttribute("aria-invalid", "true");
          field.setAttribute("aria-describedby", id + "-error");
        }
        done[id] = true;
      }
      list.appendChild(li);
    });
    box.appendChild(list);
    slot.appendChild(box);
  }

  // the record, zone lines and findings shown no longer follow the answers
  function markStale(stale) {
    var output = document.getElementById("output");
    if (!output) return;
    var was = output.classList.contains("stale");
    output.classList.toggle("stale", stale);
    if (stale) { output.setAttribute("data-stale", ""); } else { output.removeAttribute("data-stale"); }
    var notice = document.getElementById("stale-notice");
    if (notice) notice.hidden = !stale;
    document.querySelectorAll("#output button.copy").forEach(function (button) {
      button.disabled = stale;
    });
    if (stale && !was) announce("The record shown is out of date: correct the entry marked in the form");
  }

  function update(data) {
    clearErrors();
    markStale(false);
    setText("#record", data.record);
    setText("#all-explanation", data.all_explanation);
    setText("#bind-lines", data.bind_lines.join("\n"));
    setText("#tinydns-lines", data.tinydns_lines.join("\n"));
    var hint = document.getElementById("zone-hint");
    if (hint) hint.hidden = true;
    if (data.lookups) {
      var over = Math.max(data.lookups.ipv4, data.lookups.ipv6) > 10;
      setText("#wizard-lookups", "Once published, the record needs " + data.lookups.ipv4 +
        "/10 DNS lookups for IPv4 clients and " + data.lookups.ipv6 +
        "/10 for IPv6 clients (RFC 7208 §4.6.4)" +
        (over ? ": over the limit, every receiver returns permerror for all mail." : "."));
      var gauge = document.getElementById("wizard-lookups");
      if (gauge) gauge.classList.toggle("over", over);
    } else {
      setText("#wizard-lookups", "DNS lookups not counted: " + (data.lookups_not_counted || "no DNS") + ".");
    }
    fillList("#wizard-notes", data.notes, function (note) { return element("li", "", note); });
    fillList("#mail-host-records", data.mail_host_records, function (h) {
      var li = element("li", "", "Also publish for the mail host " + h.name + ": ");
      li.appendChild(element("code", "", h.record));
      return li;
    });
    fillList("#findings .findings", data.findings, findingItem);
    var none = document.querySelector("#findings .no-findings");
    if (none) none.hidden = data.findings.length > 0;
  }

  var timer = null;
  var sequence = 0;
  var controller = null;
  var lastSent = null;  // the body last sent: "change" after "input" would send it again

  function send() {
    var body = JSON.stringify(state());
    if (body === lastSent) return;
    lastSent = body;
    var mine = ++sequence;
    if (controller) controller.abort();
    controller = typeof AbortController === "function" ? new AbortController() : null;
    fetch("/api/wizard", {
      method: "POST",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: body,
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      if (response.status === 429 || response.status === 503) {
        // the server's limits: try once more when it says to
        var wait = parseInt(response.headers.get("Retry-After") || "5", 10);
        lastSent = null;
        if (timer) window.clearTimeout(timer);
        timer = window.setTimeout(send, Math.max(1, wait) * 1000);
      }
      return response.json().then(function (data) { return {status: response.status, body: data}; });
    }).then(function (reply) {
      if (mine !== sequence) return;
      if (reply.status === 200) {
        var before = (document.getElementById("record") || {}).textContent;
        update(reply.body);
        if (reply.body.record !== before) announce("Your record: " + reply.body.record);
        var query = new URLSearchParams(new FormData(form)).toString();
        window.history.replaceState(null, "", "/wizard?" + query);
      } else if (reply.status === 422 && Array.isArray(reply.body.detail)) {
        showErrors(reply.body.detail);
        markStale(true);
      } else {
        showErrors([{loc: [], msg: reply.body.detail || ("The server answered " + reply.status), plain: true}]);
      }
    }).catch(function (error) {
      if (error && error.name === "AbortError") return;
      lastSent = null;
      if (mine === sequence) announce("The record could not be updated: " + error);
    });
  }

  function schedule() {
    if (timer) window.clearTimeout(timer);
    timer = window.setTimeout(send, 350);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
})();
