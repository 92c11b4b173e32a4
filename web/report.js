// Phủ Số printed report ("Báo cáo / Report") for the province or one area, laid out for A4:
// title and dates, a map of the area's parts coloured by members needed, the key figures, the
// service funnel, the ranked parts with their reasons and, when the map page had one, the plan.
// Parameters: code (default the province), lang (vi | en), as_of (a past day), plan=1 (the plan
// the map page handed over in localStorage).
'use strict';

const Q = new URLSearchParams(location.search);
const LANG = Q.get('lang') === 'en' ? 'en' : 'vi';
const AS_OF = Q.get('as_of');
const asOfQ = (sep = '&') => (AS_OF ? `${sep}as_of=${encodeURIComponent(AS_OF)}` : '');

const T = {
  vi: {
    kicker: 'Báo cáo độ phủ số · chiến dịch VNeID và dịch vụ công trực tuyến', country: 'Toàn quốc', province: 'Tỉnh/thành', district: 'Huyện/thành cũ', ward: 'Phường/xã', neighbourhood: 'Khu phố/ấp',
    dates: (d) => `Số liệu đến ngày ${d.as_of} (ngày ${d.day}/${d.days} của chiến dịch) · hạn ${d.deadline} · lập ngày ${d.made}`,
    figures: 'Số liệu chính', funnel: 'Các bước dịch vụ', ranked: (l) => `${l} cần thêm người, theo thứ tự ưu tiên`, plan: 'Kế hoạch bổ sung người',
    population: 'Dân số', households: 'Số hộ', households_reached: 'Hộ đã tiếp cận', coverage_ratio: 'Tỷ lệ hộ đã tiếp cận', visits: 'Lượt hỗ trợ', teams: 'Số tổ', members: 'Thành viên',
    members_needed: 'Cần thêm thành viên', projected_completion: 'Dự kiến hoàn thành', on_track: 'Kịp hạn', norm_members_short: 'Thiếu theo định mức TNTN',
    yes: 'có', no: 'không', never: 'chưa xác định', withheld: 'ẩn (dưới {k} hộ)', none: '—',
    step: 'Bước', hh: 'Số hộ', of_previous: 'So với bước trước', of_reached: 'So với hộ đã tiếp cận',
    svc_vneid_install: 'Cài VNeID', svc_vneid_activation: 'Kích hoạt VNeID', svc_dvc_account: 'Tài khoản DVC', svc_online_payment: 'Thanh toán trực tuyến', svc_qr_payment: 'Thanh toán QR',
    funnel_past: 'Số hộ theo dịch vụ chỉ có cho ngày hiện tại.',
    rank: '#', name: 'Tên', need: 'Cần thêm', coverage: 'Tỷ lệ phủ', completion: 'Hoàn thành', reason: 'Lý do',
    added: 'Thêm', before: 'Trước', after: 'Sau', legend: 'Cần thêm thành viên:', no_data: 'không có số',
    notes: (k, synthetic) => `Các số dưới ${k} hộ được ẩn theo quy tắc số nhỏ (Nghị định 13/2023/NĐ-CP). Dự báo theo tốc độ 7 ngày gần nhất.${synthetic ? ' Ranh giới phường/xã và dân số là số liệu thật; khu phố, tổ và lượt hỗ trợ là dữ liệu mô phỏng.' : ''} Nguồn: Phủ Số.`,
  },
  en: {
    kicker: 'Digital coverage report · VNeID and online public-service campaign', country: 'Country', province: 'Province', district: 'Former district', ward: 'Ward/commune', neighbourhood: 'Neighbourhood',
    dates: (d) => `Data as of ${d.as_of} (day ${d.day} of ${d.days}) · deadline ${d.deadline} · made ${d.made}`,
    figures: 'Key figures', funnel: 'Service steps', ranked: (l) => `${l}s needing more members, by priority`, plan: 'Plan for new volunteers',
    population: 'Population', households: 'Households', households_reached: 'Households reached', coverage_ratio: 'Share of households reached', visits: 'Visits', teams: 'Teams', members: 'Members',
    members_needed: 'More members needed', projected_completion: 'Projected completion', on_track: 'On track', norm_members_short: 'Short of the TNTN norm',
    yes: 'yes', no: 'no', never: 'unknown', withheld: 'withheld (under {k} households)', none: '—',
    step: 'Step', hh: 'Households', of_previous: 'Of the step before', of_reached: 'Of households reached',
    svc_vneid_install: 'VNeID installed', svc_vneid_activation: 'VNeID activated', svc_dvc_account: 'DVC account', svc_online_payment: 'Online bill payment', svc_qr_payment: 'QR payment',
    funnel_past: 'Households per service are given for the current day only.',
    rank: '#', name: 'Name', need: 'Needs', coverage: 'Coverage', completion: 'Completion', reason: 'Reason',
    added: 'Added', before: 'Before', after: 'After', legend: 'More members needed:', no_data: 'no figure',
    notes: (k, synthetic) => `Counts under ${k} households are withheld (small-count rule, Decree 13/2023). Projections at the pace of the last 7 days.${synthetic ? ' Ward boundaries and population are real; neighbourhoods, teams and visits are synthetic.' : ''} Source: Phủ Số.`,
  },
}[LANG];

