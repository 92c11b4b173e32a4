// Phủ Số web map: the page. Ranked list, explanation panel with its chart and funnel,
// breadcrumb and click-through, H3 layer, diacritic-insensitive search, planning, sign-in and
// uploads, the time slider, Vietnamese / English. The map itself is web/map.js; the words are
// web/i18n.js. No network beyond this server.
'use strict';

const state = { asOf: null, daySummary: null, playing: false, lang: 'vi', level: 'ward', metric: 'members_needed', areas: null, byCode: new Map(), hexOn: false, hexMax: 1, summary: null, selected: null, selectedLevel: null, path: [], priorities: [], plan: null, planAdded: {}, viewSet: false, attribution: null };
const t = (k) => { const s = I18N[state.lang][k] ?? k; return typeof s === 'string' ? s.replace('{k}', state.summary?.min_count ?? 5) : s; };
// A figure the small-count rule withholds (null in the answer) says so instead of a value.
const hid = (raw, shown) => (raw === null ? t('withheld') : shown);
const locale = () => (state.lang === 'vi' ? 'vi-VN' : 'en-US');
const num = (x, digits = 0) => (x == null ? t('no_data') : new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(x));
const date = (iso) => (iso ? new Intl.DateTimeFormat(state.lang === 'vi' ? 'vi-VN' : 'en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC' }).format(new Date(iso + 'T00:00:00Z')) : t('never'));
const fold = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase().replace(/\s+/g, ' ').trim();

// The day the map shows: `as_of=` on every figure request, none for today.
const asOfQ = (sep = '&') => (state.asOf ? `${sep}as_of=${state.asOf}` : '');

async function getJson(url) {
  const r = await fetch(url, { headers: auth() });
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r.json();
}

// The areas of the level: figures, label points and boxes (the shapes come from the tiles).
async function loadAreas(fit) {
  state.areas = await getJson(`/api/areas?level=${state.level}&geometry=point${asOfQ()}`);
  state.byCode = new Map(state.areas.features.map((f) => [f.properties.code, f]));
  if (!state.bounds) state.bounds = levelBounds();
  drawLayers();
  if (fit) fitBox(levelBounds());
  state.viewSet = true;
  styleAreas();
  // For the tests: the level whose areas and layers are in place.
  document.body.dataset.level = state.level;
}

// Shows `level` (its select follows).
async function showLevel(level) {
  if (state.level === level) return;
  state.level = level;
  document.getElementById('level').value = level;
  await loadAreas(false);
  await loadPriorities();
}

// Click-through: the parts of area `code` (of `level`), the area selected and in view.
async function drill(code, level) {
  const inside = DRILL[level];
  if (inside && levelsWithAreas().includes(inside)) await showLevel(inside);
  await select(code, true);
}

// Back to the whole province (or country).
async function home() {
  state.selected = null;
  state.selectedLevel = null;
  state.path = [];
  document.getElementById('panel').hidden = true;
  renderCrumbs([]);
  await showLevel(levelsWithAreas().includes('ward') ? 'ward' : levelsWithAreas()[1]);
  drawLayers();
  fitBox(levelBounds());
}

async function loadPriorities() {
  const lvl = state.level === 'district' ? 'district' : state.level;
  const d = await getJson(`/api/priorities?level=${lvl}&limit=15${asOfQ()}`);
  state.priorities = d.items;
  renderPriorities();
}

