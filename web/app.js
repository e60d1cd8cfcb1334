// facetrail web application: plain JavaScript, no build step, no external resources.
// Talks only to /api/v1 on the same origin; the session cookie is HttpOnly, the CSRF token is
// kept in memory and sent as X-CSRF-Token on every state change. No innerHTML with data: every
// value is inserted as text.
'use strict';

const state = { user: null, csrf: '', config: null, probe: null, probeUrl: '', analysis: null, lastSearch: null };

// ---- DOM helpers ----
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
function svgEl(tag, attrs, ...children) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
const main = () => document.getElementById('main');
function show(...nodes) { const m = main(); m.replaceChildren(...nodes.filter(n => n !== null && n !== undefined)); m.focus(); }
// Every route() bumps routeSeq. A page that waits for the API first takes `const show = view();`:
// its render is dropped when the user has gone to another page meanwhile (otherwise a slow page
// could replace the one asked for later).
let routeSeq = 0;
function view() { const seq = routeSeq; return (...nodes) => { if (seq === routeSeq) show(...nodes); }; }
function flash(kind, text) { const f = document.getElementById('flash'); f.replaceChildren(text ? el('div', { class: kind }, text) : ''); }
function hasRole(r) { return state.user && state.user.roles.includes(r); }
// A table in its own horizontal scroller (tablets: the page never scrolls sideways). While the
// table is wider than its scroller, the scroller is a Tab stop so a keyboard can scroll it too.
const scrollers = new ResizeObserver(entries => {
  for (const { target: w } of entries) {
    if (!w.isConnected) scrollers.unobserve(w);
    else if (w.scrollWidth > w.clientWidth) w.setAttribute('tabindex', '0');
    else w.removeAttribute('tabindex');
  }
});
function scroller(label, table) {
  const w = el('div', { class: 'table-wrap', role: 'region', 'aria-label': label }, table);
  scrollers.observe(w);
  return w;
}

// ---- API ----
class ApiError extends Error { constructor(status, code, message) { super(message); this.status = status; this.code = code; } }
async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET') opts.headers['X-CSRF-Token'] = state.csrf;
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) { opts.headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(body); }
  const res = await fetch('/api/v1' + path, opts);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = data.error || { code: 'http_' + res.status, message: res.statusText };
    if (res.status === 401 && path !== '/login') { state.user = null; renderChrome(); }
    throw new ApiError(res.status, e.code, e.message);
  }
  return data;
}
function errorBox(e) {
  const refused = e.status === 403;
  return el('div', { class: refused ? 'refused' : 'error', role: 'alert', 'data-code': e.code || '' },
    el('strong', {}, refused ? 'Refused (' + e.code + '): ' : 'Error (' + (e.code || 'unknown') + '): '), e.message);
}

// ---- Chrome ----
const pages = [
  { hash: '#/search', label: 'New search', role: 'searcher' },
  { hash: '#/requests', label: 'My requests', role: 'searcher' },
  { hash: '#/reviews', label: 'Reviews', role: 'examiner' },
  { hash: '#/dashboard', label: 'Dashboard', roles: ['supervisor', 'auditor'] },
  { hash: '#/supervision', label: 'Supervision', roles: ['supervisor', 'auditor'] },
  { hash: '#/admin', label: 'Users', role: 'admin' },
];
function renderChrome() {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  if (!state.user) { nav.replaceChildren(); who.replaceChildren(); return; }
  const current = location.hash.split('/').slice(0, 2).join('/');
  nav.replaceChildren(...pages.filter(p => p.role ? hasRole(p.role) : p.roles.some(hasRole))
    .map(p => el('a', { href: p.hash, 'aria-current': current === p.hash ? 'page' : null }, p.label)));
  who.replaceChildren(state.user.full_name + ' (' + state.user.roles.join(', ') + ')',
    el('button', { class: 'secondary', id: 'logout', onclick: logout }, 'Sign out'));
}
async function logout() {
  try { await api('POST', '/logout'); } catch (e) { /* already signed out */ }
  state.user = null; state.csrf = ''; location.hash = '#/login'; renderChrome(); route();
}

// ---- Sign-in ----
function loginPage() {
  const name = el('input', { type: 'text', id: 'login-name', autocomplete: 'username', required: true });
  const pw = el('input', { type: 'password', id: 'login-password', autocomplete: 'current-password', required: true });
  const msg = el('div');
  const form = el('form', { class: 'card', id: 'login-form', onsubmit: async ev => {
    ev.preventDefault();
    try {
      const r = await api('POST', '/login', { name: name.value, password: pw.value });
      state.user = r.user; state.csrf = r.csrf_token; state.config = await api('GET', '/config');
      location.hash = defaultPage(); renderChrome(); route();
    } catch (e) { msg.replaceChildren(errorBox(e)); pw.value = ''; pw.focus(); }
  } }, el('h1', {}, 'Sign in'), el('label', { for: 'login-name' }, 'User name'), name,
    el('label', { for: 'login-password' }, 'Password'), pw, el('p', {}, el('button', { type: 'submit' }, 'Sign in')), msg);
  show(el('div', { class: 'grid2' }, form, el('div', { class: 'card' }, el('h2', {}, 'facetrail'),
    el('p', {}, 'Face search for case work, with two-examiner review. Every search is recorded in a tamper-evident audit log with its case, purpose and justification.'),
    el('p', { class: 'notice' }, 'A candidate list is an investigative lead only — not a positive identification. Human review required.'))));
  name.focus();
}
function defaultPage() {
  if (hasRole('searcher')) return '#/search';
  if (hasRole('examiner')) return '#/reviews';
  if (hasRole('supervisor') || hasRole('auditor')) return '#/dashboard';
  return '#/admin';
}

