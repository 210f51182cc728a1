// The team's console: a small preact/htm page, no build step. Every text is rendered as text
// (preact escapes it); nothing is ever inserted as HTML. The session lives in sessionStorage and
// travels as a bearer token only.
import { html, render, useState, useEffect, useRef, useCallback } from "./vendor/htm-preact-standalone.module.js";

const API = new URL("../api/", import.meta.url);
const SESSION_KEY = "outreach.console.session";
const UNDO_MS = 4000; // approvals and rejections wait this long for an undo before they are sent
const VIEWS = [
  ["campaigns", "Campaigns"],
  ["review", "Review queue"],
  ["inbox", "Inbox"],
  ["mailboxes", "Mailboxes"],
  ["contacts", "Contacts"],
];

// A reply's intent (inbound_messages.intent) and the words the page shows for it; the names are
// the inbox filter's values.
const INTENTS = [
  ["interested", "Interested"],
  ["meeting_request", "Asks for a meeting"],
  ["question", "Has a question"],
  ["not_now", "Not now"],
  ["not_interested", "Not interested"],
  ["wrong_person", "Wrong person"],
  ["referral", "Refers someone else"],
  ["unsubscribe", "Asks to stop"],
  ["auto_reply", "Automatic reply"],
  ["bounce", "Delivery report"],
  ["other", "Other"],
];
const INTENT_LABEL = Object.fromEntries(INTENTS);
const intentLabel = (name) => INTENT_LABEL[name] || name;

// -- session ---------------------------------------------------------------------------------

function loadSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY));
  } catch {
    return null;
  }
}

function saveSession(session) {
  if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_KEY);
}

function tokenExpiry(token) {
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return payload.exp || null;
  } catch {
    return null;
  }
}

// A magic link (or the local run's link) comes back with the session in the fragment: keep it,
// then take it out of the address bar and the history.
function sessionFromFragment() {
  if (!location.hash || location.hash.length < 2) return { session: null, error: null };
  const params = new URLSearchParams(location.hash.slice(1));
  history.replaceState(null, "", location.pathname + location.search);
  const error = params.get("error_description") || params.get("error");
  const access = params.get("access_token");
  if (!access) return { session: null, error };
  const expiresAt = Number(params.get("expires_at")) || tokenExpiry(access);
  return { session: { access_token: access, refresh_token: params.get("refresh_token"), expires_at: expiresAt }, error };
}

async function authCall(config, path, body) {
  const response = await fetch(`${config.supabase_url}/auth/v1/${path}`, {
    method: "POST",
    headers: { apikey: config.supabase_anon_key, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error_description || data.msg || data.message || `sign-in failed (${response.status})`);
  return data;
}

function sessionOf(data) {
  return {
    access_token: data.access_token,
    refresh_token: data.refresh_token,
    expires_at: data.expires_at || Math.floor(Date.now() / 1000) + (data.expires_in || 3600),
  };
}

// -- the API ---------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `request failed (${status})`);
    this.status = status;
    this.body = body;
  }
}

function makeApi(getSession, onUnauthorized) {
  return async function api(path, { method = "GET", body, query } = {}) {
    const url = new URL(path, API);
    for (const [key, value] of Object.entries(query || {})) {
      if (value !== null && value !== undefined && value !== "") url.searchParams.set(key, value);
    }
    const session = getSession();
    const payload = body ? JSON.stringify(body) : undefined;
    const response = await fetch(url, {
      method,
      headers: {
        Authorization: `Bearer ${session ? session.access_token : ""}`,
        ...(body ? { "Content-Type": "application/json" } : {}),
      },
      body: payload,
      // keepalive lets a decision reach the server as the page closes; browsers refuse it over 64 KiB.
      keepalive: method !== "GET" && (payload || "").length < 60000,
    });
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) onUnauthorized();
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  };
}

function fmtDate(value) {
  return value ? new Date(value).toLocaleString() : "—";
}

function sum(counts, ...keys) {
  return keys.reduce((total, key) => total + ((counts || {})[key] || 0), 0);
}

// -- sign in ---------------------------------------------------------------------------------

function SignIn({ config, onSession, error }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [message, setMessage] = useState(error || "");
  const usable = config && config.supabase_url && config.supabase_anon_key;

  async function withPassword(event) {
    event.preventDefault();
    try {
      onSession(sessionOf(await authCall(config, "token?grant_type=password", { email, password })));
    } catch (err) {
      setMessage(err.message);
    }
  }

  async function magicLink() {
    try {
      const back = encodeURIComponent(location.origin + location.pathname);
      await authCall(config, `otp?redirect_to=${back}`, { email, create_user: false });
      setMessage(`A sign-in link was sent to ${email}.`);
    } catch (err) {
      setMessage(err.message);
    }
  }

  return html`<main class="signin">
    <h1>Outreach console</h1>
    ${usable
      ? html`<form onSubmit=${withPassword}>
          <div class="field"><label for="signin-email">Email</label>
            <input id="signin-email" class="wide" type="email" autocomplete="username" required value=${email}
              onInput=${(e) => setEmail(e.target.value)} /></div>
          <div class="field"><label for="signin-password">Password</label>
            <input id="signin-password" class="wide" type="password" autocomplete="current-password" value=${password}
              onInput=${(e) => setPassword(e.target.value)} /></div>
          <div class="toolbar">
            <button class="primary" type="submit">Sign in</button>
            <button type="button" onClick=${magicLink}>Email me a sign-in link</button>
          </div>
        </form>`
      : html`<p>Open the sign-in link you were given.</p>`}
    <p role="status" class="muted">${message}</p>
  </main>`;
}