function renderPriorities() {
  const ol = document.getElementById('priorities');
  ol.innerHTML = '';
  for (const p of state.priorities) {
    const li = document.createElement('li');
    li.dataset.code = p.code;
    li.innerHTML = `<span class="need">+${num(p.members_needed)}</span><strong></strong><span class="why"></span>`;
    li.querySelector('strong').textContent = p.name;
    li.querySelector('.why').textContent = state.lang === 'vi' ? p.reason_vi : p.reason;
    li.addEventListener('click', () => select(p.code, true));
    ol.appendChild(li);
  }
  const s = state.daySummary || state.summary;
  if (s) {
    const line = t('summary')({ day: s.campaign.day, days: s.campaign.days, deadline: date(s.campaign.deadline), as_of: date(s.campaign.as_of) });
    // A province set up with `phuso init`: no visits yet, so no "0 %" that looks like a fact.
    document.getElementById('summary').textContent = s.data?.visits === false ? `${line} · ${t('no_visits')}` : line;
    const note = document.querySelector('[data-i18n="synthetic"]');
    if (note) note.hidden = s.synthetic === false;
  }
}

function chart(series, households, target) {
  const W = 340, H = 130, P = 28;
  const days = state.summary.campaign.days;
  const x = (d) => P + (d / days) * (W - P - 8);
  const y = (share) => H - 18 - share * (H - 30);
  // Withheld days (null) break the line; each run of shown days is one polyline.
  const runs = [[]];
  series.households_reached.forEach((n, d) => {
    if (n == null) { if (runs[runs.length - 1].length) runs.push([]); return; }
    runs[runs.length - 1].push(`${x(d + 1).toFixed(1)},${y(households ? n / households : 0).toFixed(1)}`);
  });
  const lines = runs.filter((r) => r.length).map((r) => `<polyline fill="none" stroke="#0b63a5" stroke-width="2" points="${r.join(' ')}"/>`).join('');
  const ty = y(target);
  return `<svg class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="progress">
    <line x1="${P}" y1="${y(0)}" x2="${W - 8}" y2="${y(0)}" stroke="#889"/>
    <line x1="${P}" y1="${ty}" x2="${W - 8}" y2="${ty}" stroke="#2a7" stroke-dasharray="4 3"/>
    <text x="${P + 2}" y="${ty - 3}">${t('target')} ${num(target * 100)}%</text>
    <line x1="${x(days)}" y1="8" x2="${x(days)}" y2="${y(0)}" stroke="#c33" stroke-dasharray="4 3"/>
    <text x="${x(days) - 4}" y="12" text-anchor="end">${t('deadline')} ${date(series.deadline)}</text>
    ${lines}
    <text x="${P}" y="${H - 4}">${date(series.dates[0])}</text>
    <text x="2" y="${y(1) + 4}">100%</text><text x="8" y="${y(0) + 4}">0%</text>
  </svg>`;
}

// The service funnel: one bar per step, as a share of the households reached, with the
// conversion from the step before.
function funnelChart(steps) {
  if (!steps || steps.every((s) => s.households == null)) return `<h3>${t('funnel')}</h3><p class="muted small">${state.asOf ? t('funnel_past') : t('withheld')}</p>`;
  const top = Math.max(1, ...steps.map((s) => s.households || 0));
  const rows = steps.map((s) => {
    const w = s.households == null ? 0 : (100 * s.households) / top;
    const conv = s.of_previous == null ? '' : ` · ${num(s.of_previous * 100, 0)}% ${t('of_previous')}`;
    const value = s.households == null ? t('withheld') : `${num(s.households)}${conv}`;
    return `<div class="step" data-service="${s.service}"><span class="what">${t('svc_' + s.service)}</span><span class="value">${value}</span><span class="bar"><i style="width:${w.toFixed(1)}%"></i></span></div>`;
  });
  return `<h3>${t('funnel')}</h3><div class="funnel">${rows.join('')}</div>`;
}