// ---- New search ----
function searchPage() {
  const cfg = state.config || { purposes: [], home_agency: '' };
  const fileInput = el('input', { type: 'file', id: 'probe-file', accept: 'image/jpeg,image/png,image/webp,image/bmp' });
  const drop = el('div', { class: 'drop', tabindex: '0', role: 'button', 'aria-label': 'Choose or drop a probe image' },
    'Drop the probe image here, or press Enter to choose a file');
  const preview = el('div', { id: 'probe-preview' });
  const facesBox = el('div', { class: 'faces', id: 'faces' });
  const result = el('div', { id: 'search-result' });
  drop.addEventListener('click', () => fileInput.click());
  drop.addEventListener('keydown', ev => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); fileInput.click(); } });
  drop.addEventListener('dragover', ev => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', ev => { ev.preventDefault(); drop.classList.remove('over'); if (ev.dataTransfer.files[0]) choose(ev.dataTransfer.files[0]); });
  fileInput.addEventListener('change', () => { if (fileInput.files[0]) choose(fileInput.files[0]); });

  async function choose(file) {
    state.probe = file; state.analysis = null;
    if (state.probeUrl) URL.revokeObjectURL(state.probeUrl);
    state.probeUrl = URL.createObjectURL(file);
    facesBox.replaceChildren(el('p', { class: 'muted' }, 'Detecting faces…'));
    preview.replaceChildren();
    const fd = new FormData(); fd.append('probe', file, file.name);
    try {
      state.analysis = await api('POST', '/probes/analyze', fd);
      drawFaces();
    } catch (e) { facesBox.replaceChildren(errorBox(e)); }
  }
  function drawFaces() {
    const a = state.analysis;
    const svg = svgEl('svg', { viewBox: `0 0 ${a.width} ${a.height}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' });
    const img = el('img', { src: state.probeUrl, alt: 'Probe image' });
    preview.replaceChildren(el('div', { class: 'probe-wrap' }, img, svg));
    if (!a.faces.length) { facesBox.replaceChildren(el('div', { class: 'error' }, 'No face found in this image.')); return; }
    const best = a.faces.findIndex(f => f.quality_ok);
    const items = a.faces.map((f, i) => {
      const rect = svgEl('rect', { x: f.box.x, y: f.box.y, width: f.box.width, height: f.box.height, class: f.quality_ok ? 'face-ok' : 'face-bad' });
      svg.append(rect, svgEl('text', { x: f.box.x + 4, y: f.box.y + 18, fill: '#fff', 'font-size': Math.max(14, a.width / 40) }, String(i + 1)));
      const radio = el('input', { type: 'radio', name: 'face', value: String(i), id: 'face-' + i, checked: i === (best < 0 ? 0 : best) });
      radio.addEventListener('change', () => svg.querySelectorAll('rect').forEach((r, j) => r.classList.toggle('face-chosen', j === i)));
      const q = f.quality;
      return el('label', { for: 'face-' + i }, radio, el('span', {}, el('strong', {}, 'Face ' + (i + 1) + ' '),
        f.quality_ok ? el('span', { class: 'badge released' }, 'quality OK') : el('span', { class: 'badge disputed' }, 'below the quality gate'),
        el('br'), el('span', { class: 'muted' }, `eye distance ${q.eye_distance_px.toFixed(0)} px · sharpness ${q.sharpness.toFixed(0)} · yaw ${q.yaw_deg.toFixed(0)}° · detector ${q.detector_score.toFixed(2)}`),
        f.quality_problem ? el('div', { class: 'muted' }, f.quality_problem) : null));
    });
    const hintBox = el('div', { id: 'quality-hint' });
    const showHint = i => hintBox.replaceChildren(a.faces[i].quality_ok ? '' : qualityHint(a.probe_sha256, '', 'analysis-sha256'));
    items.forEach((item, i) => item.querySelector('input').addEventListener('change', () => showHint(i)));
    facesBox.replaceChildren(el('h2', {}, 'Pick the face to search'), ...items, hintBox);
    svg.querySelectorAll('rect')[best < 0 ? 0 : best].classList.add('face-chosen');
    showHint(best < 0 ? 0 : best);
  }

  const caseIn = el('input', { type: 'text', id: 'case', required: true, placeholder: 'e.g. MPD-2026-0042', pattern: cfg.case_number_regex || null });
  const purpose = el('select', { id: 'purpose' }, ...cfg.purposes.map(p => el('option', { value: p }, p)));
  const offense = el('input', { type: 'text', id: 'offense', required: true });
  const agency = el('input', { type: 'text', id: 'agency', required: true, value: cfg.home_agency });
  const just = el('textarea', { id: 'justification', required: true });
  const form = el('form', { id: 'search-form', onsubmit: async ev => {
    ev.preventDefault();
    if (!state.probe) { result.replaceChildren(el('div', { class: 'error' }, 'Choose a probe image first.')); return; }
    const fd = new FormData();
    fd.append('probe', state.probe, state.probe.name);
    const chosen = document.querySelector('input[name=face]:checked');
    if (chosen) fd.append('face', chosen.value);
    fd.append('case', caseIn.value); fd.append('purpose', purpose.value); fd.append('offense', offense.value);
    fd.append('justification', just.value); fd.append('agency', agency.value);
    result.replaceChildren(el('p', { class: 'muted' }, 'Searching…'));
    try {
      state.lastSearch = await api('POST', '/searches', fd);
      location.hash = '#/request/' + state.lastSearch.request_id;
    } catch (e) {
      const sha = (state.analysis && state.analysis.probe_sha256) || (e.message.match(/[0-9a-f]{64}/) || [])[0];
      result.replaceChildren(errorBox(e), e.code === 'probe_quality' && sha ? qualityHint(sha, caseIn.value, 'probe-sha256') : '');
    }
  } }, el('label', { for: 'case' }, 'Case number'), caseIn, el('label', { for: 'purpose' }, 'Purpose'), purpose,
    el('label', { for: 'offense' }, 'Offence'), offense, el('label', { for: 'agency' }, 'Requesting agency'), agency,
    el('label', { for: 'justification' }, 'Justification'), just, el('p', {}, el('button', { type: 'submit', id: 'run-search' }, 'Run search')));
  show(el('h1', {}, 'New search'), el('div', { class: 'grid2' },
    el('div', { class: 'card' }, el('h2', {}, 'Probe'), drop, fileInput, preview, facesBox),
    el('div', { class: 'card' }, el('h2', {}, 'Request'), form, result)));
}

// What a searcher needs to ask a supervisor for a quality override: the probe's hash and the case.
function qualityHint(sha, caseNumber, hashId) {
  return el('div', { class: 'hint', id: hashId === 'probe-sha256' ? 'override-hint' : null },
    el('strong', {}, 'Below the quality gate'),
    el('p', {}, 'A search with this face is refused unless a supervisor approves a quality override for this probe and ' +
      (caseNumber ? 'case ' + caseNumber : 'your case') + '. Give the supervisor the case number and the probe\'s SHA-256:'),
    el('code', { class: 'hash', id: hashId }, sha));
}

// The candidate-list policy that made a list, as recorded with the request.
function policyText(p) {
  if (!p) return '';
  const source = p.threshold_source === 'department' ? "the department's threshold" : p.threshold_source === 'model calibration' ? "the model's calibrated threshold" : 'threshold source not recorded';
  return `List policy: at most ${p.max_list_length} candidates scoring at least ${Number(p.threshold).toFixed(3)} (${source}), model ${p.model.id} v${p.model.version}.`;
}

// ---- One request: candidates beside the probe, review, outcome ----
// What the model's calibration expects of a search with this probe (issue 18): the FNIR measured
// on the degradation ladder in the probe's quality bin (the worst of the ladder's degradations
// there, not their average), or why none is stated.
function expectationText(e) {
  if (!e) return 'Expected miss rate: not recorded (request made before it was recorded).';
  const figures = `effective eye distance ${Number(e.probe.effective_eye_distance_px).toFixed(1)} px, detail ${Number(e.probe.detail).toFixed(2)}`;
  if (e.fnir === null || e.fnir === undefined) return `Expected miss rate: not stated — ${e.note} (probe: ${figures}).`;
  const edge = v => v === null ? '∞' : String(v);
  return `Expected miss rate (FNIR) ${(100 * e.fnir).toFixed(1)} %: of searches with probes of this quality, that share did not list the mate first at score ≥ ${Number(e.threshold).toFixed(4)}, for the worst degradation measured so ` +
    `(probe: ${figures}; bin ${edge(e.bin.effective_eye_distance_px[0])}–${edge(e.bin.effective_eye_distance_px[1])} px × detail ${edge(e.bin.detail[0])}–${edge(e.bin.detail[1])}, ${e.searches_measured} searches measured on the degradation ladder). A lead from a poor probe needs more care, and an empty list says little.`;
}
function expectationNode(e, id) {
  const high = e && typeof e.fnir === 'number' && e.fnir >= 0.2;
  return el('p', { id, class: 'expected-fnir' + (high ? ' warn' : ''), 'data-fnir': e && typeof e.fnir === 'number' ? String(e.fnir) : '' }, expectationText(e));
}
// Every processing step applied to the probe, with why; an enhancement is marked as one.
function stepsNode(steps, id) {
  return el('ol', { id, class: 'case-steps' }, ...(steps || []).map(st => el('li', { 'data-kind': st.kind, class: st.enhancement ? 'enhancement' : '' },
    el('strong', {}, st.kind), st.enhancement ? el('span', { class: 'badge warn' }, ' enhancement ') : null, ' — ', st.why || 'why: not recorded', ' ',
    el('span', { class: 'hash' }, JSON.stringify(st.kind === 'select_face' && st.params ? { ...st.params, landmarks: st.params.landmarks ? `${st.params.landmarks.length} points` : undefined } : st.params)))));
}
async function requestPage(id) {
  const show = view();
  let lead;
  try { lead = await api('GET', '/searches/' + id); } catch (e) { show(el('h1', {}, 'Request ' + id), errorBox(e)); return; }
  const fresh = state.lastSearch && String(state.lastSearch.request_id) === String(id) ? state.lastSearch : null;
  const cands = lead.candidates.length ? lead.candidates : (fresh ? fresh.candidates : []);
  const canSeePhotos = hasRole('examiner') || hasRole('supervisor');
  const rows = cands.map(c => el('tr', {},
    el('td', {}, String(c.rank)),
    canSeePhotos ? el('td', {}, el('img', { class: 'thumb', alt: 'Booking photo ' + c.booking_number, src: `/api/v1/bookings/${encodeURIComponent(c.booking_number)}/photos/${c.photo_id}` })) : null,
    el('td', {}, c.booking_number), el('td', {}, c.score.toFixed(3)), el('td', { class: 'conclusion' }, c.conclusion || '—'), el('td', {}, c.notes || '')));
  const table = el('table', { id: 'candidates' }, el('caption', { class: 'muted' }, 'Candidates in rank order (score: cosine similarity)'),
    el('thead', {}, el('tr', {}, el('th', {}, 'Rank'), canSeePhotos ? el('th', {}, 'Photo') : null, el('th', {}, 'Booking'), el('th', {}, 'Score'), el('th', {}, 'Conclusion'), el('th', {}, 'Notes'))),
    el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: '6' }, 'No candidate above the threshold.'))));
  // The stored probe, exactly as uploaded (the server checks the role and audits every view).
  const probeSide = el('div', { class: 'card' }, el('h2', {}, 'Probe'),
    el('img', { src: `/api/v1/searches/${encodeURIComponent(id)}/probe`, alt: 'Probe image of request ' + id, class: 'probe-img', id: 'probe-img' }),
    el('p', { class: 'muted' }, 'Probe SHA-256 ', el('code', { class: 'hash' }, lead.probe_sha256)),
    expectationNode(lead.expected_fnir, 'expected-fnir'),
    el('p', { id: 'list-policy' }, policyText(lead.policy)),
    el('details', { id: 'probe-steps-box' }, el('summary', {}, `What was done to the probe (${(lead.probe_steps || []).length} steps, ${(lead.probe_steps || []).filter(s => s.enhancement).length} enhancements)`),
      stepsNode(lead.probe_steps, 'probe-steps')),
    el('p', {}, 'Case ', el('strong', {}, lead.case), el('br'), 'Purpose: ' + lead.purpose, el('br'), 'Requested by ' + lead.requester + ' at ' + lead.created_at),
    el('p', {}, 'Status ', el('span', { class: 'badge ' + lead.status, id: 'lead-status' }, lead.status)));
  const actions = el('div', { id: 'review-actions' });
  const me = state.user.name;
  // The side-by-side screen for those who may see candidate photos (examiners, supervisors).
  const viewer = canSeePhotos && cands.length ? comparisonViewer(lead, cands) : null;
  let examining = false;
  if (hasRole('examiner') && me !== lead.requester) {
    if (lead.status === 'pending_review') { actions.append(examineForm(lead, cands, 'examination', viewer)); examining = true; }
    if (lead.status === 'examined' && lead.examiner !== me) { actions.append(examineForm(lead, cands, 'verification', viewer)); examining = true; }
  }
  if (viewer && !examining) viewer.showCandidate(cands[0]);
  if (lead.status === 'disputed' && hasRole('supervisor') && me !== lead.requester) actions.append(decisionForm(lead));
  const records = examinationsCard(lead);
  if (records) actions.append(records);
  actions.append(historyCard(lead));
  if (lead.status === 'released' && me === lead.requester && !lead.outcome) actions.append(outcomeForm(lead));
  if (lead.outcome) actions.append(el('p', {}, 'Outcome: ', el('strong', {}, lead.outcome)));
  if (lead.status === 'released') actions.prepend(el('p', {}, el('a', { class: 'btn', id: 'case-file-link', href: `#/request/${id}/case` }, 'Case file (printable)')));
  show(el('h1', {}, 'Request ' + id), el('p', { class: 'notice', id: 'lead-notice' }, lead.notice),
    viewer ? viewer.node : null,
    el('div', { class: 'grid2' }, probeSide, el('div', {}, el('div', { class: 'card' }, scroller('Candidates', table)), actions)));
}
// ---- Side by side (issue 13): the probe and one candidate, original and aligned ----
// Both panes share one zoom and pan (wheel, drag, keyboard). "Aligned" shows the server's
// renderings (GET …/probe/aligned and …/photos/{id}/aligned: the recognizer's five-point
// alignment on one 512×512 frame, so eyes and mouth sit on the same lines); overlay and wipe mix
// those two pixel for pixel on one canvas. Brightness, contrast and gamma change only what is
// drawn here; the settings in use are recorded with the examination (viewing). Keys (not while
// typing): n/p candidate, + / − / 0 zoom, arrows pan (in the viewer), s original, a aligned,
// o overlay, w wipe, l landmarks, [ / ] move the wipe.
const VIEW_MODES = [['side_by_side', 'Original', 's'], ['aligned', 'Aligned', 'a'], ['overlay', 'Overlay', 'o'], ['wipe', 'Wipe', 'w']];
const BOOKING_FIELDS = [['booking_number', 'Booking'], ['name', 'Name'], ['dob', 'Date of birth'], ['sex', 'Sex'], ['booking_date', 'Booked'],
  ['agency', 'Agency'], ['charge', 'Charge'], ['status', 'Record status']];  // never race/ethnicity
// What a photo's source said that no booking field holds (an ANSI/NIST-ITL import: the Type-10
// attributes, the transaction header, the Type-2 fields no mapping used, as sent), as dt/dd
// pairs with data-field names; [] for a photo without an origin. Separators inside a raw field
// are shown as " | " (subfields) and " " (items).
function originPairs(p) {
  const o = p && p.origin;
  const out = [['photo-searchable', 'Searched', p ? (p.searchable ? 'yes' : 'no' + (p.note ? ' (' + p.note + ')' : '')) : null]];
  if (!o || typeof o !== 'object') return p && !p.searchable ? out : [];
  const f = o.face || {}, t = o.transaction || {};
  const pose = f.pose ? f.pose + (f.pose_offset_deg !== undefined ? ` ${f.pose_offset_deg}°` : '') : null;
  const raw = v => String(v).replace(/\x1e/g, ' | ').replace(/\x1f/g, ' ');
  out.push(['origin-format', 'Imported from', [o.format, o.file].filter(Boolean).join(', ')],
    ['origin-capture-date', 'Captured', p.capture_date],
    ['origin-pose', 'Pose (10.020)', pose],
    ['origin-sap', 'SAP (10.013)', f.sap],
    ['origin-source-agency', 'Source agency (10.004)', f.source_agency],
    ['origin-image', 'Image', [f.compression, f.width && f.height ? `${f.width}×${f.height}` : null, f.colour_space].filter(Boolean).join(', ')],
    ['origin-transaction', 'Transaction', [t.type_of_transaction && 'TOT ' + t.type_of_transaction, t.originating_agency && 'ORI ' + t.originating_agency,
      t.control_number && 'TCN ' + t.control_number, t.date && 'dated ' + t.date, t.version && 'version ' + t.version].filter(Boolean).join(', ')]);
  for (const [k, v] of Object.entries(o.unmapped || {})) out.push(['raw-' + k, 'Field ' + k + ' (as sent)', raw(v)]);
  return out;
}
function originNodes(p) {
  return originPairs(p).filter(([, , v]) => v !== null && v !== undefined && v !== '')
    .flatMap(([k, label, v]) => [el('dt', {}, label), el('dd', { 'data-field': k }, String(v))]);
}
// The pixels of an image, exactly as decoded (no colour conversion, no premultiplication).
async function pixelsOf(blob) {
  const bmp = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const c = document.createElement('canvas');
  c.width = bmp.width; c.height = bmp.height;
  const g = c.getContext('2d', { willReadFrequently: true });
  g.drawImage(bmp, 0, 0);
  bmp.close();
  return g.getImageData(0, 0, c.width, c.height);
}
async function fetchBlob(path) {
  const res = await fetch('/api/v1' + path, { credentials: 'same-origin' });
  if (!res.ok) {
    const data = await res.json().catch(() => ({}));
    const e = data.error || { code: 'http_' + res.status, message: res.statusText };
    throw new ApiError(res.status, e.code, e.message);
  }
  return res.blob();
}
// One side: the original's pixels and landmarks, the aligned rendering's pixels and landmarks.
async function loadSide(originalPath, alignedPath) {
  const [orig, al] = await Promise.all([fetchBlob(originalPath), api('GET', alignedPath)]);
  // (A data: URL is decoded here: the page's Content-Security-Policy lets fetch() reach only 'self'.)
  const png = Uint8Array.from(atob(al.image.slice(al.image.indexOf(',') + 1)), ch => ch.charCodeAt(0));
  const alBlob = new Blob([png], { type: 'image/png' });
  return { original: await pixelsOf(orig), originalMarks: al.source.landmarks,
    aligned: await pixelsOf(alBlob), alignedMarks: al.landmarks, eyeY: al.eye_line_y, mouthY: al.mouth_line_y, info: al };
}
// Viewing only: v' = 255·clamp(((v/255)^(1/gamma) − ½)·contrast + ½ + brightness).
function viewingLut(s) {
  const lut = new Uint8ClampedArray(256);
  for (let v = 0; v < 256; v++) {
    const y = (Math.pow(v / 255, 1 / s.gamma) - 0.5) * s.contrast + 0.5 + s.brightness;
    lut[v] = Math.round(Math.min(1, Math.max(0, y)) * 255);
  }
  return lut;
}
function isNeutral(s) { return s.brightness === 0 && s.contrast === 1 && s.gamma === 1; }
function adjusted(img, s) {
  if (isNeutral(s)) return img;
  const lut = viewingLut(s);
  const out = new ImageData(img.width, img.height);
  const a = img.data, o = out.data;
  for (let i = 0; i < a.length; i += 4) { o[i] = lut[a[i]]; o[i + 1] = lut[a[i + 1]]; o[i + 2] = lut[a[i + 2]]; o[i + 3] = 255; }
  return out;
}
// Overlay: round(p·(1 − α) + c·α); wipe: the probe left of column round(position·width), the
// candidate from there on. The same formulas as the e2e test's expectations.
function mixOverlay(p, c, alpha) {
  const out = new ImageData(p.width, p.height);
  const a = p.data, b = c.data, o = out.data;
  for (let i = 0; i < a.length; i += 4) {
    for (let k = 0; k < 3; k++) o[i + k] = Math.round(a[i + k] * (1 - alpha) + b[i + k] * alpha);
    o[i + 3] = 255;
  }
  return out;
}
function mixWipe(p, c, position) {
  const out = new ImageData(p.width, p.height);
  const split = Math.round(position * p.width);
  for (let y = 0; y < p.height; y++) {
    const row = y * p.width * 4;
    out.data.set(p.data.subarray(row, row + split * 4), row);
    out.data.set(c.data.subarray(row + split * 4, row + p.width * 4), row + split * 4);
  }
  return out;
}

function comparisonViewer(lead, cands) {
  const s = { brightness: 0, contrast: 1, gamma: 1, zoom: 1, panX: 0, panY: 0, overlay_opacity: 0.5, wipe_position: 0.5, mode: 'side_by_side', landmarks: false };
  const used = new Map();  // rank → viewing settings while it was shown (recorded with the examination)
  const cache = new Map();  // candidate key → Promise of its side
  let probeSide = null, current = -1, showSeq = 0, bookingSeq = 0, linked = null, drawQueued = false;
  let cand = null;  // the side shown for cands[current]
  const probeP = loadSide(`/searches/${lead.request_id}/probe`, `/searches/${lead.request_id}/probe/aligned`);
  const status = el('p', { class: 'muted', id: 'viewer-status', role: 'status' }, 'Loading…');

  const pane = (id, label) => {
    const canvas = el('canvas', { id: id + '-canvas' });
    const svg = svgEl('svg', { class: 'marks', 'aria-hidden': 'true' });
    const inner = el('div', { class: 'pane-inner' }, canvas, svg);
    const box = el('div', { class: 'pane', id: id + '-pane', role: 'img', 'aria-label': label }, inner);
    return { box, inner, canvas, svg, w: 0, h: 0 };
  };
  const probePane = pane('probe', 'Probe'), candPane = pane('cand', 'Candidate'), cmpPane = pane('cmp', 'Probe and candidate, aligned, mixed');
  const divider = el('div', { class: 'wipe-divider', id: 'wipe-divider', 'aria-hidden': 'true' });
  cmpPane.inner.append(divider);
  const sideBySide = el('div', { class: 'panes two' }, probePane.box, candPane.box);
  const single = el('div', { class: 'panes one', hidden: true }, cmpPane.box);

  const modeRadios = VIEW_MODES.map(([m, label, key]) => {
    const r = el('input', { type: 'radio', name: 'view-mode', value: m, id: 'view-' + m, checked: m === s.mode });
    r.addEventListener('change', () => setMode(m));
    return el('label', { class: 'inline', for: 'view-' + m }, r, `${label} (${key})`);
  });
  const marksBox = el('input', { type: 'checkbox', id: 'view-landmarks' });
  marksBox.addEventListener('change', () => { s.landmarks = marksBox.checked; note('landmarks'); draw(); });
  const zoomText = el('span', { id: 'zoom-level', class: 'muted' }, '100%');
  const slider = (id, label, min, max, step, key) => {
    const input = el('input', { type: 'range', id, min: String(min), max: String(max), step: String(step), value: String(s[key]) });
    const out = el('span', { class: 'muted', id: id + '-value' }, String(s[key]));
    input.addEventListener('input', () => { s[key] = Number(input.value); out.textContent = input.value; remember(); draw(); });
    return { input, out, node: el('div', { class: 'slider' }, el('label', { for: id }, label, ' ', out), input) };
  };
  const bright = slider('view-brightness', 'Brightness', -1, 1, 0.05, 'brightness');
  const contrast = slider('view-contrast', 'Contrast', 0.25, 4, 0.05, 'contrast');
  const gamma = slider('view-gamma', 'Gamma', 0.2, 5, 0.05, 'gamma');
  const opacity = slider('overlay-opacity', 'Candidate opacity (overlay)', 0, 1, 0.01, 'overlay_opacity');
  const wipe = slider('wipe-position', 'Wipe position', 0, 1, 0.005, 'wipe_position');
  const setSlider = (sl, key, v) => { s[key] = v; sl.input.value = String(v); sl.out.textContent = String(v); };
  const counter = el('span', { id: 'viewer-counter' });
  const booking = el('dl', { class: 'facts', id: 'booking-details', 'aria-live': 'polite' });
  const node = el('section', { class: 'card viewer', id: 'viewer', tabindex: '0', 'aria-label': 'Side by side comparison', 'data-request': String(lead.request_id) },
    el('h2', {}, 'Side by side'),
    el('p', { class: 'actions' }, el('button', { type: 'button', class: 'secondary', id: 'viewer-prev', onclick: () => step(-1) }, 'Previous (p)'), counter,
      el('button', { type: 'button', class: 'secondary', id: 'viewer-next', onclick: () => step(1) }, 'Next (n)')),
    el('fieldset', { class: 'viewer-modes' }, el('legend', {}, 'View'), ...modeRadios,
      el('label', { class: 'inline', for: 'view-landmarks' }, marksBox, 'Landmarks (l)')),
    el('p', { class: 'actions' }, el('button', { type: 'button', class: 'secondary', id: 'zoom-out', 'aria-label': 'Zoom out', onclick: () => zoomBy(1 / 1.25) }, '−'),
      zoomText, el('button', { type: 'button', class: 'secondary', id: 'zoom-in', 'aria-label': 'Zoom in', onclick: () => zoomBy(1.25) }, '+'),
      el('button', { type: 'button', class: 'secondary', id: 'zoom-reset', onclick: () => resetZoom() }, 'Fit (0)')),
    sideBySide, single, status,
    el('div', { class: 'sliders' }, opacity.node, wipe.node),
    el('div', { class: 'sliders' }, bright.node, contrast.node, gamma.node,
      el('p', {}, el('button', { type: 'button', class: 'secondary', id: 'view-neutral', onclick: () => {
        setSlider(bright, 'brightness', 0); setSlider(contrast, 'contrast', 1); setSlider(gamma, 'gamma', 1); remember(); draw();
      } }, 'Neutral'))),
    el('p', { class: 'muted' }, 'Brightness, contrast and gamma change only this screen, never what is stored; the settings in use are recorded with your examination. ' +
      'Keys: n/p candidate, + / − / 0 zoom, arrows pan, s original, a aligned, o overlay, w wipe, [ / ] move the wipe, l landmarks.'),
    el('h3', {}, 'Booking record'), booking);

  function note(view) {
    if (current < 0) return;
    const u = used.get(cands[current].rank);
    if (u && !u.views.includes(view)) u.views.push(view);
    remember();
  }
  function remember() {
    if (current < 0) return;
    const rank = cands[current].rank;
    const u = used.get(rank) || { views: [] };
    used.set(rank, { brightness: s.brightness, contrast: s.contrast, gamma: s.gamma, zoom: Math.round(s.zoom * 1000) / 1000,
      overlay_opacity: s.overlay_opacity, wipe_position: s.wipe_position, views: u.views });
  }
  function setMode(m) {
    s.mode = m;
    for (const l of modeRadios) { const r = l.querySelector('input'); r.checked = r.value === m; }
    note(m);
    draw();
  }
  // Linked zoom and pan: one scale factor over each pane's fit, one pan in pane fractions.
  function place(p) {
    const W = p.box.clientWidth, H = p.box.clientHeight;
    if (!p.w || !W) return;
    const k = Math.min(W / p.w, H / p.h) * s.zoom;
    const x = W / 2 - (p.w / 2) * k + s.panX * W, y = H / 2 - (p.h / 2) * k + s.panY * H;
    p.inner.style.width = p.w + 'px'; p.inner.style.height = p.h + 'px';
    p.inner.style.transform = `translate(${x}px, ${y}px) scale(${k})`;
    p.inner.classList.toggle('pixelated', k > 2);
  }
  function zoomBy(f, px, py, from) {
    const z = Math.min(64, Math.max(0.1, s.zoom * f));
    const p = from || (s.mode === 'overlay' || s.mode === 'wipe' ? cmpPane : probePane);
    const W = p.box.clientWidth || 1, H = p.box.clientHeight || 1;
    const mx = px === undefined ? W / 2 : px, my = py === undefined ? H / 2 : py;
    const r = z / s.zoom;
    s.panX = ((mx - W / 2) - (mx - W / 2 - s.panX * W) * r) / W;
    s.panY = ((my - H / 2) - (my - H / 2 - s.panY * H) * r) / H;
    s.zoom = z;
    remember();
    placeAll();
  }
  function resetZoom() { s.zoom = 1; s.panX = 0; s.panY = 0; remember(); placeAll(); }
  function placeAll() {
    for (const p of [probePane, candPane, cmpPane]) place(p);
    zoomText.textContent = Math.round(s.zoom * 100) + '%';
    divider.style.left = (s.wipe_position * 100) + '%';
  }
  function drawMarks(p, sets, eyeY, mouthY) {
    p.svg.setAttribute('viewBox', `0 0 ${p.w} ${p.h}`);
    p.svg.setAttribute('width', p.w); p.svg.setAttribute('height', p.h);
    const nodes = [];
    if (s.landmarks) {
      const r = Math.max(1.5, p.w / 200);
      if (eyeY !== undefined) for (const [y, id] of [[eyeY, 'eye-line'], [mouthY, 'mouth-line']]) nodes.push(svgEl('line', { x1: 0, x2: p.w, y1: y, y2: y, class: 'guide ' + id }));
      for (const [pts, cls] of sets) for (const [x, y] of pts) nodes.push(svgEl('circle', { cx: x, cy: y, r, class: cls }));
    }
    p.svg.replaceChildren(...nodes);
  }
  function paint(p, img) {
    p.w = img.width; p.h = img.height;
    if (p.canvas.width !== img.width || p.canvas.height !== img.height) { p.canvas.width = img.width; p.canvas.height = img.height; }
    p.canvas.getContext('2d', { willReadFrequently: true }).putImageData(img, 0, 0);
  }
  function draw() {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(() => { drawQueued = false; drawNow(); });
  }
  function drawNow() {
    const two = s.mode === 'side_by_side' || s.mode === 'aligned';
    sideBySide.hidden = !two; single.hidden = two;
    opacity.input.disabled = s.mode !== 'overlay'; wipe.input.disabled = s.mode !== 'wipe';
    divider.hidden = s.mode !== 'wipe';
    node.dataset.mode = s.mode;
    if (!probeSide || !cand) return;
    if (two) {
      const aligned = s.mode === 'aligned';
      paint(probePane, adjusted(aligned ? probeSide.aligned : probeSide.original, s));
      paint(candPane, adjusted(aligned ? cand.aligned : cand.original, s));
      drawMarks(probePane, [[aligned ? probeSide.alignedMarks : probeSide.originalMarks, 'mark-probe']], aligned ? probeSide.eyeY : undefined, probeSide.mouthY);
      drawMarks(candPane, [[aligned ? cand.alignedMarks : cand.originalMarks, 'mark-cand']], aligned ? cand.eyeY : undefined, cand.mouthY);
    } else {
      const p = adjusted(probeSide.aligned, s), c = adjusted(cand.aligned, s);
      paint(cmpPane, s.mode === 'overlay' ? mixOverlay(p, c, s.overlay_opacity) : mixWipe(p, c, s.wipe_position));
      drawMarks(cmpPane, [[probeSide.alignedMarks, 'mark-probe'], [cand.alignedMarks, 'mark-cand']], probeSide.eyeY, probeSide.mouthY);
    }
    placeAll();
    node.dataset.drawn = `${cands[current].rank}:${s.mode}`;
  }
  const key = c => c.booking_number + '/' + c.photo_id;
  function sideOf(c) {
    if (!cache.has(key(c))) {
      const p = loadSide(`/bookings/${encodeURIComponent(c.booking_number)}/photos/${c.photo_id}`,
        `/bookings/${encodeURIComponent(c.booking_number)}/photos/${c.photo_id}/aligned`);
      p.catch(() => cache.delete(key(c)));  // a failed load is tried again next time
      cache.set(key(c), p);
    }
    return cache.get(key(c));
  }
  // The booking record of the candidate shown; a late answer for another candidate is dropped.
  async function showBooking(c) {
    const seq = ++bookingSeq;
    booking.replaceChildren(el('dd', { class: 'muted' }, 'Loading…'));
    booking.dataset.booking = '';
    try {
      const b = await api('GET', '/bookings/' + encodeURIComponent(c.booking_number));
      if (seq !== bookingSeq) return;
      const photos = b.photos || [];
      const shown = photos.find(p => p.id === c.photo_id);
      const others = photos.filter(p => p !== shown);
      booking.replaceChildren(...BOOKING_FIELDS.flatMap(([k, label]) => [el('dt', {}, label), el('dd', { 'data-field': k }, b[k] === null || b[k] === undefined ? '—' : String(b[k]))]),
        el('dt', {}, 'Photos'), el('dd', {}, String(photos.length)),
        ...originNodes(shown),
        ...(others.length ? [el('dt', {}, 'Other photos'), el('dd', { 'data-field': 'other-photos' }, others.map(p =>
          `#${p.id}${p.capture_date ? ' ' + p.capture_date : ''}${p.origin && p.origin.face && p.origin.face.pose ? ', ' + p.origin.face.pose : ''}${p.searchable ? '' : ', not searched'}`).join('; '))] : []));
      booking.dataset.booking = b.booking_number;
    } catch (e) { if (seq === bookingSeq) booking.replaceChildren(errorBox(e)); }
  }
  async function showCandidate(c) {
    const i = cands.indexOf(c);
    if (i < 0) return;
    current = i;
    const seq = ++showSeq;
    counter.textContent = `Candidate ${i + 1} of ${cands.length}: ${c.booking_number} (rank ${c.rank}, score ${c.score.toFixed(3)})`;
    node.dataset.rank = String(c.rank);
    if (!used.has(c.rank)) used.set(c.rank, { views: [] });
    note(s.mode);
    if (s.landmarks) note('landmarks');
    showBooking(c);
    status.textContent = 'Loading…';
    delete node.dataset.drawn;
    try {
      const [p, side] = await Promise.all([probeP, sideOf(c)]);
      if (seq !== showSeq) return;  // another candidate was asked for meanwhile
      probeSide = p; cand = side;
      status.textContent = `Probe: ${p.info.source.face_rule}, face ${p.info.source.face_index + 1} of ${p.info.source.num_faces}. ` +
        `Candidate: ${side.info.source.face_rule}. Aligned: both on the same ${p.info.width}×${p.info.height} frame (eyes on row ${Math.round(p.eyeY)}, mouth on row ${Math.round(p.mouthY)}).`;
      draw();
    } catch (e) { if (seq === showSeq) status.replaceChildren(errorBox(e)); }
  }
  function step(d) {
    const i = Math.max(0, Math.min(cands.length - 1, current + d));
    if (linked) linked(i); else showCandidate(cands[i]);
  }
  // Drag: pans every pane together; in wipe mode a drag that starts at the divider moves it.
  for (const p of [probePane, candPane, cmpPane]) {
    p.box.addEventListener('wheel', ev => {
      ev.preventDefault();
      const r = p.box.getBoundingClientRect();
      zoomBy(ev.deltaY < 0 ? 1.25 : 1 / 1.25, ev.clientX - r.left, ev.clientY - r.top, p);
    }, { passive: false });
    p.box.addEventListener('pointerdown', ev => {
      if (ev.button !== 0) return;
      const r = p.box.getBoundingClientRect();
      const d = divider.getBoundingClientRect();
      const wiping = p === cmpPane && s.mode === 'wipe' && Math.abs(ev.clientX - (d.left + d.width / 2)) <= 16;
      let lastX = ev.clientX, lastY = ev.clientY;
      p.box.setPointerCapture(ev.pointerId);
      const move = mv => {
        if (wiping) {
          const ir = cmpPane.canvas.getBoundingClientRect();
          setSlider(wipe, 'wipe_position', Math.round(Math.min(1, Math.max(0, (mv.clientX - ir.left) / ir.width)) * 1000) / 1000);
          remember(); draw();
        } else {
          s.panX += (mv.clientX - lastX) / r.width; s.panY += (mv.clientY - lastY) / r.height;
          lastX = mv.clientX; lastY = mv.clientY;
          placeAll();
        }
      };
      const up = () => { p.box.removeEventListener('pointermove', move); p.box.removeEventListener('pointerup', up); remember(); };
      p.box.addEventListener('pointermove', move);
      p.box.addEventListener('pointerup', up);
    });
  }
  const onKey = ev => {
    if (!node.isConnected) { document.removeEventListener('keydown', onKey); return; }
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' || t.tagName === 'BUTTON' && (ev.key === 'Enter' || ev.key === ' ')) return;
    const inViewer = node.contains(t);
    const act = {
      n: () => step(1), p: () => step(-1), '+': () => zoomBy(1.25), '=': () => zoomBy(1.25), '-': () => zoomBy(1 / 1.25), 0: () => resetZoom(),
      s: () => setMode('side_by_side'), a: () => setMode('aligned'), o: () => setMode('overlay'), w: () => setMode('wipe'),
      l: () => { marksBox.checked = !marksBox.checked; s.landmarks = marksBox.checked; note('landmarks'); draw(); },
      '[': () => { setSlider(wipe, 'wipe_position', Math.max(0, Math.round((s.wipe_position - 0.05) * 1000) / 1000)); setMode('wipe'); },
      ']': () => { setSlider(wipe, 'wipe_position', Math.min(1, Math.round((s.wipe_position + 0.05) * 1000) / 1000)); setMode('wipe'); },
    }[ev.key];
    const pan = { ArrowLeft: [0.05, 0], ArrowRight: [-0.05, 0], ArrowUp: [0, 0.05], ArrowDown: [0, -0.05] }[ev.key];
    if (act) { ev.preventDefault(); act(); } else if (pan && inViewer) { ev.preventDefault(); s.panX += pan[0]; s.panY += pan[1]; remember(); placeAll(); }
  };
  document.addEventListener('keydown', onKey);
  new ResizeObserver(() => placeAll()).observe(node);
  drawNow();
  return {
    node,
    showCandidate,
    link(fn) { linked = fn; },
    // What the examiner used for this candidate, or null when it was never shown.
    settingsFor(rank) { const u = used.get(rank); return u ? { ...u, views: [...u.views] } : null; },
  };
}

// ---- The examination (FISWG components, a conclusion per candidate; docs/POLICY.md) ----
// One candidate at a time. Keyboard: ↑/↓ move between components, 1 similar, 2 dissimilar,
// 3 not visible, 0 not examined (the focused component), n / p next / previous candidate,
// Ctrl+Enter submits. Nothing is preset: a component not marked stays "not examined", a
// candidate without a conclusion stays "not examined".
const MARKS = { 1: 'similar', 2: 'dissimilar', 3: 'not_visible', 0: 'not_examined' };
const MARK_TEXT = { similar: 'similar', dissimilar: 'dissimilar', not_visible: 'not visible', not_examined: 'not examined' };
function examineForm(lead, cands, stage, viewer) {
  const msg = el('div', { id: 'exam-msg' });
  const panels = cands.map(c => {
    const rows = lead.components.map(k => {
      const row = el('div', { class: 'comp', tabindex: '0', role: 'group', id: `comp-${c.rank}-${k.component}`, 'data-component': k.component, 'data-mark': 'not_examined', 'aria-label': `${k.label}: not examined` },
        el('span', { class: 'comp-label' }, k.label), el('span', { class: 'comp-mark' }, MARK_TEXT.not_examined));
      const note = el('input', { type: 'text', class: 'comp-note', maxlength: '500', id: `comp-note-${c.rank}-${k.component}`, 'aria-label': `Note on ${k.label}` });
      return { k, row, note };
    });
    const conclusion = el('select', { id: 'conclusion-' + c.rank, 'aria-label': 'Conclusion for rank ' + c.rank },
      el('option', { value: 'not examined' }, 'not examined'), ...lead.conclusion_scale.map(s => el('option', { value: s }, s)));
    const notes = el('input', { type: 'text', id: 'notes-' + c.rank, maxlength: '4000', 'aria-label': 'Notes for rank ' + c.rank });
    const panel = el('fieldset', { class: 'exam-panel', id: 'exam-panel-' + c.rank, hidden: true },
      el('legend', {}, `Rank ${c.rank}: ${c.booking_number} (score ${c.score.toFixed(3)})`),
      el('div', { class: 'comps', role: 'list' }, ...rows.map(r => el('div', { class: 'comp-line', role: 'listitem' }, r.row, r.note))),
      el('label', { for: 'conclusion-' + c.rank }, 'Conclusion'), conclusion,
      el('label', { for: 'notes-' + c.rank }, 'Notes'), notes);
    return { c, rows, conclusion, notes, panel };
  });
  let current = 0;
  const counter = el('span', { id: 'exam-counter', class: 'muted' });
  const select = i => {
    current = Math.max(0, Math.min(panels.length - 1, i));
    panels.forEach((p, j) => { p.panel.hidden = j !== current; });
    counter.textContent = `Candidate ${current + 1} of ${panels.length}`;
    if (viewer) viewer.showCandidate(panels[current].c);
  };
  if (viewer) viewer.link(i => select(i));
  const setMark = (r, mark) => {
    r.row.dataset.mark = mark;
    r.row.querySelector('.comp-mark').textContent = MARK_TEXT[mark];
    r.row.setAttribute('aria-label', `${r.k.label}: ${MARK_TEXT[mark]}`);
  };
  const body = () => ({ candidates: panels.map(p => ({
    rank: p.c.rank, conclusion: p.conclusion.value, notes: p.notes.value,
    components: p.rows.filter(r => r.row.dataset.mark !== 'not_examined' || r.note.value)
      .map(r => ({ component: r.k.component, mark: r.row.dataset.mark, note: r.note.value })),
    viewing: viewer ? viewer.settingsFor(p.c.rank) : null })) });
  const submit = async () => {
    try {
      await api('POST', `/searches/${lead.request_id}/${stage === 'verification' ? 'verification' : 'examination'}`, body());
      route();
    } catch (e) { msg.replaceChildren(errorBox(e)); }
  };
  const form = el('form', { class: 'card', id: 'examine-form', 'data-stage': stage, onsubmit: ev => { ev.preventDefault(); submit(); } },
    el('h2', {}, stage === 'verification' ? 'Verification (blind)' : 'Examination'),
    stage === 'verification' ? el('p', { class: 'muted', id: 'blind-note' }, "The first examiner's conclusions stay hidden until you submit your own.") : null,
    el('p', { class: 'muted' }, 'Keys: ↑/↓ component, 1 similar, 2 dissimilar, 3 not visible, 0 not examined, n/p next/previous candidate, Ctrl+Enter submit.'),
    el('p', { class: 'row' }, el('button', { type: 'button', class: 'secondary', id: 'prev-cand', onclick: () => select(current - 1) }, 'Previous'), counter,
      el('button', { type: 'button', class: 'secondary', id: 'next-cand', onclick: () => select(current + 1) }, 'Next')),
    ...panels.map(p => p.panel),
    el('p', {}, el('button', { type: 'submit', id: 'submit-exam' }, stage === 'verification' ? 'Submit verification' : 'Submit examination')), msg);
  form.addEventListener('keydown', ev => {
    const t = ev.target;
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); submit(); return; }
    if (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA') return;
    const p = panels[current];
    const i = p.rows.findIndex(r => r.row === t);
    if (ev.key === 'n' || ev.key === 'p') {
      ev.preventDefault();
      select(current + (ev.key === 'n' ? 1 : -1));
      panels[current].rows[0].row.focus();
    } else if (i >= 0 && (ev.key === 'ArrowDown' || ev.key === 'ArrowUp')) {
      ev.preventDefault();
      p.rows[Math.max(0, Math.min(p.rows.length - 1, i + (ev.key === 'ArrowDown' ? 1 : -1)))].row.focus();
    } else if (i >= 0 && MARKS[ev.key]) {
      ev.preventDefault();
      setMark(p.rows[i], MARKS[ev.key]);
    }
  });
  for (const p of panels) for (const r of p.rows) r.row.addEventListener('click', () => {
    const order = ['not_examined', 'similar', 'dissimilar', 'not_visible'];
    setMark(r, order[(order.indexOf(r.row.dataset.mark) + 1) % order.length]);
  });
  select(0);
  return form;
}

// The examinations the reader may see, with every component marked.
function examinationsCard(lead) {
  if (!lead.examinations || !lead.examinations.length) return null;
  return el('div', { class: 'card', id: 'examinations' }, el('h2', {}, 'Examinations'),
    ...lead.examinations.map(e => el('section', { class: 'exam-record', 'data-stage': e.stage },
      el('h3', {}, `${e.stage === 'verification' ? 'Verification' : 'Examination'} by ${e.examiner}, ${e.created_at}${e.superseded ? ' (set aside)' : ''}`),
      scroller('Examination by ' + e.examiner, el('table', {},
        el('thead', {}, el('tr', {}, el('th', {}, 'Rank'), el('th', {}, 'Conclusion'), el('th', {}, 'Components marked'), el('th', {}, 'Notes'))),
        el('tbody', {}, ...e.candidates.map(c => el('tr', {},
          el('td', {}, String(c.rank)), el('td', { class: 'conclusion' }, c.conclusion),
          el('td', {}, c.components.filter(m => m.mark !== 'not_examined').map(m => `${m.label}: ${MARK_TEXT[m.mark]}${m.note ? ' (' + m.note + ')' : ''}`).join('; ') || '—'),
          el('td', {}, c.notes || '')))))))));
}

function historyCard(lead) {
  return el('div', { class: 'card', id: 'history' }, el('h2', {}, 'History'),
    el('ol', {}, ...lead.history.map(h => el('li', {}, `${h.time} ${h.actor}: ${h.event}${h.detail ? ' (' + h.detail + ')' : ''}`))));
}

function decisionForm(lead) {
  const sel = el('select', { id: 'decision' }, ...[['adopt_first', 'Adopt the first examination'], ['adopt_second', 'Adopt the verification'], ['reexamine', 'Send back for a new examination']].map(([v, t]) => el('option', { value: v }, t)));
  const notes = el('textarea', { id: 'decision-notes', maxlength: '4000' });
  const msg = el('div');
  return el('form', { class: 'card', id: 'decision-form', onsubmit: async ev => {
    ev.preventDefault();
    try { await api('POST', `/searches/${lead.request_id}/decision`, { decision: sel.value, notes: notes.value }); route(); } catch (e) { msg.replaceChildren(errorBox(e)); }
  } }, el('h2', {}, 'Decision on the disagreement'), el('label', { for: 'decision' }, 'Decision'), sel,
    el('label', { for: 'decision-notes' }, 'Reasons'), notes, el('p', {}, el('button', { type: 'submit' }, 'Record decision')), msg);
}

function outcomeForm(lead) {
  const sel = el('select', { id: 'outcome' }, ...['confirmed_by_other_evidence', 'excluded', 'unknown'].map(o => el('option', { value: o }, o.replaceAll('_', ' '))));
  const note = el('input', { type: 'text', id: 'outcome-note' });
  const msg = el('div');
  return el('form', { class: 'card', id: 'outcome-form', onsubmit: async ev => {
    ev.preventDefault();
    try { await api('POST', `/searches/${lead.request_id}/outcome`, { outcome: sel.value, note: note.value }); route(); } catch (e) { msg.replaceChildren(errorBox(e)); }
  } }, el('h2', {}, 'Outcome'), el('label', { for: 'outcome' }, 'Outcome'), sel, el('label', { for: 'outcome-note' }, 'Note'), note,
    el('p', {}, el('button', { type: 'submit' }, 'Record outcome')), msg);
}

// ---- The case file: one released lead, printable (print CSS; PDF through the browser) ----
// Everything comes from GET /searches/{id}/case (role-checked and audited case.view on the
// server); images are inline data: URLs from that one response.
function imageUrl(img) { return img && img.data_base64 ? `data:${img.content_type};base64,${img.data_base64}` : null; }
function facts(pairs) {
  return el('dl', { class: 'facts' }, ...pairs.filter(([, v]) => v !== null && v !== undefined && v !== '').flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]));
}
function viewingText(v) {
  if (!v) return 'not recorded';
  return `brightness ${v.brightness}, contrast ${v.contrast}, gamma ${v.gamma}, zoom ${v.zoom}, overlay ${v.overlay_opacity}, wipe ${v.wipe_position}; views: ${(v.views || []).join(', ') || 'none'}`;
}
async function casePage(id) {
  const show = view();
  let c;
  try { c = await api('GET', `/searches/${id}/case`); } catch (e) { show(el('h1', {}, 'Case file, request ' + id), errorBox(e)); return; }
  const r = c.request;
  const probeUrl = imageUrl(c.probe);
  const probe = el('section', { class: 'card case-section', id: 'case-probe' }, el('h2', {}, 'Probe'),
    probeUrl ? el('img', { src: probeUrl, alt: 'Probe image of request ' + id, class: 'case-img', id: 'case-probe-img' }) : el('p', { class: 'error' }, c.probe.purged || 'The probe image is not available.'),
    facts([['SHA-256', c.probe.probe_sha256], ['Type', c.probe.content_type], ['Size', c.probe.size_bytes + ' bytes']]),
    expectationNode(c.probe.expected_fnir, 'case-expected-fnir'),
    el('h3', {}, 'Processing steps'),
    stepsNode(c.probe.steps, 'case-steps'),
    c.probe.quality_override ? el('p', {}, `Quality override ${c.probe.quality_override.id} by ${c.probe.quality_override.supervisor}: ${c.probe.quality_override.reason}`) : null);
  const candRows = c.candidates.map(k => {
    const b = k.booking;
    const url = imageUrl(k.photo);
    return el('tr', {},
      el('td', {}, String(k.rank)),
      el('td', {}, url ? el('img', { src: url, alt: 'Booking photo ' + k.booking_number, class: 'case-photo' }) : (k.photo ? el('span', { class: 'muted hash' }, 'photo ' + k.photo.sha256.slice(0, 16) + '…') : '—')),
      el('td', {}, k.booking_number), el('td', {}, k.score.toFixed(3)), el('td', { class: 'conclusion' }, k.conclusion), el('td', {}, k.notes || ''),
      el('td', {}, b ? [b.name, b.dob && 'born ' + b.dob, b.sex, b.booking_date && 'booked ' + b.booking_date, b.agency, b.charge, b.status].filter(Boolean).join(' · ') : '—',
        k.photo && (k.photo.origin || !k.photo.searchable) ? el('dl', { class: 'facts case-origin' }, ...originNodes(k.photo)) : null));
  });
  const candidates = el('section', { class: 'card case-section', id: 'case-candidates' }, el('h2', {}, 'Candidates as released'),
    el('p', { id: 'case-policy' }, policyText(c.policy), ` Gallery version ${c.gallery_version}.`),
    scroller('Candidates', el('table', {},
      el('thead', {}, el('tr', {}, ...['Rank', 'Photo', 'Booking', 'Score', 'Conclusion', 'Notes', 'Booking details'].map(h => el('th', {}, h)))),
      el('tbody', {}, ...candRows))),
    c.booking_detail === 'restricted' ? el('p', { class: 'muted' }, 'Your role sees booking numbers, booking dates, agencies and photo hashes only.') : null);
  const exams = el('section', { class: 'card case-section', id: 'case-examinations' }, el('h2', {}, 'Examinations'),
    ...c.examinations.map(e => el('section', { class: 'case-exam', 'data-stage': e.stage },
      el('h3', {}, `${e.stage === 'verification' ? 'Verification' : 'Examination'} by ${e.examiner}, ${e.created_at}${e.superseded ? ' (set aside)' : ''}`),
      ...e.candidates.filter(k => k.conclusion !== 'not examined' || k.components.some(m => m.mark !== 'not_examined')).map(k => el('div', { class: 'case-exam-cand' },
        el('h4', {}, `Rank ${k.rank}: ${k.conclusion}`),
        k.notes ? el('p', {}, 'Notes: ' + k.notes) : null,
        el('table', { class: 'case-marks' }, el('thead', {}, el('tr', {}, el('th', {}, 'FISWG component'), el('th', {}, 'Mark'), el('th', {}, 'Note'))),
          el('tbody', {}, ...k.components.map(m => el('tr', { 'data-mark': m.mark }, el('td', {}, m.label), el('td', {}, MARK_TEXT[m.mark]), el('td', {}, m.note || ''))))),
        el('p', { class: 'muted' }, 'Viewing settings: ' + viewingText(k.viewing)))),
      e.candidates.every(k => k.conclusion === 'not examined') ? el('p', {}, 'No candidate examined.') : null)));
  const decision = c.decision ? el('section', { class: 'card case-section', id: 'case-decision' }, el('h2', {}, 'Supervisor decision'),
    facts([['Decision', c.decision.decision], ['By', c.decision.supervisor], ['At', c.decision.created_at], ['Reasons', c.decision.notes]])) : null;
  const trail = el('section', { class: 'card case-section', id: 'case-audit' }, el('h2', {}, 'Audit trail of the request'),
    scroller('Audit trail', el('table', {},
      el('thead', {}, el('tr', {}, ...['Seq', 'Time', 'Actor', 'Action', 'Details', 'Hash'].map(h => el('th', {}, h)))),
      el('tbody', {}, ...c.audit_trail.map(a => el('tr', {}, el('td', {}, String(a.seq)), el('td', {}, a.time), el('td', {}, a.actor), el('td', {}, a.action),
        el('td', { class: 'long hash' }, typeof a.details === 'string' ? a.details : JSON.stringify(a.details)), el('td', { class: 'hash' }, a.hash.slice(0, 16) + '…')))))));
  show(el('div', { id: 'case-file' },
    el('div', { class: 'actions no-print' }, el('button', { type: 'button', id: 'print-case', onclick: () => window.print() }, 'Print or save as PDF'),
      el('a', { href: '#/request/' + id }, 'Back to the request')),
    el('h1', {}, `Case file: request ${id}, case ${r.case}`),
    el('p', { class: 'notice', id: 'case-notice' }, c.notice),
    el('section', { class: 'card case-section', id: 'case-request' }, el('h2', {}, 'Request'),
      facts([['Case', r.case], ['Requested by', r.requester], ['At', r.created_at], ['Purpose', r.purpose], ['Offence', r.offense],
        ['Justification', r.justification], ['Agency', r.agency], ['Status', r.status], ['Outcome', r.outcome ? r.outcome + (r.outcome_note ? ' (' + r.outcome_note + ')' : '') : null],
        ['Model', `${c.model.id} v${c.model.version}`], ['Generated', `${c.generated_at} by ${c.generated_by}`]])),
    probe, candidates, exams, decision,
    el('section', { class: 'card case-section', id: 'case-history' }, el('h2', {}, 'History'),
      el('ol', {}, ...c.history.map(h => el('li', {}, `${h.time} ${h.actor}: ${h.event}${h.detail ? ' (' + h.detail + ')' : ''}`)))),
    trail,
    el('p', { class: 'notice' }, c.notice)));
}