// -- campaigns -------------------------------------------------------------------------------

function CampaignFigures({ api, campaign }) {
  const [figures, setFigures] = useState(null);
  useEffect(() => {
    api(`campaigns/${campaign}`).then(setFigures, () => setFigures({ steps: [], mailboxes: [] }));
  }, [campaign]);
  if (!figures) return html`<p class="muted">Loading figures…</p>`;
  return html`<div>
    <table><caption>Per step</caption>
      <thead><tr><th scope="col">Step</th><th scope="col">Sent</th><th scope="col">Waiting</th><th scope="col">Drafts</th><th scope="col">Failed or canceled</th></tr></thead>
      <tbody>${figures.steps.map((s) => html`<tr key=${s.step}><td>${s.step + 1}</td><td>${sum(s.counts, "sent")}</td>
        <td>${sum(s.counts, "scheduled", "sending")}</td><td>${sum(s.counts, "draft")}</td><td>${sum(s.counts, "failed", "canceled")}</td></tr>`)}</tbody>
    </table>
    <table><caption>Per mailbox</caption>
      <thead><tr><th scope="col">Mailbox</th><th scope="col">Sent</th><th scope="col">Waiting</th><th scope="col">Failed</th></tr></thead>
      <tbody>${figures.mailboxes.length === 0 ? html`<tr><td colspan="4" class="muted">No message sent from a mailbox yet.</td></tr>` : ""}
        ${figures.mailboxes.map((m) => html`<tr key=${m.mailbox_id}><td>${m.email || m.mailbox_id}</td><td>${sum(m.counts, "sent")}</td>
        <td>${sum(m.counts, "scheduled", "sending")}</td><td>${sum(m.counts, "failed")}</td></tr>`)}</tbody>
    </table>
  </div>`;
}

// The list answers at once; each campaign's figures (a count of its messages) fill in after.
function useFigures(api, rows) {
  const [figures, setFigures] = useState({});
  useEffect(() => {
    if (!rows) return undefined;
    let live = true;
    (async () => {
      for (const row of rows) {
        try {
          const data = await api(`campaigns/${row.campaign_id}/figures`);
          if (live) setFigures((old) => ({ ...old, [row.campaign_id]: data }));
        } catch {
          // a campaign that cannot be counted shows dashes
        }
      }
    })();
    return () => { live = false; };
  }, [rows]);
  return figures;
}

function Campaigns({ api, org, admin, notify }) {
  const [rows, setRows] = useState(null);
  const [next, setNext] = useState(null);
  const [open, setOpen] = useState(null);
  const load = useCallback(async (before) => {
    try {
      const data = await api("campaigns", { query: { org, before } });
      setRows((old) => (before ? [...(old || []), ...data.campaigns] : data.campaigns));
      setNext(data.next);
    } catch (err) {
      notify(err.message);
    }
  }, [org]);
  useEffect(() => { load(null); }, [load]);
  const figures = useFigures(api, rows);

  async function setStatus(campaign, status) {
    if (status === "completed" && !window.confirm(`Complete ${campaign.campaign_name}? Its waiting messages are canceled.`)) return;
    try {
      await api(`campaigns/${campaign.campaign_id}/status`, { method: "POST", body: { status } });
      notify(`${campaign.campaign_name}: ${status}`);
      load(null);
    } catch (err) {
      notify(err.message);
    }
  }

  if (!rows) return html`<p class="muted">Loading campaigns…</p>`;
  return html`<section aria-labelledby="campaigns-title">
    <h2 id="campaigns-title">Campaigns</h2>
    <table>
      <thead><tr><th scope="col">Campaign</th><th scope="col">Status</th><th scope="col">Sent</th><th scope="col">Replies</th>
        <th scope="col">Reply rate</th><th scope="col">Bounces</th><th scope="col">Unsubscribes</th><th scope="col">Actions</th></tr></thead>
      <tbody>${rows.map((c) => {
        const f = figures[c.campaign_id];
        // People's replies only: automatic replies and delivery reports are not answers.
        const rate = f && f.reply_rate !== null ? `${(100 * f.reply_rate).toFixed(1)} %` : "—";
        const replies = f ? Object.entries(f.replies_by_intent).map(([k, v]) => `${intentLabel(k)} ${v}`).join(", ") : "";
        return html`<tr key=${c.campaign_id} data-campaign=${c.campaign_id}>
          <th scope="row">${c.campaign_name}</th>
          <td><span class=${`status-${c.status}`}>${c.status}</span>${c.paused_reason ? html`<div class="paused-reason">${c.paused_reason}</div>` : ""}</td>
          <td class="sent">${f ? sum(f.outreach_flows, "sent") : "…"}</td>
          <td class="replies">${f ? f.human_replies : "…"}${replies ? html`<div class="muted">${replies}</div>` : ""}</td>
          <td>${rate}</td>
          <td>${f ? f.bounced_or_complained : "…"}</td>
          <td>${f ? f.campaign_unsubscribes + f.unsubscribed_everywhere : "…"}</td>
          <td><div class="toolbar">
            <button aria-expanded=${open === c.campaign_id} onClick=${() => setOpen(open === c.campaign_id ? null : c.campaign_id)}>
              Figures<span class="visually-hidden"> of ${c.campaign_name}</span></button>
            ${admin && c.status === "active" ? html`<button onClick=${() => setStatus(c, "paused")}>Pause<span class="visually-hidden"> ${c.campaign_name}</span></button>` : ""}
            ${admin && c.status === "paused" ? html`<button class="primary" onClick=${() => setStatus(c, "active")}>Resume<span class="visually-hidden"> ${c.campaign_name}</span></button>` : ""}
            ${admin && c.status !== "completed" ? html`<button class="danger" onClick=${() => setStatus(c, "completed")}>Complete<span class="visually-hidden"> ${c.campaign_name}</span></button>` : ""}
          </div></td>
        </tr>${open === c.campaign_id ? html`<tr><td colspan="8"><${CampaignFigures} api=${api} campaign=${c.campaign_id} /></td></tr>` : ""}`;
      })}</tbody>
    </table>
    ${rows.length === 0 ? html`<p class="muted">No campaign yet.</p>` : ""}
    ${next ? html`<button onClick=${() => load(next)}>Load more</button>` : ""}
  </section>`;
}

