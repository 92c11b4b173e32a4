// Phủ Số web map: wards and neighbourhoods coloured by need, ranked list, explanation panel,
// H3 layer, diacritic-insensitive search, Vietnamese / English. No network beyond this server.
'use strict';

const I18N = {
  vi: {
    metric: 'Chỉ số', level: 'Cấp', level_ward: 'Phường/xã', level_neighbourhood: 'Khu phố/ấp', level_district: 'Huyện/thành cũ',
    hexes: 'Lưới H3', search: 'Tìm phường/xã, vd. binh chuan', priorities: 'Nơi cần thêm tổ',
    synthetic: 'Ranh giới phường/xã và dân số là số liệu thật; khu phố, tổ và lượt hỗ trợ là dữ liệu mô phỏng.',
    density_per_km2: 'Mật độ dân số', residents_per_member: 'Số dân / 1 người hỗ trợ', coverage_ratio: 'Tỷ lệ hộ đã tiếp cận',
    members_needed: 'Cần thêm thành viên', days_to_target: 'Số ngày để đạt mục tiêu',
    unit_density_per_km2: 'người/km²', unit_residents_per_member: 'dân', unit_coverage_ratio: '%', unit_members_needed: 'người', unit_days_to_target: 'ngày',
    population: 'Dân số', households: 'Số hộ', area_km2: 'Diện tích (km²)', teams: 'Số tổ', members: 'Thành viên', visits: 'Lượt hỗ trợ',
    households_reached: 'Hộ đã tiếp cận', projected_completion: 'Dự kiến hoàn thành', band: 'Khoảng lạc quan – bi quan', on_track: 'Kịp hạn', norm_members_short: 'Thiếu theo định mức TNTN',
    yes: 'có', no: 'không', never: 'chưa xác định', ward: 'Phường/xã', neighbourhood: 'Khu phố/ấp', district: 'Huyện/thành cũ', province: 'Tỉnh',
    former: 'Trước 2025 gồm: ', summary: (d) => `Ngày ${d.day}/${d.days} của chiến dịch · hạn ${d.deadline} · dữ liệu đến ${d.as_of}`,
    needs: 'cần', deadline: 'hạn', target: 'mục tiêu', no_data: 'không có', visits_cell: 'lượt', households_cell: 'hộ', blind: 'Điểm mù: có dân, dưới {k} hộ được tiếp cận',
    withheld: 'ẩn (dưới {k} hộ)', pop_est: 'dân (ước tính)',
    pairs_short: 'Thiếu cặp theo tổ dân phố', unit_pairs_short: 'cặp', plan_added_metric: 'Kế hoạch: thêm người', unit_plan_added_metric: 'người',
    plan_title: 'Kế hoạch bổ sung người', plan_volunteers: 'Số tình nguyện viên mới', plan_moves: 'Điều chuyển tối đa (cặp)', plan_run: 'Lập kế hoạch',
    plan_area: 'Khu vực', plan_added: 'Thêm', plan_done: 'Hoàn thành', plan_export: 'Tải CSV',
    plan_summary: (p) => `Đặt ${p.placed}/${p.k} người (${p.rows} khu vực, điều chuyển ${p.moved}); hoàn thành muộn nhất ${p.before} → ${p.after} (hạn ${p.deadline})`,
    plan_edited: (d) => `Sau khi chỉnh tay: hoàn thành muộn nhất ${d}`,
    plan_meet: 'Ít nhất bao nhiêu người để kịp hạn?',
    hex_legend: 'Lượt hỗ trợ / ô H3', hex_blind: 'Điểm mù (có dân, dưới {k} hộ được tiếp cận)', hex_withheld: 'Ẩn số (dưới {k} hộ, hoặc để không suy ra được)',
    attribution: 'Ranh giới: sapnhap.bando.com.vn · Dân số: TCTK 2019 · Khu phố, tổ, lượt: mô phỏng',
    attribution_real: 'Ranh giới: sapnhap.bando.com.vn · Dân số: TCTK 2019',
    no_visits: 'Chưa có lượt hỗ trợ nào: độ phủ, tiến độ và dự báo sẽ có khi các tổ tải lượt hỗ trợ lên.',
    token: 'Mã truy cập', signin: 'Đăng nhập', signout: 'Đăng xuất', upload_title: 'Gửi lượt hỗ trợ',
    upload_hint: 'Kéo thả tệp CSV/XLSX/JSON vào đây hoặc chọn tệp', bad_token: 'Mã truy cập không hợp lệ hoặc đã bị thu hồi',
    whoami: (m) => `Đã đăng nhập: ${m.label} (${m.role}${m.wards.length ? ', phường ' + m.wards.join(', ') : ''})`,
    role_no_upload: 'Vai trò này chỉ được xem số liệu.', uploading: 'Đang gửi…', already: 'Tệp này đã được nhận trước đó; không có gì thay đổi.',
    data_changed: (d) => `Số liệu cập nhật lúc ${d}`, refreshed: 'Bản đồ đã cập nhật theo số liệu mới.',
    plan_name: 'Tên quyết định, vd. Quyết định 05/11', plan_save: 'Lưu kế hoạch', saved_plans: 'Kế hoạch đã lưu', choose: '— chọn —',
    plan_saved: (p) => `Đã lưu kế hoạch số ${p.id}: ${p.name} (${p.decided_on})`,
    report: 'Báo cáo', report_area: 'Báo cáo in cho khu vực này', play: 'Phát lại chiến dịch', pause: 'Dừng',
    day_label: (d) => `Ngày ${d.day}/${d.days} · ${d.date}${d.today ? ' (hôm nay)' : ''}`,
    funnel: 'Các bước dịch vụ (hộ)', of_previous: 'so với bước trước',
    svc_vneid_install: 'Cài VNeID', svc_vneid_activation: 'Kích hoạt VNeID', svc_dvc_account: 'Tài khoản DVC', svc_online_payment: 'Thanh toán trực tuyến', svc_qr_payment: 'Thanh toán QR',
    funnel_past: 'Số hộ theo dịch vụ chỉ có cho hôm nay (ngày đã qua: ẩn để không suy ra được số nhỏ).',
  },
  en: {
    metric: 'Metric', level: 'Level', level_ward: 'Ward/commune', level_neighbourhood: 'Neighbourhood', level_district: 'Former district',
    hexes: 'H3 grid', search: 'Find a ward, e.g. binh chuan', priorities: 'Where more teams are needed',
    synthetic: 'Ward boundaries and population are real; neighbourhoods, teams and visits are synthetic.',
    density_per_km2: 'Population density', residents_per_member: 'Residents per helper', coverage_ratio: 'Share of households reached',
    members_needed: 'More members needed', days_to_target: 'Days to target',
    unit_density_per_km2: 'people/km²', unit_residents_per_member: 'residents', unit_coverage_ratio: '%', unit_members_needed: 'members', unit_days_to_target: 'days',
    population: 'Population', households: 'Households', area_km2: 'Area (km²)', teams: 'Teams', members: 'Members', visits: 'Visits',
    households_reached: 'Households reached', projected_completion: 'Projected completion', band: 'Optimistic – pessimistic', on_track: 'On track', norm_members_short: 'Short of the TNTN norm',
    yes: 'yes', no: 'no', never: 'unknown', ward: 'Ward/commune', neighbourhood: 'Neighbourhood', district: 'Former district', province: 'Province',
    former: 'Before 2025: ', summary: (d) => `Day ${d.day} of ${d.days} · deadline ${d.deadline} · data as of ${d.as_of}`,
    needs: 'needs', deadline: 'deadline', target: 'target', no_data: 'n/a', visits_cell: 'visits', households_cell: 'households', blind: 'Blind spot: people, fewer than {k} households reached',
    withheld: 'withheld (under {k} households)', pop_est: 'residents (estimated)',
    pairs_short: 'Pairs short of the group norm', unit_pairs_short: 'pairs', plan_added_metric: 'Plan: members added', unit_plan_added_metric: 'members',
    plan_title: 'Plan new volunteers', plan_volunteers: 'New volunteers', plan_moves: 'Moves allowed (pairs)', plan_run: 'Make the plan',
    plan_area: 'Area', plan_added: 'Added', plan_done: 'Completion', plan_export: 'Download CSV',
    plan_summary: (p) => `Placed ${p.placed} of ${p.k} (${p.rows} areas, ${p.moved} moved); latest completion ${p.before} → ${p.after} (deadline ${p.deadline})`,
    plan_edited: (d) => `After your edits: latest completion ${d}`,
    plan_meet: 'Fewest volunteers to meet the deadline?',
    hex_legend: 'Visits per H3 cell', hex_blind: 'Blind spot (people, fewer than {k} households reached)', hex_withheld: 'Withheld (under {k} households, or so that none can be worked out)',
    attribution: 'Boundaries: sapnhap.bando.com.vn · Population: GSO 2019 census · Neighbourhoods, teams, visits: synthetic',
    attribution_real: 'Boundaries: sapnhap.bando.com.vn · Population: GSO 2019 census',
    no_visits: 'No visits yet: coverage, pace and projections appear once teams upload their visits.',
    token: 'Access token', signin: 'Sign in', signout: 'Sign out', upload_title: 'Upload visits',
    upload_hint: 'Drop a CSV/XLSX/JSON file here or choose one', bad_token: 'Unknown or revoked token',
    whoami: (m) => `Signed in: ${m.label} (${m.role}${m.wards.length ? ', wards ' + m.wards.join(', ') : ''})`,
    role_no_upload: 'This role may only read the figures.', uploading: 'Uploading…', already: 'This file was already received; nothing changed.',
    data_changed: (d) => `Data last changed ${d}`, refreshed: 'The map now shows the new data.',
    plan_name: 'Name of the decision, e.g. Decision 05/11', plan_save: 'Save plan', saved_plans: 'Saved plans', choose: '— choose —',
    plan_saved: (p) => `Saved as plan ${p.id}: ${p.name} (${p.decided_on})`,
    report: 'Report', report_area: 'Printable report for this area', play: 'Replay the campaign', pause: 'Pause',
    day_label: (d) => `Day ${d.day} of ${d.days} · ${d.date}${d.today ? ' (today)' : ''}`,
    funnel: 'Service steps (households)', of_previous: 'of the step before',
    svc_vneid_install: 'VNeID installed', svc_vneid_activation: 'VNeID activated', svc_dvc_account: 'DVC account', svc_online_payment: 'Online bill payment', svc_qr_payment: 'QR payment',
    funnel_past: 'Households per service are shown for today only (withheld for past days so that no small count can be worked out).',
  },
};