// ---- Lists ----
async function requestsPage() {
  const show = view();
  try {
    const r = await api('GET', '/searches');
    show(el('h1', {}, 'My requests'), el('div', { class: 'card' }, scroller('My requests', el('table', { id: 'my-requests' },
      el('thead', {}, el('tr', {}, ...['Request', 'Created', 'Case', 'Purpose', 'Candidates', 'Status', 'Outcome'].map(h => el('th', {}, h)))),
      el('tbody', {}, r.requests.length ? r.requests.map(q => el('tr', {}, el('td', {}, el('a', { href: '#/request/' + q.request_id }, '#' + q.request_id)),
        el('td', {}, q.created_at), el('td', {}, q.case), el('td', {}, q.purpose), el('td', {}, String(q.num_candidates)),
        el('td', {}, el('span', { class: 'badge ' + q.status }, q.status)), el('td', {}, q.outcome || '—'))) : el('tr', {}, el('td', { colspan: '7' }, 'No requests yet.')))))));
  } catch (e) { show(el('h1', {}, 'My requests'), errorBox(e)); }
}
async function reviewsPage() {
  const show = view();
  try {
    const r = await api('GET', '/reviews');
    show(el('h1', {}, 'Waiting for review'), el('div', { class: 'card' }, scroller('Waiting for review', el('table', { id: 'reviews' },
      el('thead', {}, el('tr', {}, ...['Request', 'Created', 'Case', 'Requester', 'Status', 'Examiner'].map(h => el('th', {}, h)))),
      el('tbody', {}, r.leads.length ? r.leads.map(l => el('tr', {}, el('td', {}, el('a', { href: '#/request/' + l.request_id }, '#' + l.request_id)),
        el('td', {}, l.created_at), el('td', {}, l.case), el('td', {}, l.requester), el('td', {}, el('span', { class: 'badge ' + l.status }, l.status)),
        el('td', {}, l.examiner || '—'))) : el('tr', {}, el('td', { colspan: '6' }, 'Nothing to review.')))))));
  } catch (e) { show(el('h1', {}, 'Reviews'), errorBox(e)); }
}