// -- review queue ----------------------------------------------------------------------------

function Grounding({ draft }) {
  return html`<aside class="grounding" aria-label="What it was written from">
    ${draft.prospect_message ? html`<h3>Their message</h3><div class="prospect-message"><strong>${draft.prospect_message.subject || "(no subject)"}</strong>
      ${draft.prospect_message.intent ? html` · <span class="intent">${intentLabel(draft.prospect_message.intent)}</span>` : ""}
      <pre class="text">${draft.prospect_message.snippet || ""}</pre></div>` : ""}
    ${draft.form_fields ? html`<h3>Form fields</h3><ul class="form-fields">${draft.form_fields.map((f) =>
      html`<li key=${f.name}>${f.label || f.name} <span class="muted">(${f.kind || "text"}${f.required ? ", required" : ""}${f.role ? `, ${f.role}` : ""})</span></li>`)}</ul>
      <p class="muted">Form on ${draft.form_page}</p>` : ""}
    <h3>The page</h3>
    ${draft.page_url ? html`<p class="muted">${draft.page_url}</p>` : html`<p class="muted">Added by hand: no page.</p>`}
    ${draft.page_title ? html`<p><strong>${draft.page_title}</strong></p>` : ""}
    ${draft.page_description ? html`<p>${draft.page_description}</p>` : ""}
    ${draft.page_text ? html`<pre class="text">${draft.page_text}</pre>` : ""}
  </aside>`;
}

function DraftEditor({ draft, onSave, onCancel, idPrefix }) {
  const [subject, setSubject] = useState(draft.subject || "");
  const [body, setBody] = useState(draft.body || "");
  const first = useRef(null);
  useEffect(() => { first.current && first.current.focus(); }, []);
  return html`<form onSubmit=${(e) => { e.preventDefault(); onSave(subject, body); }}>
    <div class="field"><label for=${`${idPrefix}-subject`}>Subject</label>
      <input ref=${first} id=${`${idPrefix}-subject`} class="wide" value=${subject} onInput=${(e) => setSubject(e.target.value)} /></div>
    <div class="field"><label for=${`${idPrefix}-body`}>Message</label>
      <textarea id=${`${idPrefix}-body`} value=${body} onInput=${(e) => setBody(e.target.value)}></textarea></div>
    <div class="toolbar"><button class="primary" type="submit">Save</button><button type="button" onClick=${onCancel}>Cancel</button></div>
  </form>`;
}

function typing(event) {
  const tag = (event.target.tagName || "").toLowerCase();
  return tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable;
}

// Approvals and rejections are shown at once and sent when the undo window closes.
function usePending(api, notify, onSettled) {
  const pending = useRef(new Map());
  const [toast, setToast] = useState(null);

  const flush = useCallback(async (key) => {
    const entry = pending.current.get(key);
    if (!entry) return;
    pending.current.delete(key);
    clearTimeout(entry.timer);
    setToast((t) => (t && t.key === key ? null : t));
    try {
      const result = await api("drafts/decide", { method: "POST", body: { ids: entry.items.map((d) => d.id), decision: entry.decision } });
      if (result.unchanged.length) {
        notify(`${result.unchanged.length} message(s) were no longer drafts and did not change.`);
      }
      onSettled(entry, result);
    } catch (err) {
      notify(err.message);
      onSettled(entry, null);
    }
  }, [api]);

  useEffect(() => {
    const flushAll = () => { for (const key of [...pending.current.keys()]) flush(key); };
    window.addEventListener("pagehide", flushAll);
    return () => { window.removeEventListener("pagehide", flushAll); flushAll(); };
  }, [flush]);

  function add(items, decision) {
    const key = `${Date.now()}-${Math.random()}`;
    const timer = setTimeout(() => flush(key), UNDO_MS);
    pending.current.set(key, { items, decision, timer });
    const verb = decision === "approve" ? "Approved" : "Rejected";
    setToast({ key, text: `${verb} ${items.length} draft${items.length === 1 ? "" : "s"}.` });
  }

  function undo(key) {
    const entry = pending.current.get(key);
    if (!entry) return null;
    clearTimeout(entry.timer);
    pending.current.delete(key);
    setToast(null);
    return entry;
  }

  return { add, undo, toast };
}