async function select(code, focus) {
  state.selected = code;
  const d = await getJson(`/api/areas/${encodeURIComponent(code)}${asOfQ('?')}`);
  if (state.selected !== code) return; // another area was chosen meanwhile
  const a = d.area;
  state.selectedLevel = a.level;
  state.path = [...d.ancestors, { code: a.code, name: a.name, level: a.level }];
  renderCrumbs(state.path);
  document.getElementById('panel').hidden = false;
  document.getElementById('side').scrollTop = 0;
  document.getElementById('panel-name').textContent = a.name;
  document.getElementById('panel-level').textContent = `${t(a.level)} · ${a.code}${d.parent ? ' · ' + d.parent.name : ''}`;
  document.getElementById('panel-reason').textContent = state.lang === 'vi' ? a.reason_vi : a.reason;
  document.getElementById('panel-chart').innerHTML = chart(d.series, a.households, state.summary.campaign.target_coverage);
  document.getElementById('panel-funnel').innerHTML = funnelChart(d.funnel);
  document.getElementById('panel-report').href = `report.html?code=${encodeURIComponent(a.code)}&lang=${state.lang}${asOfQ()}`;
  const inside = DRILL[a.level];
  const drillButton = document.getElementById('panel-drill');
  drillButton.hidden = !(inside && levelsWithAreas().includes(inside) && d.children.length && state.level !== inside);
  drillButton.textContent = t('drill_' + a.level);
  drillButton.onclick = () => drill(a.code, a.level);
  const rows = [
    ['population', num(a.population)], ['households', num(a.households)], ['area_km2', num(a.area_km2, 2)],
    ['density_per_km2', num(a.density_per_km2)], ['teams', num(a.teams)], ['members', num(a.members)],
    ['residents_per_member', num(a.residents_per_member)], ['visits', hid(a.visits, num(a.visits))], ['households_reached', hid(a.households_reached, num(a.households_reached))],
    ['coverage_ratio', hid(a.households_reached, a.coverage_ratio == null ? t('no_data') : num(a.coverage_ratio * 100, 1) + '%')],
    ['days_to_target', hid(a.on_track, a.days_to_target == null ? t('never') : num(a.days_to_target))], ['projected_completion', hid(a.on_track, date(a.projected_completion))], ['band', hid(a.on_track, `${date(a.completion_optimistic)} – ${date(a.completion_pessimistic)}`)],
    ['on_track', hid(a.on_track, a.on_track ? t('yes') : t('no'))], ['members_needed', num(a.members_needed)], ['norm_members_short', num(a.norm_members_short)],
  ];
  const table = document.getElementById('panel-figures');
  table.innerHTML = '';
  for (const [k, v] of rows) {
    const tr = table.insertRow();
    tr.dataset.field = k;
    tr.insertCell().textContent = t(k);
    tr.insertCell().textContent = v;
  }
  document.getElementById('panel-former').textContent = d.former_units.length ? t('former') + d.former_units.map((u) => u.name).join(', ') : '';
  drawLayers();
  if (focus) {
    const box = state.byCode.get(code)?.bbox || (await getJson(`/api/areas?level=${a.level}&geometry=point${asOfQ()}`)).features.find((f) => f.properties.code === code)?.bbox;
    if (box) fitBox(box, { maxZoom: 14, padding: 30 });
  }
  styleAreas();
}

// The H3 layer from the `h3` tiles: resolution by zoom, the small-count rule applied.
function toggleHexes(on) {
  state.hexOn = on;
  state.hexMax = 1;
  drawLayers();
  styleAreas();
  drawHexLegend();
}

// Search: current names, former (pre-2025) names through the crosswalk, neighbourhoods.
let index = [];
async function buildIndex() {
  const wards = state.level === 'ward' ? state.areas : await getJson('/api/areas?level=ward&geometry=point');
  index = wards.features.map((f) => ({ code: f.properties.code, name: f.properties.name, keys: [f.properties.name, ...(f.properties.former_names || [])].map(fold), former: f.properties.former_names || [] }));
}