// ---- Dashboard (inline SVG charts) ----
function barChart(title, data, id, bad) {
  const entries = Object.entries(data || {});
  const w = 480, rowH = 24, left = 170, h = Math.max(1, entries.length) * rowH + 10;
  const max = Math.max(1, ...entries.map(([, v]) => v));
  const svg = svgEl('svg', { viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': title });
  entries.forEach(([k, v], i) => {
    const y = 5 + i * rowH, bw = (w - left - 40) * v / max;
    svg.append(svgEl('text', { x: left - 6, y: y + 15, 'text-anchor': 'end' }, k.length > 26 ? k.slice(0, 25) + '…' : k),
      svgEl('rect', { x: left, y: y + 3, width: Math.max(1, bw), height: rowH - 8, class: bad ? 'bar bad' : 'bar' }),
      svgEl('text', { x: left + bw + 4, y: y + 15 }, String(v)));
  });
  if (!entries.length) svg.append(svgEl('text', { x: 10, y: 20 }, 'none'));
  return el('div', { class: 'card chart', id }, el('h2', {}, title), svg);
}
// The audit log's verification: the verdict, which pinned key proved it and when, how far the
// proof goes (docs/AUDIT.md, "Threat model").
function chainCard(v) {
  const first = v.problems[0];
  const status = v.ok
    ? `Audit chain intact: ${v.entries} entries, ${v.checkpoints} checkpoint(s) checked.`
    : first.kind === 'unverified'
      ? `AUDIT LOG NOT VERIFIED: ${first.message}`
      : `AUDIT CHAIN DAMAGED: first problem at entry ${first.seq} (${first.kind}): ${first.message}`;
  const lc = v.last_checkpoint;
  const row = (label, id, ...value) => [el('dt', {}, label), el('dd', { id }, ...value)];
  const keys = v.pinned_keys.length ? v.pinned_keys.map(k => el('span', { class: 'hash' }, k + ' ')) : 'no key pinned: checkpoints cannot be checked';
  return el('div', { class: 'card', id: 'chain' }, el('h2', {}, 'Audit log'),
    el('div', { class: v.ok ? 'okmsg' : 'refused', id: 'chain-status', role: v.ok ? null : 'alert' }, status),
    el('dl', { class: 'facts' },
      row('Verified at', 'chain-verified-at', v.verified_at),
      row('Verified with pinned key(s)', 'chain-key', keys),
      row('Last checkpoint', 'chain-last-checkpoint', lc
        ? `entry ${lc.seq}, signed ${lc.time} with key ${lc.key_id}` + (lc.external ? ', also in the external log' : ', in the database only')
        : 'none verified'),
      row('Not yet checkpointed', 'chain-unchecked', `${v.unchecked_entries} newest entr${v.unchecked_entries === 1 ? 'y' : 'ies'}`),
      row('Automatic checkpoints', 'chain-automatic', v.automatic_checkpoints === 'running'
        ? 'running' + (v.external_log ? ', to the external log' : ', in the database only')
        : v.automatic_checkpoints === 'stopped' ? 'STOPPED: nothing is signed over a log that does not verify' : 'off')),
    (v.warnings || []).length ? el('ul', { class: 'muted', id: 'chain-warnings' }, v.warnings.map(w => el('li', {}, w))) : null);
}
async function dashboardPage() {
  const show = view();
  const parts = [el('h1', {}, 'Dashboard')];
  try {
    parts.push(chainCard(await api('GET', '/audit/verify')));
    const r = await api('GET', '/audit/report');
    const leads = r.leads_without_outcome || [];
    const searches = r.searches || {};
    const refusals = r.refusals || {};
    parts.push(el('p', { class: 'muted' }, `${searches.total || 0} searches and ${(refusals.list || []).length} refusals in ${r.entries} audit entries.`),
      el('div', { class: 'charts' },
        barChart('Searches over time (per month)', searches.per_month, 'chart-month'),
        barChart('Searches per purpose', searches.per_purpose, 'chart-purpose'),
        barChart('Refusals per reason', refusals.per_code, 'chart-refusals', true),
        barChart('Released leads without an outcome', { 'without outcome': leads.length }, 'chart-leads', true)),
      el('div', { class: 'card', id: 'leads-without-outcome' }, el('h2', {}, 'Released leads without an outcome (' + leads.length + ')'),
        scroller('Released leads without an outcome', el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Request'), el('th', {}, 'Case'), el('th', {}, 'Requester'), el('th', {}, 'Released'))),
          el('tbody', {}, leads.map(l => el('tr', {}, el('td', {}, '#' + l.request_id), el('td', {}, l.case), el('td', {}, l.requester), el('td', {}, l.released_at))))))),
      el('div', { class: 'card', id: 'refusal-list' }, el('h2', {}, 'Refusals'),
        scroller('Refusals', el('table', {}, el('thead', {}, el('tr', {}, ...['Time', 'User', 'Action', 'Code', 'Case', 'Reason'].map(h => el('th', {}, h)))),
          el('tbody', {}, (refusals.list || []).map(x => el('tr', {}, el('td', {}, x.time), el('td', {}, x.user), el('td', {}, x.action), el('td', {}, x.code), el('td', {}, x.case), el('td', { class: 'long' }, x.reason))))))),
      supervisionReport(r.supervision || []));
  } catch (e) { parts.push(errorBox(e)); }
  show(...parts);
}

// ---- Supervision: quality overrides, case holds, purge (supervisors decide, auditors read) ----
function supervisionReport(rows) {
  return el('div', { class: 'card', id: 'supervision-report' }, el('h2', {}, 'Supervisor decisions (' + rows.length + ')'),
    el('p', { class: 'muted' }, 'Quality overrides, case holds and releases, probe purges, from the audit log.'),
    scroller('Supervisor decisions', el('table', {}, el('thead', {}, el('tr', {}, ...['Time', 'Supervisor', 'Action', 'Case', 'Reason', 'Detail'].map(h => el('th', {}, h)))),
      el('tbody', {}, rows.length ? rows.map(x => el('tr', {}, el('td', {}, x.time), el('td', {}, x.user), el('td', {}, x.action), el('td', {}, x.case),
        el('td', {}, x.reason), el('td', {}, el('span', { class: x.detail.startsWith('probe ') ? 'hash' : null }, x.detail))))
        : el('tr', {}, el('td', { colspan: '6' }, 'None in this period.'))))));
}
async function supervisionPage() {
  const show = view();
  const decide = hasRole('supervisor');
  let holds, overrides;
  try {
    [holds, overrides] = await Promise.all([api('GET', '/case-holds'), api('GET', '/quality-overrides')]);
  } catch (e) { show(el('h1', {}, 'Supervision'), errorBox(e)); return; }
  const cfg = state.config || {};
  // Runs a decision, then redraws the page with `message` (or shows the error in `box`).
  const act = (box, fn, message) => async ev => {
    if (ev) ev.preventDefault();
    try { await fn(); await supervisionPage(); flash('okmsg', message()); } catch (e) { box.replaceChildren(errorBox(e)); }
  };
  const field = (id, label, input) => el('div', {}, el('label', { for: id }, label), input);

  // Case holds.
  const holdsMsg = el('div', { id: 'hold-msg' });
  const releaseBox = el('div', { id: 'release-box' });
  function releaseForm(h) {
    const reason = el('input', { type: 'text', id: 'release-reason', required: true });
    const form = el('form', { class: 'hint', id: 'release-form', onsubmit: act(holdsMsg, () => api('POST', `/case-holds/${encodeURIComponent(h.case)}/release`, { reason: reason.value }),
      () => 'Hold on case ' + h.case + ' lifted.') },
      field('release-reason', 'Reason for lifting the hold on case ' + h.case, reason),
      el('p', { class: 'actions' }, el('button', { type: 'submit' }, 'Lift the hold'),
        el('button', { type: 'button', class: 'secondary', onclick: () => { releaseBox.replaceChildren(); document.getElementById('release-' + h.case).focus(); } }, 'Cancel')));
    releaseBox.replaceChildren(form);
    reason.focus();
  }
  const holdsTable = el('table', { id: 'holds' }, el('thead', {}, el('tr', {}, ...['Case', 'Set by', 'Set at', 'Reason', 'Requests'].map(h => el('th', {}, h)), decide ? el('th', {}, 'Action') : null)),
    el('tbody', {}, holds.holds.length ? holds.holds.map(h => el('tr', {}, el('td', {}, h.case), el('td', {}, h.set_by), el('td', {}, h.set_at), el('td', {}, h.reason),
      el('td', {}, String(h.num_requests)), decide ? el('td', {}, el('button', { type: 'button', class: 'secondary', id: 'release-' + h.case, onclick: () => releaseForm(h) }, 'Lift hold…')) : null))
      : el('tr', {}, el('td', { colspan: decide ? '6' : '5' }, 'No case is on hold.'))));
  const holdCase = el('input', { type: 'text', id: 'hold-case', required: true, placeholder: 'e.g. MPD-2026-0042', pattern: cfg.case_number_regex || null });
  const holdReason = el('textarea', { id: 'hold-reason', required: true });
  const holdForm = decide ? el('form', { id: 'hold-form', onsubmit: act(holdsMsg, () => api('POST', '/case-holds', { case: holdCase.value, reason: holdReason.value }),
    () => 'Case ' + holdCase.value + ' is on hold: its probe images are kept.') },
    el('h3', {}, 'Put a case on hold'), field('hold-case', 'Case number', holdCase), field('hold-reason', 'Reason', holdReason),
    el('p', {}, el('button', { type: 'submit', id: 'hold-submit' }, 'Put on hold'))) : null;

  // Quality overrides.
  const ovMsg = el('div', { id: 'override-msg' });
  const ovTable = el('table', { id: 'overrides' }, el('thead', {}, el('tr', {}, ...['#', 'Approved', 'Supervisor', 'Case', 'Probe SHA-256', 'Reason', 'Used by'].map(h => el('th', {}, h)))),
    el('tbody', {}, overrides.overrides.length ? overrides.overrides.map(o => el('tr', {}, el('td', {}, String(o.override_id)), el('td', {}, o.created_at), el('td', {}, o.supervisor),
      el('td', {}, o.case), el('td', {}, el('code', { class: 'hash' }, o.probe_sha256)), el('td', {}, o.reason),
      el('td', {}, o.used_by_request ? 'request #' + o.used_by_request : 'not used yet')))
      : el('tr', {}, el('td', { colspan: '7' }, 'No quality override yet.'))));
  const ovSha = el('input', { type: 'text', id: 'override-sha', required: true, pattern: '[0-9a-f]{64}', autocomplete: 'off', spellcheck: 'false', class: 'hash',
    title: '64 lower-case hexadecimal characters, as shown to the searcher' });
  const ovCase = el('input', { type: 'text', id: 'override-case', required: true, placeholder: 'e.g. MPD-2026-0042', pattern: cfg.case_number_regex || null });
  const ovReason = el('textarea', { id: 'override-reason', required: true });
  const ovForm = decide ? el('form', { id: 'override-form', onsubmit: act(ovMsg, () => api('POST', '/quality-overrides', { probe_sha256: ovSha.value.trim(), case: ovCase.value, reason: ovReason.value }),
    () => 'Quality override approved for case ' + ovCase.value + ': one search of this probe by another user.') },
    el('h3', {}, 'Approve a quality override'),
    el('p', { class: 'muted' }, 'For one search of one probe in one case, by a searcher other than you. The searcher sees the probe\'s SHA-256 when the quality gate refuses it.'),
    field('override-sha', 'Probe SHA-256', ovSha), field('override-case', 'Case number', ovCase), field('override-reason', 'Reason', ovReason),
    el('p', {}, el('button', { type: 'submit', id: 'override-submit' }, 'Approve override'))) : null;

  // Retention.
  const purgeMsg = el('div', { id: 'purge-msg', role: 'status' });
  const purgeCard = decide ? el('div', { class: 'card', id: 'retention' }, el('h2', {}, 'Probe retention'),
    el('p', { class: 'muted' }, 'Removes the images of probes past the retention period, except those of cases on hold. Hashes, requests and the audit log stay. A daily job normally does this.'),
    el('p', {}, el('button', { type: 'button', class: 'secondary', id: 'purge', onclick: async () => {
      try {
        const r = await api('POST', '/probes/purge');
        purgeMsg.replaceChildren(el('div', { class: 'okmsg' }, `Purged ${r.purged_sha256.length} probe image(s); ${r.kept_on_hold} kept for cases on hold.`));
      } catch (e) { purgeMsg.replaceChildren(errorBox(e)); }
    } }, 'Purge old probe images now')), purgeMsg) : null;

  show(el('h1', {}, 'Supervision'),
    decide ? null : el('p', { class: 'muted' }, 'Read-only: supervisors approve overrides and hold cases; every decision is in the audit log.'),
    el('div', { class: 'card', id: 'case-holds' }, el('h2', {}, 'Cases on hold (' + holds.holds.length + ')'),
      el('p', { class: 'muted' }, 'The probe images of a case on hold are kept past the retention period.'),
      scroller('Cases on hold', holdsTable), releaseBox, holdForm, holdsMsg),
    el('div', { class: 'card', id: 'quality-overrides' }, el('h2', {}, 'Quality overrides (' + overrides.overrides.length + ')'),
      scroller('Quality overrides', ovTable), ovForm, ovMsg),
    purgeCard);
}

// ---- User and certificate administration ----
async function adminPage() {
  const show = view();
  let users;
  try { users = (await api('GET', '/users')).users; } catch (e) { show(el('h1', {}, 'Users'), errorBox(e)); return; }
  const msg = el('div', { id: 'admin-msg' });
  const act = fn => async ev => { ev.preventDefault(); try { await fn(); await adminPage(); } catch (e) { msg.replaceChildren(errorBox(e)); } };
  const table = el('table', { id: 'users' }, el('thead', {}, el('tr', {}, ...['User', 'Name', 'Agency', 'Roles', 'Certificates', 'Account'].map(h => el('th', {}, h)))),
    el('tbody', {}, users.map(u => el('tr', {}, el('td', {}, u.name), el('td', {}, u.full_name), el('td', {}, u.agency), el('td', {}, u.roles.join(', ')),
      el('td', {}, u.certificates.map(c => el('div', {}, `${c.number} (${c.issued}…${c.expires})`, c.revoked_at ? ' revoked' : el('button', { class: 'secondary', type: 'button', 'aria-label': 'Revoke ' + c.number,
        onclick: act(() => api('POST', `/users/${u.name}/certificates/${encodeURIComponent(c.number)}/revoke`, { reason: prompt('Reason for revoking ' + c.number) || 'revoked by admin' })) }, 'revoke')))),
      el('td', {}, u.locked ? 'locked ' : 'active ', u.roles.includes('admin') ? null : el('button', { class: 'secondary', type: 'button',
        onclick: act(() => api('POST', `/users/${u.name}/lock`, { locked: !u.locked, reason: u.locked ? 'unlocked by admin' : 'locked by admin' })) }, u.locked ? 'unlock' : 'lock'))))));
  const f = {};
  for (const k of ['name', 'full_name', 'agency', 'password']) f[k] = el('input', { type: k === 'password' ? 'password' : 'text', id: 'new-' + k, required: true, autocomplete: k === 'password' ? 'new-password' : 'off' });
  f.agency.value = (state.config && state.config.home_agency) || '';
  const roleBoxes = ['searcher', 'examiner', 'supervisor', 'auditor', 'admin'].map(r => el('label', { class: 'inline' }, el('input', { type: 'checkbox', value: r, id: 'role-' + r }), ' ' + r));
  const addUser = el('form', { class: 'card', id: 'add-user', onsubmit: act(() => api('POST', '/users', { name: f.name.value, full_name: f.full_name.value, agency: f.agency.value,
    password: f.password.value, roles: roleBoxes.map(l => l.querySelector('input')).filter(i => i.checked).map(i => i.value) })) },
    el('h2', {}, 'New user'), el('div', { class: 'row' }, ...['name', 'full_name', 'agency', 'password'].map(k => el('div', {}, el('label', { for: 'new-' + k }, k.replace('_', ' ')), f[k]))),
    el('fieldset', {}, el('legend', {}, 'Roles'), ...roleBoxes), el('p', {}, el('button', { type: 'submit' }, 'Create user')));
  const c = {};
  for (const k of ['course', 'number', 'issued', 'expires']) c[k] = el('input', { type: k === 'issued' || k === 'expires' ? 'date' : 'text', id: 'cert-' + k, required: true });
  c.course.value = 'Facial comparison';
  const certUser = el('select', { id: 'cert-user' }, ...users.filter(u => !u.roles.includes('admin')).map(u => el('option', { value: u.name }, u.name)));
  const addCert = el('form', { class: 'card', id: 'add-cert', onsubmit: act(() => api('POST', `/users/${certUser.value}/certificates`, { course: c.course.value, number: c.number.value, issued: c.issued.value, expires: c.expires.value })) },
    el('h2', {}, 'Record a training certificate'), el('div', { class: 'row' }, el('div', {}, el('label', { for: 'cert-user' }, 'User'), certUser),
      ...['course', 'number', 'issued', 'expires'].map(k => el('div', {}, el('label', { for: 'cert-' + k }, k), c[k]))), el('p', {}, el('button', { type: 'submit' }, 'Add certificate')));
  show(el('h1', {}, 'Users and certificates'), msg, el('div', { class: 'card' }, scroller('Users', table)), addUser, addCert, revokeSessionsForm(users));
}

// ---- API tokens (every signed-in user) and signing a user out everywhere (admin) ----
pages.push({ hash: '#/tokens', label: 'API tokens', roles: ['searcher', 'examiner', 'supervisor', 'auditor', 'admin'] });
function tokenStatus(t) {
  if (t.revoked_at) return 'revoked ' + t.revoked_at + (t.revoked_by ? ' by ' + t.revoked_by : '') + (t.revoke_reason ? ' (' + t.revoke_reason + ')' : '');
  return t.active ? 'active' : 'expired';
}
// `created`: the answer of POST /tokens, whose secret is shown once, above the list.
async function tokensPage(created) {
  const show = view();
  let tokens;
  try { tokens = (await api('GET', '/tokens')).tokens; } catch (e) { show(el('h1', {}, 'API tokens'), errorBox(e)); return; }
  const msg = el('div', { id: 'tokens-msg' });
  const parts = [el('h1', {}, 'API tokens'), el('p', { class: 'muted' }, 'A token lets a script call the API as you (header Authorization: Bearer <token>). Only its hash is kept: the token itself is shown once, when it is created. Revoke a token as soon as it is no longer needed.')];
  if (created) {
    const secret = el('input', { type: 'text', id: 'token-secret', readonly: true, value: created.token, 'aria-label': 'New API token ' + created.label, onfocus: ev => ev.target.select() });
    const copy = el('button', { type: 'button', class: 'secondary', id: 'token-copy', onclick: async () => {
      try { await navigator.clipboard.writeText(created.token); copy.textContent = 'Copied'; } catch (e) { secret.focus(); }
    } }, 'Copy');
    parts.push(el('div', { class: 'okmsg', id: 'token-created', role: 'status' },
      el('strong', {}, 'Token "' + created.label + '" created, valid until ' + created.expires_at + '. Copy it now: it will not be shown again.'),
      secret, el('p', {}, copy)));
  }
  const rows = tokens.map(t => el('tr', {}, el('td', {}, t.label), el('td', {}, t.created_at), el('td', {}, t.last_used_at || 'never'), el('td', {}, t.expires_at),
    el('td', {}, tokenStatus(t)),
    el('td', {}, t.revoked_at ? null : el('button', { type: 'button', class: 'secondary', 'aria-label': 'Revoke token ' + t.label, 'data-token-id': String(t.id), onclick: async () => {
      if (!confirm('Revoke the API token "' + t.label + '"? Scripts using it stop working at once.')) return;
      try { await api('DELETE', '/tokens/' + t.id); await tokensPage(); } catch (e) { msg.replaceChildren(errorBox(e)); }
    } }, 'Revoke'))));
  parts.push(msg, el('div', { class: 'card' }, scroller('API tokens', el('table', { id: 'tokens' },
    el('thead', {}, el('tr', {}, ...['Label', 'Created', 'Last used', 'Expires', 'Status', ''].map(h => el('th', {}, h)))),
    el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: '6' }, 'No API tokens.')))))));
  const label = el('input', { type: 'text', id: 'token-label', required: true, maxlength: '80', autocomplete: 'off' });
  const days = el('select', { id: 'token-days' }, ...[7, 30, 90, 180, 365].map(d => el('option', { value: String(d), selected: d === 90 }, d + ' days')));
  const form = el('form', { class: 'card', id: 'add-token', onsubmit: async ev => {
    ev.preventDefault();
    try { await tokensPage(await api('POST', '/tokens', { label: label.value, expires_days: Number(days.value) })); } catch (e) { msg.replaceChildren(errorBox(e)); }
  } }, el('h2', {}, 'New API token'), el('div', { class: 'row' }, el('div', {}, el('label', { for: 'token-label' }, 'Label (what it is for)'), label),
    el('div', {}, el('label', { for: 'token-days' }, 'Expires after'), days)), el('p', {}, el('button', { type: 'submit' }, 'Create token')));
  parts.push(form);
  show(...parts);
  if (created) document.getElementById('token-secret').focus();
}
// A card on the user admin page: revoke every session and API token of one user.
function revokeSessionsForm(users) {
  const who = el('select', { id: 'revoke-user' }, ...users.map(u => el('option', { value: u.name }, u.name)));
  const reason = el('input', { type: 'text', id: 'revoke-reason', required: true, autocomplete: 'off' });
  const msg = el('div', { id: 'revoke-msg' });
  return el('form', { class: 'card', id: 'revoke-sessions', onsubmit: async ev => {
    ev.preventDefault();
    try {
      const r = await api('POST', `/users/${encodeURIComponent(who.value)}/sessions/revoke`, { reason: reason.value });
      msg.replaceChildren(el('div', { class: 'okmsg', role: 'status' }, `${r.name} is signed out everywhere: ${r.revoked_sessions} session(s) and ${r.revoked_tokens} API token(s) revoked.`));
      reason.value = '';
    } catch (e) { msg.replaceChildren(errorBox(e)); }
  } }, el('h2', {}, 'Revoke sessions'), el('p', { class: 'muted' }, 'Signs the user out of every browser and revokes all their API tokens now (recorded in the audit log with the reason). Locking an account does this too.'),
    el('div', { class: 'row' }, el('div', {}, el('label', { for: 'revoke-user' }, 'User'), who), el('div', {}, el('label', { for: 'revoke-reason' }, 'Reason'), reason)),
    el('p', {}, el('button', { type: 'submit' }, 'Revoke sessions')), msg);
}