function Review({ api, org, notify }) {
  const [drafts, setDrafts] = useState(null);
  const [total, setTotal] = useState(0);
  const [next, setNext] = useState(null);
  const [current, setCurrent] = useState(0);
  const [selected, setSelected] = useState(new Set());
  const [editing, setEditing] = useState(null);
  const list = useRef(null);

  const load = useCallback(async (after) => {
    try {
      const data = await api("drafts", { query: { org, after } });
      setDrafts((old) => (after ? [...(old || []), ...data.drafts] : data.drafts));
      if (data.total !== null) setTotal(data.total);
      setNext(data.next);
    } catch (err) {
      notify(err.message);
    }
  }, [org]);
  useEffect(() => { setDrafts(null); setSelected(new Set()); load(null); }, [load]);

  const pending = usePending(api, notify, (entry, result) => {
    if (result) {
      setTotal((t) => Math.max(0, t - result.changed.length));
      notify(`${entry.decision === "approve" ? "Approved" : "Rejected"}: ${result.changed.length} saved.`);
    } else {
      setDrafts((old) => [...entry.items, ...(old || [])]); // not saved: back in the queue
    }
  });

  function decide(items, decision) {
    if (!items.length) return;
    const ids = new Set(items.map((d) => d.id));
    setDrafts((old) => old.filter((d) => !ids.has(d.id)));
    setSelected(new Set());
    setEditing(null);
    pending.add(items, decision);
  }

  function undo() {
    const entry = pending.toast && pending.undo(pending.toast.key);
    if (entry) {
      setDrafts((old) => [...entry.items, ...old].sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : 1)));
      notify("Undone.");
    }
  }

  async function save(draft, subject, body) {
    try {
      const row = await api(`drafts/${draft.id}`, { method: "POST", body: { subject, body } });
      setDrafts((old) => old.map((d) => (d.id === draft.id ? { ...d, subject: row.subject, body: row.body } : d)));
      setEditing(null);
      notify("Saved.");
    } catch (err) {
      notify(err.message);
    }
  }

  // Keys may come faster than the page renders: the current draft is also kept in a ref.
  const currentRef = useRef(0);
  currentRef.current = Math.min(currentRef.current, Math.max((drafts || []).length - 1, 0));
  const move = (i) => { currentRef.current = i; setCurrent(i); };

  useEffect(() => {
    function onKey(event) {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey || !drafts || editing) return;
      const draft = drafts[currentRef.current];
      if (event.key === "j") move(Math.min(currentRef.current + 1, drafts.length - 1));
      else if (event.key === "k") move(Math.max(currentRef.current - 1, 0));
      else if (event.key === "a" && draft) decide([draft], "approve");
      else if (event.key === "e" && draft) setEditing(draft.id);
      else if (event.key === "x" && draft) toggle(draft.id);
      else return;
      event.preventDefault();
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [drafts, current, editing]);

  useEffect(() => {
    if (!drafts || !list.current) return;
    if (current >= drafts.length && drafts.length) move(drafts.length - 1);
    const node = list.current.querySelector(".draft.current");
    if (node && !editing && !node.contains(document.activeElement)) node.focus({ preventScroll: false });
  }, [current, drafts]);

  function toggle(id) {
    setSelected((old) => {
      const copy = new Set(old);
      copy.has(id) ? copy.delete(id) : copy.add(id);
      return copy;
    });
  }

  if (!drafts) return html`<p class="muted">Loading drafts…</p>`;
  const chosen = drafts.filter((d) => selected.has(d.id));
  return html`<section aria-labelledby="review-title">
    <h2 id="review-title">Review queue <span class="muted">(${total} waiting)</span></h2>
    <p class="muted">Keys: j and k move, a approves, e edits, x selects.</p>
    <div class="toolbar">
      <button class="primary" disabled=${!chosen.length} onClick=${() => decide(chosen, "approve")}>Approve selected (${chosen.length})</button>
      <button disabled=${!chosen.length} onClick=${() => decide(chosen, "reject")}>Reject selected</button>
    </div>
    <div ref=${list}>
    ${drafts.map((d, i) => html`<article key=${d.id} class=${`draft${i === current ? " current" : ""}`} data-draft=${d.id}
        tabindex="-1" aria-label=${`Draft to ${d.email || d.company}`} onFocusin=${() => move(i)}>
      <div>
        <div class="meta">
          <label><input type="checkbox" checked=${selected.has(d.id)} onChange=${() => toggle(d.id)} />
            <span class="visually-hidden">Select the draft to ${d.email || d.company}</span></label>
          ${d.flow_type === "form_submission" ? "Form message" : d.step > 0 ? `Follow-up ${d.step}` : "First message"}${" to "}<strong>${d.name || ""} ${d.email || d.form_site}</strong> · ${d.company} · ${d.campaign_name}
        </div>
        ${editing === d.id
          ? html`<${DraftEditor} draft=${d} idPrefix=${`edit-${d.id}`} onSave=${(s, b) => save(d, s, b)} onCancel=${() => setEditing(null)} />`
          : html`<h3 class="subject">${d.subject || "(no subject)"}</h3><pre class="text body">${d.body}</pre>
            <div class="toolbar">
              <button class="primary" onClick=${() => decide([d], "approve")}>Approve</button>
              <button onClick=${() => setEditing(d.id)}>Edit</button>
              <button class="danger" onClick=${() => decide([d], "reject")}>Reject</button>
            </div>`}
      </div>
      <${Grounding} draft=${d} />
    </article>`)}
    </div>
    ${drafts.length === 0 ? html`<p class="muted">Nothing to review.</p>` : ""}
    ${next ? html`<button onClick=${() => load(next)}>Load more</button>` : ""}
    ${pending.toast ? html`<div class="toast" role="status"><span>${pending.toast.text}</span><button onClick=${undo}>Undo</button></div>` : ""}
  </section>`;
}