// Metrics: which way is bad, for the colour ramp.
const METRICS = ['members_needed', 'density_per_km2', 'residents_per_member', 'coverage_ratio', 'days_to_target', 'pairs_short', 'plan_added_metric'];
const HIGH_IS_BAD = { members_needed: true, density_per_km2: true, residents_per_member: true, coverage_ratio: false, days_to_target: true, pairs_short: true, plan_added_metric: true };
const RAMP = ['#fff5eb', '#fdd0a2', '#fd8d3c', '#d94801', '#7f2704'];

const state = { asOf: null, daySummary: null, playing: false, lang: 'vi', level: 'ward', metric: 'members_needed', areas: null, layer: null, hexLayer: null, hexData: null, summary: null, selected: null, priorities: [], plan: null, planAdded: {} };
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

const map = L.map('map', { zoomSnap: 0.25, attributionControl: true });
map.attributionControl.setPrefix('Leaflet');

function metricValue(p, m = state.metric) {
  if (m === 'plan_added_metric') return state.plan ? (state.planAdded[p.code] || 0) : null;
  const v = p[m];
  if (v == null) return null;
  return m === 'coverage_ratio' ? v * 100 : v;
}

// Class breaks per level: natural breaks (ckmeans, web/classes.js) over the values shown, so
// values far apart never share a colour.
function breaks(values) {
  // For the plan, classes cover the areas that receive people; 0 and moves out get own colours.
  const keep = state.metric === 'plan_added_metric' ? (x) => x > 0 : () => true;
  return PhusoClasses.breaks(values.filter((x) => x != null && keep(x)), 5);
}