// ---- Router ----
async function route() {
  const seq = ++routeSeq;
  flash('', '');
  const h = location.hash || '#/';
  if (!state.user) {
    // /session answers "nobody" with 200, so the sign-in page makes no failing request.
    try {
      const s = await api('GET', '/session');
      if (s.signed_in) { state.user = s.user; state.csrf = s.csrf_token || ''; state.config = await api('GET', '/config'); }
    }
    catch (e) { state.user = null; }
    if (seq !== routeSeq) return undefined;  // another route() started meanwhile
  }
  renderChrome();
  if (!state.user) return loginPage();
  const m = h.match(/^#\/request\/(\d+)$/);
  if (m) return requestPage(m[1]);
  const cf = h.match(/^#\/request\/(\d+)\/case$/);
  if (cf) return casePage(cf[1]);
  if (h === '#/tokens') return tokensPage();
  switch (h) {
    case '#/search': return searchPage();
    case '#/requests': return requestsPage();
    case '#/reviews': return reviewsPage();
    case '#/dashboard': return dashboardPage();
    case '#/supervision': return supervisionPage();
    case '#/admin': return adminPage();
    default: location.hash = defaultPage(); return undefined;
  }
}
window.addEventListener('hashchange', route);
document.addEventListener('DOMContentLoaded', route);