// -- inbox -----------------------------------------------------------------------------------

function Thread({ api, message, notify }) {
  const [data, setData] = useState(null);
  const [editing, setEditing] = useState(false);
  const load = useCallback(() => api(`inbox/${message.id}/thread`).then(setData, (e) => notify(e.message)), [message.id]);
  useEffect(() => { setData(null); load(); }, [load]);
  if (!data) return html`<p class="muted">Loading the conversation…</p>`;
  const draft = data.reply_draft;

  async function save(subject, body) {
    try {
      await api(`drafts/${draft.id}`, { method: "POST", body: { subject, body } });
      setEditing(false);
      notify("Saved.");
      load();
    } catch (err) {
      notify(err.message);
    }
  }

  async function approve() {
    try {
      const result = await api("drafts/decide", { method: "POST", body: { ids: [draft.id], decision: "approve" } });
      notify(result.changed.length ? "Approved." : "It was no longer a draft.");
      load();
    } catch (err) {
      notify(err.message);
    }
  }

  return html`<div class="thread" aria-label="Conversation">
    ${data.thread.filter((t) => t.status !== "draft").map((t) => html`<div key=${t.id} class=${`bubble ${t.side}`}>
      <div class="muted">${t.side === "ours" ? "We wrote" : "They wrote"} · ${fmtDate(t.at)} · ${t.status}</div>
      <strong>${t.subject || ""}</strong><pre class="text">${t.text || ""}</pre></div>`)}
    <h3>Draft waiting in this conversation</h3>
    ${!draft ? html`<p class="muted">No draft waiting.</p>`
      : editing ? html`<${DraftEditor} draft=${{ subject: draft.subject, body: draft.text }} idPrefix="reply" onSave=${save} onCancel=${() => setEditing(false)} />`
      : html`<strong>${draft.subject}</strong><pre class="text">${draft.text}</pre>
        <div class="toolbar"><button class="primary" onClick=${approve}>Approve reply</button><button onClick=${() => setEditing(true)}>Edit reply</button></div>`}
  </div>`;
}