function rampFor(k) {
  // The plan keeps the lightest shade for "no change".
  const lo = state.metric === 'plan_added_metric' ? 1 : 0;
  const picks = k === 1 ? [2] : Array.from({ length: k }, (_, i) => lo + Math.round((i * (4 - lo)) / (k - 1)));
  const colours = picks.map((i) => RAMP[i]);
  return HIGH_IS_BAD[state.metric] ? colours : colours.reverse();
}

const PLAN_ZERO = '#f4f6f8';
const PLAN_OUT = '#9ecae1';

function colour(value, br) {
  if (value == null) return '#bbbbbb';
  if (state.metric === 'plan_added_metric' && value <= 0) return value < 0 ? PLAN_OUT : PLAN_ZERO;
  return rampFor(br.cuts.length + 1)[PhusoClasses.classOf(value, br)];
}

let legend;
// Shares are shown with one decimal; counts, densities and days as whole numbers.
const legendDigits = () => (state.metric === 'coverage_ratio' ? 1 : 0);
function drawLegend(br) {
  if (legend) legend.remove();
  // Top right: the dense south of the province stays visible, also on a phone.
  legend = L.control({ position: 'topright' });
  legend.onAdd = () => {
    const div = L.DomUtil.create('div', 'legend');
    div.id = 'legend';
    const unit = t('unit_' + state.metric);
    const edges = [br.min, ...br.cuts, br.max];
    const ramp = rampFor(br.cuts.length + 1);
    const d = legendDigits();
    const integers = edges.every(Number.isInteger);
    const rows = ramp.map((c, i) => {
      // Integer classes read "3 – 7"; others "0.5 – <1.2".
      const hi = i === ramp.length - 1 ? edges[i + 1] : (integers ? edges[i + 1] - 1 : edges[i + 1]);
      const sep = i === ramp.length - 1 || integers ? ' – ' : ' – <';
      const label = integers && hi === edges[i] ? num(hi, d) : `${num(edges[i], d)}${sep}${num(hi, d)}`;
      return `<div class="class"><i style="background:${c}"></i>${label}</div>`;
    });
    if (state.metric === 'plan_added_metric') rows.unshift(`<div><i style="background:${PLAN_OUT}"></i>&lt; 0</div><div><i style="background:${PLAN_ZERO}"></i>0</div>`);
    div.innerHTML = `<strong>${t(state.metric)}</strong> (${unit})<br>${rows.join('')}<div><i style="background:#bbbbbb"></i>${t('no_data')}</div>`;
    return div;
  };
  legend.addTo(map);
}