let K = 5;
const t = (k) => (typeof T[k] === 'string' ? T[k].replace('{k}', K) : T[k] ?? k);
const locale = LANG === 'vi' ? 'vi-VN' : 'en-GB';
const num = (x, digits = 0) => (x == null ? t('withheld') : new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(x));
const pct = (x) => (x == null ? t('withheld') : `${num(x * 100, 1)}%`);
const date = (iso) => (iso ? new Intl.DateTimeFormat(locale, { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC' }).format(new Date(iso + 'T00:00:00Z')) : t('never'));
const CHILD = { country: 'province', province: 'ward', district: 'ward', ward: 'neighbourhood', neighbourhood: 'neighbourhood' };
const RAMP = ['#fff5eb', '#fdd0a2', '#fd8d3c', '#d94801', '#7f2704'];

async function getJson(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return r.json();
}

function cell(tr, text, cls) {
  const td = tr.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function head(table, cols) {
  const tr = table.createTHead().insertRow();
  for (const [text, cls] of cols) {
    const th = document.createElement('th');
    th.textContent = text;
    if (cls) th.className = cls;
    tr.appendChild(th);
  }
}

// Quantile classes of the values shown (at most 5).
function classes(values) {
  const v = values.filter((x) => x != null).sort((a, b) => a - b);
  if (!v.length) return [];
  const cuts = [];
  for (let i = 1; i < 5; i++) {
    const c = v[Math.floor((i * v.length) / 5)];
    if (c > v[0] && !cuts.includes(c)) cuts.push(c);
  }
  return cuts;
}
const classOf = (x, cuts) => cuts.filter((c) => x >= c).length;

// The parts of the area on an SVG (equirectangular at the area's latitude), coloured by
// members needed, the top-ranked parts named where their names do not overlap.
function drawMap(features, focus) {
  const svg = document.getElementById('map');
  const W = 640, P = 12;
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  const rings = (g) => (g.type === 'Polygon' ? [g.coordinates] : g.coordinates);
  for (const f of features) for (const poly of rings(f.geometry)) for (const [x, y] of poly[0]) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  const k = Math.cos(((y0 + y1) / 2) * Math.PI / 180);
  // As tall as the area's shape asks, within half to one and a half of the width.
  const H = Math.round(Math.min(1.5 * W, Math.max(0.5 * W, (W * (y1 - y0)) / (((x1 - x0) * k) || 1))));
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const s = Math.min((W - 2 * P) / ((x1 - x0) * k || 1), (H - 2 * P) / ((y1 - y0) || 1));
  const ox = (W - (x1 - x0) * k * s) / 2, oy = (H - (y1 - y0) * s) / 2;
  const px = ([x, y]) => [ox + (x - x0) * k * s, oy + (y1 - y) * s];
  const cuts = classes(features.map((f) => f.properties.members_needed));
  let out = '';
  for (const f of features) {
    const d = rings(f.geometry).map((poly) => poly.map((r) => 'M' + r.map((c) => px(c).map((v) => v.toFixed(1)).join(',')).join('L') + 'Z').join('')).join('');
    const v = f.properties.members_needed;
    const fill = v == null ? '#cccccc' : RAMP[Math.min(4, classOf(v, cuts) + (cuts.length < 4 ? 4 - cuts.length : 0))];
    out += `<path d="${d}" fill="${fill}" fill-rule="evenodd" class="${f.properties.code === focus ? 'focus' : ''}" data-code="${f.properties.code}"/>`;
  }
  const placed = [];
  const labels = [];
  const short = (n) => n.replace(/ \(.*\)$/, '').replace(/^(Phường|Xã|Thị trấn) /, '');
  const ranked = features.filter((f) => f.properties.label_point).sort((a, b) => a.properties.rank - b.properties.rank).slice(0, 12);
  for (const f of ranked) {
    const [x, y] = px(f.properties.label_point);
    const name = short(f.properties.name);
    const w = 5.4 * name.length + 6, h = 12;
    const b = { x0: x - w / 2, x1: x + w / 2, y0: y - h / 2, y1: y + h / 2 };
    if (placed.some((o) => b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1)) continue;
    placed.push(b);
    labels.push(name);
    out += `<rect x="${(x - w / 2).toFixed(1)}" y="${(y - h / 2).toFixed(1)}" width="${w.toFixed(1)}" height="${h}" rx="2" fill="#fff" fill-opacity=".8"/><text x="${x.toFixed(1)}" y="${(y + 3).toFixed(1)}"></text>`;
  }
  svg.innerHTML = out;
  // Names as text nodes (never markup).
  svg.querySelectorAll('text').forEach((el, k) => { el.textContent = labels[k]; });
  const edges = [0, ...cuts];
  const legend = document.getElementById('legend');
  const first = cuts.length < 4 ? 4 - cuts.length : 0;
  legend.innerHTML = `<span></span>` + edges.map((e, j) => `<i style="background:${RAMP[first + j]}"></i>${j === edges.length - 1 ? '≥ ' + num(e) : num(e) + ' – ' + num(edges[j + 1] - 1)}`).join('') + `<i style="background:#cccccc"></i>${t('no_data')}`;
  legend.firstChild.textContent = t('legend');
}

async function main() {
  const summary = await getJson(`/api/summary${asOfQ('?')}`);
  K = summary.min_count ?? 5;
  const code = Q.get('code') || summary.province.code;
  const detail = await getJson(`/api/areas/${encodeURIComponent(code)}${asOfQ('?')}`);
  const a = detail.area;
  const c = summary.campaign;
  document.documentElement.lang = LANG;
  document.title = `Phủ Số — ${a.name}`;
  document.getElementById('kicker').textContent = `${t('kicker')} · ${t(a.level)}${detail.parent ? ' · ' + detail.parent.name : ''}`;
  document.getElementById('title').textContent = a.name;
  document.getElementById('dates').textContent = t('dates')({ as_of: date(c.as_of), day: c.day, days: c.days, deadline: date(c.deadline), made: date(new Date().toISOString().slice(0, 10)) });

  // Key figures.
  const fig = document.getElementById('figures');
  document.getElementById('h-figures').textContent = t('figures');
  const yesno = (v) => (v == null ? t('withheld') : v ? t('yes') : t('no'));
  for (const [k, v] of [
    ['population', num(a.population)], ['households', num(a.households)], ['households_reached', num(a.households_reached)],
    ['coverage_ratio', pct(a.coverage_ratio)], ['visits', num(a.visits)], ['teams', num(a.teams)], ['members', num(a.members)],
    ['members_needed', num(a.members_needed)], ['projected_completion', a.on_track == null ? t('withheld') : date(a.projected_completion)],
    ['on_track', yesno(a.on_track)], ['norm_members_short', num(a.norm_members_short)],
  ]) {
    const tr = fig.insertRow();
    tr.dataset.field = k;
    cell(tr, t(k));
    cell(tr, v, 'n');
  }

  // The service funnel.
  document.getElementById('h-funnel').textContent = t('funnel');
  const fun = document.getElementById('funnel');
  if (detail.funnel.every((s) => s.households == null) && AS_OF) {
    const tr = fun.insertRow();
    cell(tr, t('funnel_past'));
  } else {
    head(fun, [[t('step')], [t('hh'), 'n'], [t('of_previous'), 'n'], [t('of_reached'), 'n']]);
    const body = fun.createTBody();
    for (const s of detail.funnel) {
      const tr = body.insertRow();
      tr.dataset.service = s.service;
      cell(tr, t('svc_' + s.service));
      cell(tr, num(s.households), 'n');
      cell(tr, s.of_previous == null ? t('none') : pct(s.of_previous), 'n');
      cell(tr, s.of_reached == null ? t('none') : pct(s.of_reached), 'n');
    }
  }

  // The parts: map and ranked list.
  const level = CHILD[a.level];
  // The parts drawn and ranked: a province's wards (through its former districts), else the
  // area's children; a neighbourhood itself.
  const under = new Set([a.code, ...(a.level === 'province' ? detail.children.map((c) => c.code) : [])]);
  const inside = (p) => (a.level === 'neighbourhood' ? p.code === a.code : under.has(p.parent_code));
  const layer = await getJson(`/api/areas?level=${level}&zoom=12${asOfQ()}`);
  const parts = layer.features.filter((f) => inside(f.properties));
  drawMap(parts, a.code);
  const codes = new Set(parts.map((f) => f.properties.code));
  const pri = await getJson(`/api/priorities?level=${level}&limit=5000${asOfQ()}`);
  const rows = pri.items.filter((p) => codes.has(p.code) && p.code !== a.code);
  const ranked = document.getElementById('ranked');
  document.getElementById('h-ranked').textContent = t('ranked')(t(level));
  document.getElementById('ranked-box').hidden = rows.length === 0;
  head(ranked, [[t('rank'), 'n'], [t('name')], [t('need'), 'n'], [t('coverage'), 'n'], [t('completion'), 'n'], [t('reason')]]);
  const body = ranked.tBodies[0];
  rows.forEach((p, i) => {
    const tr = body.insertRow();
    tr.dataset.code = p.code;
    cell(tr, String(i + 1), 'n');
    // In a ward's report its neighbourhoods need not repeat the ward's name.
    cell(tr, a.level === 'ward' ? p.name.replace(/ \(.*\)$/, '') : p.name, 'name');
    cell(tr, num(p.members_needed), 'n');
    cell(tr, pct(p.coverage_ratio), 'n');
    cell(tr, p.on_track == null ? t('withheld') : date(p.projected_completion), 'n');
    cell(tr, LANG === 'vi' ? p.reason_vi : p.reason, 'why');
  });

  // The plan the map page handed over, restricted to this area's parts.
  const handed = Q.get('plan') === '1' ? JSON.parse(localStorage.getItem('phuso-report-plan') || 'null') : null;
  if (handed && handed.plan) {
    const p = handed.plan;
    const mine = p.rows.filter((r) => a.level === 'province' || codes.has(r.code));
    document.getElementById('plan-box').hidden = false;
    document.getElementById('h-plan').textContent = t('plan');
    document.getElementById('plan-summary').textContent = LANG === 'vi' ? p.summary_vi : p.summary;
    const table = document.getElementById('plan');
    head(table, [[t('name')], [t('added'), 'n'], [t('before'), 'n'], [t('after'), 'n']]);
    for (const r of mine) {
      const tr = table.tBodies[0].insertRow();
      tr.dataset.code = r.code;
      cell(tr, r.name);
      cell(tr, num(handed.added?.[r.code] ?? r.members_added), 'n');
      cell(tr, date(r.completion_before), 'n');
      cell(tr, date(r.completion_after), 'n');
    }
  }
  document.getElementById('notes').textContent = t('notes')(K, summary.synthetic);
  document.getElementById('print').addEventListener('click', () => window.print());
  document.body.dataset.ready = 'true';
}

main().catch((e) => { document.getElementById('title').textContent = String(e.message || e); document.body.dataset.ready = 'error'; console.error(e); });