function search(q) {
  const ul = document.getElementById('search-results');
  const k = fold(q);
  ul.innerHTML = '';
  if (k.length < 2) { ul.hidden = true; return; }
  const hits = index.filter((e) => e.keys.some((key) => key.includes(k))).slice(0, 8);
  for (const h of hits) {
    const li = document.createElement('li');
    li.tabIndex = 0;
    li.dataset.code = h.code;
    const viaFormer = !fold(h.name).includes(k) ? h.former.find((n) => fold(n).includes(k)) : null;
    li.innerHTML = '<span></span>' + (viaFormer ? ' <span class="muted"></span>' : '');
    li.firstChild.textContent = h.name;
    if (viaFormer) li.lastChild.textContent = `(${viaFormer})`;
    const go = async () => {
      ul.hidden = true;
      await showLevel('ward');
      select(h.code, true);
    };
    li.addEventListener('click', go);
    li.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
    ul.appendChild(li);
  }
  ul.hidden = hits.length === 0;
}

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.getElementById('lang').textContent = state.lang === 'vi' ? 'EN' : 'VI';
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  const sel = document.getElementById('metric');
  sel.innerHTML = METRICS.map((m) => `<option value="${m}">${t(m)}</option>`).join('');
  sel.value = state.metric;
  renderPriorities();
  renderPlan();
  styleAreas();
  setAttribution();
  renderAccess();
  renderStatus();
  if (state.summary) renderDay();
  document.getElementById('report-link').href = `report.html?lang=${state.lang}${asOfQ()}`;
  drawHexLegend();
  if (state.summary) renderCrumbs(state.path);
  if (state.selected) select(state.selected);
}