// The H3 layer's own legend (purple: readable over the orange choropleth).
const HEX_RAMP = ['#efedf5', '#bcbddc', '#807dba', '#54278f'];
let hexLegend;
function drawHexLegend(max) {
  if (hexLegend) hexLegend.remove();
  hexLegend = null;
  if (!state.hexLayer) return;
  hexLegend = L.control({ position: 'bottomleft' });
  hexLegend.onAdd = () => {
    const div = L.DomUtil.create('div', 'legend');
    div.id = 'hex-legend';
    const edges = [0, 0.0625, 0.25, 0.5625, 1].map((q) => Math.round(q * max));
    const rows = HEX_RAMP.map((c, i) => `<div><i style="background:${c}"></i>${num(edges[i])} – ${num(edges[i + 1])}</div>`);
    div.innerHTML = `<strong>${t('hex_legend')}</strong><br>${rows.join('')}<div><i style="background:#fff;border:2px solid #d00"></i>${t('hex_blind')}</div><div><i style="background:#fff;border:1px dashed #54278f"></i>${t('hex_withheld')}</div>`;
    return div;
  };
  hexLegend.addTo(map);
}

function hexColour(visits, max) {
  const share = Math.sqrt((visits || 0) / max);
  return HEX_RAMP[Math.min(HEX_RAMP.length - 1, Math.floor(share * HEX_RAMP.length))];
}