function Inbox({ api, org, notify }) {
  const [intent, setIntent] = useState("");
  const [messages, setMessages] = useState(null);
  const [quarantined, setQuarantined] = useState([]);
  const [next, setNext] = useState(null);
  const [open, setOpen] = useState(null);

  const load = useCallback(async (before) => {
    try {
      const data = await api("inbox", { query: { org, intent, before } });
      setMessages((old) => (before ? [...(old || []), ...data.messages] : data.messages));
      if (!before) setQuarantined(data.quarantined);
      setNext(data.next);
    } catch (err) {
      notify(err.message);
    }
  }, [org, intent]);
  useEffect(() => { setMessages(null); setOpen(null); load(null); }, [load]);

  async function readAgain(item) {
    try {
      await api(`quarantine/${item.id}/read-again`, { method: "POST" });
      setQuarantined((old) => old.map((q) => (q.id === item.id ? { ...q, read_again: true } : q)));
      notify("It will be read again at the next sync.");
    } catch (err) {
      notify(err.message);
    }
  }

  return html`<section aria-labelledby="inbox-title">
    <h2 id="inbox-title">Inbox</h2>
    <div class="toolbar"><label for="inbox-intent">Show</label>
      <select id="inbox-intent" value=${intent} onChange=${(e) => setIntent(e.target.value)}>
        <option value="">every answer</option>
        ${INTENTS.map(([name, label]) => html`<option key=${name} value=${name}>${label}</option>`)}
      </select></div>
    ${!messages ? html`<p class="muted">Loading…</p>` : html`<div class="split">
      <div><div class="list" role="list">
        ${messages.map((msg) => html`<div role="listitem" key=${msg.id}><button class="item inbox-message" aria-pressed=${open && open.id === msg.id}
            data-message=${msg.id} onClick=${() => setOpen(msg)}>
          <strong>${msg.contact_name || msg.from_address}</strong> · <span class="intent">${msg.intent ? intentLabel(msg.intent) : "not read yet"}</span>
          ${msg.needs_review ? html` <span class="needs-review">needs review</span>` : ""}
          <div>${msg.subject || "(no subject)"}</div><div class="muted">${fmtDate(msg.received_at)} · ${msg.campaign_name || ""}</div>
        </button></div>`)}
        </div>
        ${messages.length === 0 ? html`<p class="muted">No answers yet.</p>` : ""}
        ${next ? html`<button onClick=${() => load(next)}>Load more</button>` : ""}
        ${quarantined.length ? html`<h3>Set aside by the mailbox reader</h3><ul class="quarantine">${quarantined.map((q) => html`<li key=${q.id} data-quarantine=${q.id}>
          <strong>${q.problem === "unverified" ? "Not believed" : "Could not be read"}</strong> · ${q.mailbox} · ${fmtDate(q.created_at)}
          <div>${q.from_address || "unknown sender"} · ${q.subject || "(no subject)"}</div><div class="muted">${q.reason}</div>
          ${q.read_again ? html`<span class="muted">Will be read again at the next sync.</span>`
            : html`<button onClick=${() => readAgain(q)}>Read again<span class="visually-hidden"> ${q.subject || q.id}</span></button>`}
        </li>`)}</ul>` : ""}
      </div>
      <div>${open ? html`<${Thread} api=${api} message=${open} notify=${notify} />` : html`<p class="muted">Choose a message to read its conversation.</p>`}</div>
    </div>`}
  </section>`;
}

// -- mailboxes -------------------------------------------------------------------------------

function AddMailbox({ api, org, notify, onAdded }) {
  const [form, setForm] = useState({ email: "", smtp_url: "", imap_url: "", daily_cap: 40 });
  const set = (key) => (e) => setForm({ ...form, [key]: e.target.value });
  async function submit(event) {
    event.preventDefault();
    try {
      await api("mailboxes", { method: "POST", body: { ...form, organization_id: org, imap_url: form.imap_url || null, daily_cap: Number(form.daily_cap) } });
      setForm({ email: "", smtp_url: "", imap_url: "", daily_cap: 40 });
      notify("Mailbox added.");
      onAdded();
    } catch (err) {
      notify(err.message);
    }
  }
  return html`<form onSubmit=${submit} aria-labelledby="add-mailbox-title">
    <h3 id="add-mailbox-title">Add a mailbox</h3>
    <div class="field"><label for="mb-email">Address</label><input id="mb-email" type="email" required value=${form.email} onInput=${set("email")} /></div>
    <div class="field"><label for="mb-smtp">SMTP URL (with its password)</label><input id="mb-smtp" class="wide" type="password" autocomplete="off" required value=${form.smtp_url} onInput=${set("smtp_url")} /></div>
    <div class="field"><label for="mb-imap">IMAP URL (optional)</label><input id="mb-imap" class="wide" type="password" autocomplete="off" value=${form.imap_url} onInput=${set("imap_url")} /></div>
    <div class="field"><label for="mb-cap">Daily cap</label><input id="mb-cap" type="number" min="1" max="10000" value=${form.daily_cap} onInput=${set("daily_cap")} /></div>
    <button class="primary" type="submit">Add mailbox</button>
  </form>`;
}

// Complaints per delivered message, as a percentage; a dash before any mail went out.
function complaintRate(rate, delivered) {
  if (!delivered || rate === null || rate === undefined) return "—";
  return `${(100 * Number(rate)).toFixed(2)}%`;
}

function Complaints({ rate }) {
  if (rate === undefined) return html`<span class="muted">…</span>`;
  if (rate === null) return html`<span class="muted">—</span>`;
  const high = rate.complaint_rate_7d !== null && rate.complaint_rate_7d >= rate.gmail_target_rate;
  return html`${complaintRate(rate.complaint_rate_7d, rate.delivered_7d)} in 7 days · ${complaintRate(rate.complaint_rate_30d, rate.delivered_30d)} in 30
    <div class=${high ? "error" : "muted"}>${rate.standing_7d} (keep under 0.1%, never 0.3%)</div>`;
}