// Planning: POST /api/plan, show the rows on the map and in a table that can be edited by hand
// (re-checked with POST /api/whatif) and exported as CSV.
async function postJson(url, body) {
  const r = await fetch(url, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const d = await r.json();
  if (!r.ok) throw new Error(d.error || r.status);
  return d;
}

async function runPlan(ev, meetDeadline = false) {
  if (ev) ev.preventDefault();
  const k = Number(document.getElementById('plan-k').value);
  const m = Number(document.getElementById('plan-m').value);
  const body = meetDeadline ? { meet_deadline: true, level: 'neighbourhood' } : { volunteers: k, max_moves: m, level: 'neighbourhood' };
  const p = await postJson('/api/plan', body);
  if (meetDeadline) { document.getElementById('plan-k').value = String(p.volunteers); document.getElementById('plan-m').value = '0'; }
  state.plan = p;
  state.planAdded = Object.fromEntries(p.rows.map((r) => [r.code, r.members_added + r.members_moved_in - r.members_moved_out]));
  renderPlan();
  // Switch the metric first, so the neighbourhoods are drawn in the plan's colours straight away.
  state.metric = 'plan_added_metric';
  document.getElementById('metric').value = state.metric;
  await showLevel('neighbourhood');
  styleAreas();
}

function renderPlan() {
  const p = state.plan;
  if (!p) return;
  // The server's one-sentence answer, then the totals.
  const answer = state.lang === 'vi' ? p.summary_vi : p.summary;
  document.getElementById('plan-summary').textContent = `${answer}. ` + t('plan_summary')({ placed: p.volunteers_placed, k: p.volunteers, rows: p.rows.length, moved: p.members_moved, before: date(p.completion_before), after: date(p.completion_after), deadline: date(p.deadline) });
  const body = document.querySelector('#plan-table tbody');
  body.innerHTML = '';
  for (const r of p.rows) {
    const tr = body.insertRow();
    tr.dataset.code = r.code;
    tr.title = state.lang === 'vi' ? r.reason_vi : r.reason;
    tr.insertCell().textContent = r.name;
    const input = document.createElement('input');
    input.type = 'number'; input.step = '2'; input.min = String(-r.members_before); input.value = String(r.members_added + r.members_moved_in - r.members_moved_out);
    input.addEventListener('click', (e) => e.stopPropagation());
    input.addEventListener('change', () => { state.planAdded[r.code] = Number(input.value); recheckPlan(); styleAreas(); });
    tr.insertCell().appendChild(input);
    tr.insertCell().innerHTML = `<span class="nowrap">${date(r.completion_before)}</span> → <span class="nowrap">${date(r.completion_after)}</span>`;
    tr.addEventListener('click', () => select(r.code, true));
  }
  document.getElementById('plan-result').hidden = false;
}

async function recheckPlan() {
  const changes = Object.entries(state.planAdded).filter(([, n]) => n !== 0).map(([code, members]) => ({ op: 'add_members', code, members }));
  const d = await postJson('/api/whatif', { changes, level: 'neighbourhood' });
  document.getElementById('plan-edited').textContent = t('plan_edited')(date(d.province.projected_completion));
}

function exportPlan() {
  const p = state.plan;
  const cols = ['code', 'name', 'members_before', 'members_change', 'members_after', 'members_added', 'members_moved_in', 'members_moved_out', 'completion_before', 'completion_after', 'reason'];
  const esc = (v) => { const s = v == null ? '' : String(v); return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; };
  // members_change is the planned change after any edit by hand; the planner's own split follows.
  const rows = p.rows.map((r) => ({ ...r, members_change: state.planAdded[r.code], members_after: r.members_before + state.planAdded[r.code] }));
  const csv = [cols.join(','), ...rows.map((r) => cols.map((c) => esc(r[c])).join(','))].join('\n') + '\n';
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
  a.download = 'phuso-plan.csv';
  a.click();
}

// Sign-in and uploads: the token lives in this tab's session storage, never in the URL.
const auth = () => { const t = sessionStorage.getItem('phuso-token'); return t ? { authorization: `Bearer ${t}` } : {}; };

async function signIn(token) {
  const r = await fetch('/api/me', { headers: { authorization: `Bearer ${token}` } });
  if (!r.ok) { sessionStorage.removeItem('phuso-token'); state.me = null; renderAccess(t('bad_token')); return; }
  sessionStorage.setItem('phuso-token', token);
  state.me = await r.json();
  renderAccess();
}

function renderAccess(message) {
  const me = state.me;
  document.getElementById('whoami').textContent = message || (me ? t('whoami')(me) + (['uploader', 'admin'].includes(me.role) ? '' : ' ' + t('role_no_upload')) : '');
  document.getElementById('upload-box').hidden = !(me && ['uploader', 'admin'].includes(me.role));
  document.getElementById('signout').hidden = !me;
  document.getElementById('plan-save-box').hidden = !(me && ['planner', 'admin'].includes(me.role));
  document.getElementById('token').closest('label').hidden = !!me;
  document.getElementById('signin').hidden = !!me;
}

function renderStatus() {
  const s = state.summary;
  if (s && s.data_changed_at) document.getElementById('data-status').textContent = t('data_changed')(new Date(s.data_changed_at).toLocaleString(locale()));
}

async function uploadFile(file) {
  const out = document.getElementById('upload-receipt');
  const list = document.getElementById('upload-problems');
  out.textContent = t('uploading');
  list.innerHTML = '';
  const bytes = await file.arrayBuffer();
  // The key is the file's SHA-256: sending the same file again counts once.
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  const key = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  const type = /\.json$/i.test(file.name) ? 'application/json' : /\.xlsx$/i.test(file.name) ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv';
  const r = await fetch('/api/visits', { method: 'POST', headers: { ...auth(), 'content-type': type, 'idempotency-key': key }, body: bytes });
  const d = await r.json();
  if (!r.ok) { out.textContent = d.error || String(r.status); return; }
  out.textContent = d.already_received ? `${t('already')} (${state.lang === 'vi' ? d.message_vi : d.message})` : (state.lang === 'vi' ? d.message_vi : d.message);
  out.dataset.batch = d.batch;
  for (const p of d.examples) { const li = document.createElement('li'); li.textContent = p; list.appendChild(li); }
  if (!d.already_received && d.rows_accepted > 0) await refreshWhenChanged();
}

// Waits (at most a minute) for the server's next snapshot, then redraws.
async function refreshWhenChanged() {
  const before = state.summary.data_changed_at;
  for (let i = 0; i < 120; i++) {
    await new Promise((res) => setTimeout(res, 500));
    const s = await getJson('/api/summary');
    if (s.data_changed_at !== before || s.province.visits !== state.summary.province.visits) {
      state.summary = s;
      setupSlider();
      redrawTiles();
      await loadAreas(false);
      await loadPriorities();
      renderStatus();
      document.getElementById('upload-receipt').textContent += ' ' + t('refreshed');
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
      return;
    }
  }
}

// Saved plans: the committee's decisions, kept in the store.
async function loadSavedPlans() {
  const r = await fetch('/api/plans', { headers: auth() });
  if (!r.ok) return; // no store
  const d = await r.json();
  const sel = document.getElementById('saved-plans');
  sel.innerHTML = `<option value="">${t('choose')}</option>` + d.items.map((p) => `<option value="${p.id}"></option>`).join('');
  d.items.forEach((p, i) => { sel.options[i + 1].textContent = `${p.decided_on} · ${p.name}`; });
  document.getElementById('saved-box').hidden = d.items.length === 0;
}

async function savePlan() {
  const name = document.getElementById('plan-name').value.trim();
  if (!state.plan || !name) return;
  const edited = { ...state.plan, rows: state.plan.rows.map((r) => ({ ...r, members_change: state.planAdded[r.code] })) };
  const saved = await postJson('/api/plans', { name, plan: edited });
  document.getElementById('plan-edited').textContent = t('plan_saved')(saved);
  await loadSavedPlans();
}

async function openSavedPlan(id) {
  if (!id) return;
  const d = await getJson(`/api/plans/${encodeURIComponent(id)}`);
  state.plan = d.plan;
  state.planAdded = Object.fromEntries(d.plan.rows.map((r) => [r.code, r.members_change ?? (r.members_added + r.members_moved_in - r.members_moved_out)]));
  renderPlan();
  styleAreas();
}

// The time slider: day 1 … today; every figure on the page is that day's.
function setupSlider() {
  const c = state.summary.campaign;
  const input = document.getElementById('day');
  input.max = String(c.day);
  if (!state.asOf) input.value = String(c.day);
  renderDay();
}

function renderDay() {
  const c = state.summary.campaign;
  const n = Number(document.getElementById('day').value);
  const iso = state.asOf || c.as_of;
  document.getElementById('day-label').textContent = t('day_label')({ day: n, days: c.days, date: date(iso), today: !state.asOf });
  document.getElementById('play').textContent = state.playing ? '❚❚' : '▶';
  document.getElementById('play').title = t(state.playing ? 'pause' : 'play');
}

function dayIso(n) {
  const d = new Date(state.summary.campaign.start + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + n - 1);
  return d.toISOString().slice(0, 10);
}

async function showDay(n) {
  const today = state.summary.campaign.day;
  state.asOf = n >= today ? null : dayIso(n);
  document.getElementById('day').value = String(n);
  state.daySummary = state.asOf ? await getJson(`/api/summary?as_of=${state.asOf}`) : null;
  renderDay();
  await loadAreas(false);
  await loadPriorities();
  if (state.selected) await select(state.selected);
  document.getElementById('report-link').href = `report.html?lang=${state.lang}${asOfQ()}`;
  document.body.dataset.day = String(n);
}

async function play() {
  if (state.playing) { state.playing = false; renderDay(); return; }
  state.playing = true;
  const today = state.summary.campaign.day;
  let n = Number(document.getElementById('day').value);
  if (n >= today) n = 0;
  while (state.playing && n < today) {
    n += 1;
    await showDay(n);
    await new Promise((res) => setTimeout(res, 350));
  }
  state.playing = false;
  renderDay();
}

async function main() {
  state.summary = await getJson('/api/summary');
  await new Promise((res) => (map.loaded() ? res() : map.once('load', res)));
  // The levels of this data below its root (a province: wards, neighbourhoods, former districts;
  // the country: provinces and wards).
  const levels = levelsWithAreas().slice(1);
  const levelSelect = document.getElementById('level');
  if (levels.includes('province')) levelSelect.insertAdjacentHTML('afterbegin', '<option value="province" data-i18n="level_province"></option>');
  for (const o of [...levelSelect.options]) if (!levels.includes(o.value)) o.remove();
  state.level = levels.includes('ward') ? 'ward' : levels[0];
  levelSelect.value = state.level;
  document.getElementById('metric').addEventListener('change', (e) => { state.metric = e.target.value; styleAreas(); });
  levelSelect.addEventListener('change', (e) => showLevel(e.target.value));
  document.getElementById('hex-toggle').addEventListener('change', (e) => toggleHexes(e.target.checked));
  document.getElementById('day').addEventListener('change', (e) => { state.playing = false; showDay(Number(e.target.value)); });
  document.getElementById('day').addEventListener('input', () => { const n = Number(document.getElementById('day').value); document.getElementById('day-label').textContent = t('day_label')({ day: n, days: state.summary.campaign.days, date: date(dayIso(n)), today: n >= state.summary.campaign.day }); });
  document.getElementById('play').addEventListener('click', () => play());
  // A report opened from here carries the plan on screen, if any (through localStorage).
  for (const id of ['report-link', 'panel-report']) {
    document.getElementById(id).addEventListener('click', (e) => {
      if (!state.plan) return;
      localStorage.setItem('phuso-report-plan', JSON.stringify({ plan: state.plan, added: state.planAdded }));
      if (!e.currentTarget.href.includes('plan=1')) e.currentTarget.href += '&plan=1';
    });
  }
  document.getElementById('lang').addEventListener('click', () => { state.lang = state.lang === 'vi' ? 'en' : 'vi'; applyLanguage(); });
  document.getElementById('search').addEventListener('input', (e) => search(e.target.value));
  const planFailed = (err) => { document.getElementById('plan-summary').textContent = String(err.message || err); };
  document.getElementById('plan-form').addEventListener('submit', (e) => runPlan(e).catch(planFailed));
  document.getElementById('plan-meet').addEventListener('click', () => runPlan(null, true).catch(planFailed));
  map.on('moveend', drawLabels);
  map.on('idle', updateHexMax);
  map.on('mousemove', onHover);
  map.on('mouseout', () => popup.remove());
  map.on('click', (e) => { const code = areaAt(e.point); if (code) select(code, false); });
  map.on('dblclick', (e) => { const code = areaAt(e.point); if (code) drill(code, state.level); });
  document.getElementById('plan-export').addEventListener('click', exportPlan);
  document.getElementById('plan-save').addEventListener('click', () => savePlan().catch(planFailed));
  document.getElementById('saved-plans').addEventListener('change', (e) => openSavedPlan(e.target.value).catch(planFailed));
  document.getElementById('panel-close').addEventListener('click', () => { document.getElementById('panel').hidden = true; state.selected = null; state.selectedLevel = null; drawLayers(); });
  document.getElementById('signin-form').addEventListener('submit', (e) => { e.preventDefault(); signIn(document.getElementById('token').value.trim()); document.getElementById('token').value = ''; });
  document.getElementById('signout').addEventListener('click', () => { sessionStorage.removeItem('phuso-token'); state.me = null; renderAccess(); });
  document.getElementById('upload-file').addEventListener('change', (e) => { if (e.target.files[0]) uploadFile(e.target.files[0]); });
  const drop = document.getElementById('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); if (e.dataTransfer.files[0]) uploadFile(e.dataTransfer.files[0]); });
  if (sessionStorage.getItem('phuso-token')) await signIn(sessionStorage.getItem('phuso-token'));
  applyLanguage();
  setupSlider();
  renderStatus();
  await loadAreas(true);
  await loadPriorities();
  await buildIndex();
  await loadSavedPlans();
  renderCrumbs([]);
  await idle();
  document.body.dataset.ready = 'true';
}

main().catch((e) => { document.getElementById('summary').textContent = String(e); console.error(e); });