function styleAreas() {
  if (!state.layer) return;
  const br = breaks(state.areas.features.map((f) => metricValue(f.properties)));
  state.layer.setStyle((f) => ({ fillColor: colour(metricValue(f.properties), br), fillOpacity: state.hexLayer ? 0.35 : 0.78, color: f.properties.code === state.selected ? '#0b63a5' : '#4a5561', weight: f.properties.code === state.selected ? 3 : 0.8 }));
  drawLegend(br);
  drawLabels();
}

// Names of the ranked areas on the map, most in need first, skipping any that would overlap a
// name already placed.
let labels = null;
function drawLabels() {
  if (labels) labels.remove();
  labels = L.layerGroup();
  if (!state.areas || !state.viewSet || state.level === 'neighbourhood') { labels.addTo(map); return; }
  const placed = [];
  const ranked = [...state.areas.features].filter((f) => f.properties.label_point).sort((a, b) => a.properties.rank - b.properties.rank);
  for (const f of ranked.slice(0, 15)) {
    const [lon, lat] = f.properties.label_point;
    const name = f.properties.name.replace(/^(Phường|Xã|Thị trấn) /, '');
    const pt = map.latLngToContainerPoint([lat, lon]);
    const w = 7 * name.length + 8, h = 16;
    const box = { x0: pt.x - w / 2, x1: pt.x + w / 2, y0: pt.y - h / 2, y1: pt.y + h / 2 };
    if (placed.some((b) => box.x0 < b.x1 && b.x0 < box.x1 && box.y0 < b.y1 && b.y0 < box.y1)) continue;
    placed.push(box);
    const icon = L.divIcon({ className: 'area-label', html: `<span data-code="${f.properties.code}"></span>`, iconSize: [w, h], iconAnchor: [w / 2, h / 2] });
    const m = L.marker([lat, lon], { icon, interactive: false, keyboard: false });
    m.on('add', () => { const el = m.getElement(); if (el) el.firstChild.textContent = name; });
    labels.addLayer(m);
  }
  labels.addTo(map);
}

function tooltip(p) {
  const v = metricValue(p);
  const unit = state.metric === 'coverage_ratio' ? '%' : ' ' + t('unit_' + state.metric);
  return `<strong>${p.name}</strong><br>${t(state.metric)}: ${v == null ? t('no_data') : num(v, 1) + unit}`;
}

async function loadAreas(fit) {
  state.areas = await getJson(`/api/areas?level=${state.level}${asOfQ()}`);
  if (state.layer) state.layer.remove();
  state.layer = L.geoJSON(state.areas, {
    style: () => ({ className: 'area' }),
    onEachFeature: (f, lyr) => {
      lyr.bindTooltip(() => tooltip(f.properties), { sticky: true });
      lyr.on('click', () => select(f.properties.code));
      lyr.on('add', () => lyr.getElement && lyr.getElement() && lyr.getElement().setAttribute('data-code', f.properties.code));
    },
  }).addTo(map);
  state.layer.eachLayer((lyr) => { const el = lyr.getElement && lyr.getElement(); if (el) el.setAttribute('data-code', lyr.feature.properties.code); });
  styleAreas();
  if (fit) map.fitBounds(state.layer.getBounds(), { padding: [10, 10] });
  state.viewSet = true;
  drawLabels();
  if (state.hexLayer) state.hexLayer.bringToFront();
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
    return `<div class="step" data-service="${s.service}"><span class="what">${t('svc_' + s.service)}</span><span class="bar"><i style="width:${w.toFixed(1)}%"></i></span><span class="value">${value}</span></div>`;
  });
  return `<h3>${t('funnel')}</h3><div class="funnel">${rows.join('')}</div>`;
}

async function select(code, focus) {
  state.selected = code;
  const d = await getJson(`/api/areas/${encodeURIComponent(code)}${asOfQ('?')}`);
  const a = d.area;
  document.getElementById('panel').hidden = false;
  document.getElementById('side').scrollTop = 0;
  document.getElementById('panel-name').textContent = a.name;
  document.getElementById('panel-level').textContent = `${t(a.level)} · ${a.code}${d.parent ? ' · ' + d.parent.name : ''}`;
  document.getElementById('panel-reason').textContent = state.lang === 'vi' ? a.reason_vi : a.reason;
  document.getElementById('panel-chart').innerHTML = chart(d.series, a.households, state.summary.campaign.target_coverage);
  document.getElementById('panel-funnel').innerHTML = funnelChart(d.funnel);
  document.getElementById('panel-report').href = `report.html?code=${encodeURIComponent(a.code)}&lang=${state.lang}${asOfQ()}`;
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
  styleAreas();
  if (focus && state.layer) {
    state.layer.eachLayer((lyr) => { if (lyr.feature.properties.code === code) map.fitBounds(lyr.getBounds(), { maxZoom: 14, padding: [20, 20] }); });
  }
}

