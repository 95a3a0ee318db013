// Postroom console: live updates over server-sent events, keyboard shortcuts, confirmations. No framework.
"use strict";
(function () {
  const body = document.body;
  const root = body.dataset.root || "/console";

  function toast(text) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const item = document.createElement("div");
    item.className = "toast";
    item.textContent = text;
    box.appendChild(item);
    setTimeout(() => item.remove(), 8000);
  }

  async function refresh(selector) {
    const holder = document.querySelector(selector);
    if (!holder || !holder.dataset.fragment) return;
    const response = await fetch(holder.dataset.fragment, { credentials: "same-origin" });
    if (response.ok) holder.innerHTML = await response.text();
  }

  function live() {
    if (!document.querySelector(".top nav") || !window.EventSource) return;
    const source = new EventSource(root + "/events");
    source.addEventListener("ready", () => { body.dataset.live = "ready"; });
    source.addEventListener("signed-out", () => { source.close(); window.location = root + "/sign-in?expired=1"; });
    source.addEventListener("mail", (message) => {
      const event = JSON.parse(message.data);
      const kind = event.event_type || "";
      if (kind.startsWith("message.received")) {
        toast("New mail to " + event.inbox_id + (event.from ? " from " + event.from : "") + (event.subject ? ": " + event.subject : ""));
        if (body.dataset.inbox === event.inbox_id) refresh("#thread-list");
      } else {
        const what = kind.replace("message.", "");
        toast("Message " + what + (event.recipients ? " (" + [].concat(event.recipients).map((r) => r.address || r).join(", ") + ")" : ""));
      }
      if (body.dataset.thread && body.dataset.thread === event.thread_id) toast("This thread changed: reload to see it.");
    });
    source.onerror = () => { body.dataset.live = "reconnecting"; };
  }

  function rows() { return Array.from(document.querySelectorAll("[data-row]")); }
  let current = -1;
  function select(step) {
    const all = rows();
    if (!all.length) return;
    if (all[current]) all[current].classList.remove("selected");
    current = Math.max(0, Math.min(all.length - 1, current + step));
    all[current].classList.add("selected");
    const link = all[current].querySelector("a");
    (link || all[current]).focus();
  }

  let pendingG = false;
  document.addEventListener("keydown", (event) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (pendingG) {
      pendingG = false;
      const target = { i: "/inboxes", d: "/drafts", k: "/keys", w: "/webhooks" }[event.key];
      if (target) { window.location = root + target; event.preventDefault(); }
      return;
    }
    if (event.key === "g") { pendingG = true; return; }
    if (event.key === "/") { const search = document.querySelector("[data-search]"); if (search) { search.focus(); event.preventDefault(); } }
    if (event.key === "j") { select(1); event.preventDefault(); }
    if (event.key === "k") { select(-1); event.preventDefault(); }
  });

  document.addEventListener("submit", (event) => {
    const question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remote]");
    if (!button) return;
    const frame = button.closest("details").querySelector("iframe");
    frame.src = button.dataset.remote;
    button.remove();
  });

  live();
})();