function Mailboxes({ api, org, admin, notify }) {
  const [rows, setRows] = useState(null);
  const [rates, setRates] = useState(null);
  const load = useCallback(() => {
    api("mailboxes", { query: { org } }).then((d) => setRows(d.mailboxes), (e) => notify(e.message));
    // Counting a month of delivered mail takes longer: the rates fill in after the list.
    api("mailboxes/complaints", { query: { org } }).then(
      (d) => setRates(Object.fromEntries(d.complaint_rates.map((r) => [r.mailbox_id, r]))),
      () => setRates({}));
  }, [org]);
  useEffect(() => { load(); }, [load]);

  async function setActive(mailbox, active) {
    try {
      await api(`mailboxes/${mailbox.id}/active`, { method: "POST", body: { active } });
      notify(`${mailbox.email}: ${active ? "resumed" : "paused"}`);
      load();
    } catch (err) {
      notify(err.message);
    }
  }

  if (!rows) return html`<p class="muted">Loading mailboxes…</p>`;
  return html`<section aria-labelledby="mailboxes-title">
    <h2 id="mailboxes-title">Mailboxes</h2>
    <table>
      <thead><tr><th scope="col">Mailbox</th><th scope="col">State</th><th scope="col">Today</th><th scope="col">Ramp</th>
        <th scope="col">Sending</th><th scope="col">Domain</th><th scope="col">Complaints</th><th scope="col">Reading</th>${admin ? html`<th scope="col">Actions</th>` : ""}</tr></thead>
      <tbody>${rows.map((mb) => html`<tr key=${mb.id} data-mailbox=${mb.id}>
        <th scope="row">${mb.email}<div class="muted">${mb.smtp_endpoint}</div></th>
        <td>${mb.active ? html`<span class="status-active">active</span>` : html`<span class="status-paused">paused</span>`}
          ${mb.paused_reason ? html`<div>${mb.paused_reason}</div>` : ""}</td>
        <td>${mb.sent_today} of ${mb.cap_today}<div class="muted">cap ${mb.daily_cap}</div></td>
        <td>${mb.ramp_start ? `${mb.ramp_start} + ${mb.ramp_step} a day` : "off"}</td>
        <td>${mb.smtp_error ? html`<span class="error">${mb.smtp_error}</span><div class="muted">${fmtDate(mb.smtp_error_at)}</div>` : "ok"}</td>
        <td class="domain">${mb.domain}: <span class=${mb.domain_status === "held" ? "error" : mb.domain_status === "ok" ? "ok" : "muted"}>${mb.domain_status || "not checked yet"}</span>
          ${mb.domain_problem ? html`<div class="domain-problem">${mb.domain_problem}</div>` : ""}</td>
        <td class="complaints"><${Complaints} rate=${rates ? rates[mb.id] || null : undefined} /></td>
        <td>${mb.imap_endpoint ? html`${mb.imap_error ? html`<span class="error">${mb.imap_error}</span>` : "ok"}<div class="muted">last read ${fmtDate(mb.last_synced_at)}</div>` : "not read"}</td>
        ${admin ? html`<td>${mb.active
          ? html`<button onClick=${() => setActive(mb, false)}>Pause<span class="visually-hidden"> ${mb.email}</span></button>`
          : html`<button class="primary" onClick=${() => setActive(mb, true)}>Resume<span class="visually-hidden"> ${mb.email}</span></button>`}</td>` : ""}
      </tr>`)}</tbody>
    </table>
    ${rows.length === 0 ? html`<p class="muted">No mailbox: mail goes out through the deployment's transport.</p>` : ""}
    ${admin ? html`<${AddMailbox} api=${api} org=${org} notify=${notify} onAdded=${load} />` : ""}
  </section>`;
}

// -- contacts --------------------------------------------------------------------------------

function ContactDetails({ api, contact, notify, onChanged }) {
  const [data, setData] = useState(null);
  const [reason, setReason] = useState("asked the team to stop");
  useEffect(() => { api(`contacts/${contact.id}`).then((d) => setData(d.data), (e) => notify(e.message)); }, [contact.id]);

  function exportJson() {
    const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `contact-${contact.email || contact.form_site}.json`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  async function unsubscribe(event) {
    event.preventDefault();
    try {
      await api(`contacts/${contact.id}/unsubscribe`, { method: "POST", body: { reason } });
      notify(`${contact.email || contact.form_site} is unsubscribed.`);
      onChanged();
    } catch (err) {
      notify(err.message);
    }
  }

  if (!data) return html`<p class="muted">Loading…</p>`;
  return html`<div aria-label="Everything held about this person">
    <div class="toolbar"><button onClick=${exportJson}>Export as JSON</button></div>
    ${contact.unsubscribe_requested ? html`<p>Unsubscribed.</p>` : html`<form class="toolbar" onSubmit=${unsubscribe}>
      <label for="unsub-reason">Reason</label><input id="unsub-reason" value=${reason} onInput=${(e) => setReason(e.target.value)} />
      <button class="danger" type="submit">Unsubscribe</button></form>`}
    <pre class="text contact-data">${JSON.stringify(data, null, 2)}</pre>
  </div>`;
}

function Contacts({ api, org, notify }) {
  const [query, setQuery] = useState("");
  const [rows, setRows] = useState(null);
  const [next, setNext] = useState(null);
  const [open, setOpen] = useState(null);

  const search = useCallback(async (before) => {
    try {
      const data = await api("contacts", { query: { org, q: query, before } });
      setRows((old) => (before ? [...(old || []), ...data.contacts] : data.contacts));
      setNext(data.next);
    } catch (err) {
      notify(err.message);
    }
  }, [org, query]);
  useEffect(() => { search(null); }, [org]);

  return html`<section aria-labelledby="contacts-title">
    <h2 id="contacts-title">Contacts</h2>
    <form class="toolbar" role="search" onSubmit=${(e) => { e.preventDefault(); setOpen(null); search(null); }}>
      <label for="contact-search">Address, name or company starts with</label>
      <input id="contact-search" type="search" value=${query} onInput=${(e) => setQuery(e.target.value)} />
      <button type="submit">Search</button>
    </form>
    ${!rows ? html`<p class="muted">Loading…</p>` : html`<div class="split">
      <div class="list" role="list">${rows.map((c) => html`<div role="listitem" key=${c.id}><button class="item contact" aria-pressed=${open && open.id === c.id} onClick=${() => setOpen(c)}>
        <strong>${c.email || c.form_site}</strong> ${c.name || ""}<div class="muted">${c.company} · ${c.reached_status}</div></button></div>`)}
        ${rows.length === 0 ? html`<p class="muted">No contact found.</p>` : ""}
        ${next ? html`<button onClick=${() => search(next)}>Load more</button>` : ""}
      </div>
      <div>${open ? html`<${ContactDetails} key=${open.id} api=${api} contact=${open} notify=${notify}
          onChanged=${() => { setOpen({ ...open, unsubscribe_requested: true }); search(null); }} />` : ""}</div>
    </div>`}
  </section>`;
}

// -- the page --------------------------------------------------------------------------------

function App() {
  const [config, setConfig] = useState(null);
  const [fragmentError, setFragmentError] = useState(null);
  const [session, setSessionState] = useState(() => {
    const fromFragment = sessionFromFragment();
    if (fromFragment.session) saveSession(fromFragment.session);
    if (fromFragment.error) setTimeout(() => setFragmentError(fromFragment.error));
    return fromFragment.session || loadSession();
  });
  const sessionRef = useRef(session);
  const [me, setMe] = useState(null);
  const [org, setOrg] = useState(null);
  const [view, setView] = useState("campaigns");
  const [message, setMessage] = useState("");

  const setSession = useCallback((value) => { sessionRef.current = value; saveSession(value); setSessionState(value); }, []);
  const signOut = useCallback(() => { setSession(null); setMe(null); }, []);
  const api = useCallback(makeApi(() => sessionRef.current, signOut), []);

  useEffect(() => { fetch(new URL("config", API)).then((r) => r.json()).then(setConfig, () => setConfig({})); }, []);

  // Refresh the token a minute before it expires (Supabase Auth's refresh_token grant).
  useEffect(() => {
    if (!session || !session.expires_at) return undefined;
    const wait = session.expires_at * 1000 - Date.now() - 60_000;
    if (!session.refresh_token) {
      const timer = setTimeout(signOut, Math.max(wait + 60_000, 0));
      return () => clearTimeout(timer);
    }
    const timer = setTimeout(async () => {
      try {
        setSession(sessionOf(await authCall(config || {}, "token?grant_type=refresh_token", { refresh_token: session.refresh_token })));
      } catch {
        signOut();
      }
    }, Math.max(wait, 0));
    return () => clearTimeout(timer);
  }, [session, config]);

  useEffect(() => {
    if (!session) return;
    api("me").then((data) => {
      setMe(data);
      if (data.organizations.length) setOrg((o) => o || data.organizations[0].organization_id);
    }, (err) => setMessage(err.message));
  }, [session]);

  if (!session) return html`<${SignIn} config=${config} onSession=${setSession} error=${fragmentError} />`;
  if (!me) return html`<p class="loading">Signing in…</p>`;
  const membership = me.organizations.find((o) => o.organization_id === org);
  const admin = membership && membership.role === "admin";
  const props = { api, org, admin, notify: setMessage };
  return html`<div>
    <header>
      <h1>Outreach</h1>
      ${me.organizations.length > 1
        ? html`<label for="org-picker">Organization</label>
          <select id="org-picker" value=${org} onChange=${(e) => setOrg(e.target.value)}>
            ${me.organizations.map((o) => html`<option key=${o.organization_id} value=${o.organization_id}>${o.org_name}</option>`)}</select>`
        : html`<span class="org-name">${membership ? membership.org_name : "No organization"}</span>`}
      <span class="muted role">${membership ? membership.role : ""}</span>
      <nav aria-label="Views"><ul>${VIEWS.map(([key, label]) => html`<li key=${key}>
        <button data-view=${key} aria-current=${view === key ? "page" : undefined} onClick=${() => { setMessage(""); setView(key); }}>${label}</button></li>`)}</ul></nav>
      <button onClick=${signOut}>Sign out</button>
    </header>
    <main>
      <p role="status" aria-live="polite" class="notice">${message}</p>
      ${!org ? html`<p>You are not a member of any organization.</p>`
        : view === "campaigns" ? html`<${Campaigns} key=${org} ...${props} />`
        : view === "review" ? html`<${Review} key=${org} ...${props} />`
        : view === "inbox" ? html`<${Inbox} key=${org} ...${props} />`
        : view === "mailboxes" ? html`<${Mailboxes} key=${org} ...${props} />`
        : html`<${Contacts} key=${org} ...${props} />`}
    </main>
  </div>`;
}

render(html`<${App} />`, document.getElementById("app"));