async function toggleHexes(on) {
  if (!on) { if (state.hexLayer) state.hexLayer.remove(); state.hexLayer = null; drawHexLegend(0); styleAreas(); return; }
  if (!state.hexData) state.hexData = await getJson('/api/hexes?res=8');
  const max = Math.max(1, ...state.hexData.features.map((f) => f.properties.visits || 0));
  state.hexLayer = L.geoJSON(state.hexData, {
    style: (f) => {
      const p = f.properties;
      if (p.blind_spot) return { color: '#d00', weight: 2, fillColor: '#fff', fillOpacity: 0.5, className: 'hex blind' };
      if (p.suppressed) return { color: '#54278f', weight: 0.6, dashArray: '2 2', fillColor: '#fff', fillOpacity: 0.3, className: 'hex' };
      return { color: '#3f007d', weight: 0.3, fillColor: hexColour(p.visits, max), fillOpacity: 0.6, className: 'hex' };
    },
    onEachFeature: (f, lyr) => lyr.bindTooltip(() => {
      const p = f.properties;
      const counts = p.suppressed ? t('withheld') : `${num(p.visits)} ${t('visits_cell')}, ${num(p.households)} ${t('households_cell')}`;
      const pop = p.population_est == null ? '' : `<br>${num(p.population_est)} ${t('pop_est')}`;
      return `${counts}${pop}${p.blind_spot ? '<br><strong>' + t('blind') + '</strong>' : ''}`;
    }, { sticky: true }),
  }).addTo(map);
  drawHexLegend(max);
  styleAreas();
}

// Search: current names, former (pre-2025) names through the crosswalk, neighbourhoods.
let index = [];
async function buildIndex() {
  const wards = state.level === 'ward' ? state.areas : await getJson('/api/areas?level=ward&zoom=8');
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
      if (state.level !== 'ward') { state.level = 'ward'; document.getElementById('level').value = 'ward'; await loadAreas(false); await loadPriorities(); }
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
  if (state.hexLayer) drawHexLegend(Math.max(1, ...state.hexData.features.map((f) => f.properties.visits || 0)));
  if (state.selected) select(state.selected);
}

let attribution = null;
function setAttribution() {
  if (attribution) map.attributionControl.removeAttribution(attribution);
  attribution = t(state.summary?.synthetic === false ? 'attribution_real' : 'attribution');
  map.attributionControl.addAttribution(attribution);
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
  if (state.level !== 'neighbourhood') { state.level = 'neighbourhood'; document.getElementById('level').value = 'neighbourhood'; await loadAreas(false); await loadPriorities(); }
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
  if (state.summary.basemap_url) L.tileLayer(state.summary.basemap_url, { maxZoom: 19 }).addTo(map);
  document.getElementById('metric').addEventListener('change', (e) => { state.metric = e.target.value; styleAreas(); });
  document.getElementById('level').addEventListener('change', async (e) => { state.level = e.target.value; await loadAreas(false); await loadPriorities(); });
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
  map.on('zoomend moveend', drawLabels);
  document.getElementById('plan-export').addEventListener('click', exportPlan);
  document.getElementById('plan-save').addEventListener('click', () => savePlan().catch(planFailed));
  document.getElementById('saved-plans').addEventListener('change', (e) => openSavedPlan(e.target.value).catch(planFailed));
  document.getElementById('panel-close').addEventListener('click', () => { document.getElementById('panel').hidden = true; state.selected = null; styleAreas(); });
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
  document.body.dataset.ready = 'true';
}

main().catch((e) => { document.getElementById('summary').textContent = String(e); console.error(e); });
