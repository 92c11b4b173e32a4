// Phủ Số web map: the map itself. MapLibre GL JS draws the areas and the H3 cells from this
// server's vector tiles (/tiles/{layer}/{z}/{x}/{y}.mvt), coloured by the metric in natural-break
// classes; the figures for the classes, labels, tooltips and fitting come from
// /api/areas?geometry=point (each area's label point, box and figures, no shapes), so one ward
// or the 3,321 wards of the country draw alike.
'use strict';

// Metrics: which way is bad, for the colour ramp.
const METRICS = ['members_needed', 'density_per_km2', 'residents_per_member', 'coverage_ratio', 'days_to_target', 'pairs_short', 'plan_added_metric'];
const HIGH_IS_BAD = { members_needed: true, density_per_km2: true, residents_per_member: true, coverage_ratio: false, days_to_target: true, pairs_short: true, plan_added_metric: true };
const RAMP = ['#fff5eb', '#fdd0a2', '#fd8d3c', '#d94801', '#7f2704'];
const NO_DATA = '#bbbbbb';
const PLAN_ZERO = '#f4f6f8';
const PLAN_OUT = '#9ecae1';
// The H3 layer's own ramp (purple: readable over the orange choropleth).
const HEX_RAMP = ['#efedf5', '#bcbddc', '#807dba', '#54278f'];
// Tile layer of each level (as /tiles lists them).
const TILE_LAYER = { country: 'country', province: 'province', district: 'districts', ward: 'wards', neighbourhood: 'neighbourhoods' };
const LEVELS = ['country', 'province', 'district', 'ward', 'neighbourhood'];
// What a click-through shows inside an area: a province its wards (former districts are the
// context), a ward its neighbourhoods.
const DRILL = { country: 'province', province: 'ward', district: 'ward', ward: 'neighbourhood' };

const map = new maplibregl.Map({
  container: 'map',
  style: { version: 8, sources: {}, layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#dfe7ec' } }] },
  attributionControl: false,
  dragRotate: false,
  pitchWithRotate: false,
  touchPitch: false,
  doubleClickZoom: false,
  fadeDuration: 0,
  maxZoom: 18,
  // The token (if any) goes with this server's tile requests, never elsewhere.
  transformRequest: (u) => (u.startsWith(location.origin) ? { url: u, headers: auth() } : { url: u }),
});
map.touchZoomRotate.disableRotation();
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'bottom-right');

// A control that is one element of ours (legend, breadcrumb).
class Box {
  constructor(id, cls) { this.el = document.createElement('div'); this.el.id = id; this.el.className = `maplibregl-ctrl ${cls}`; }
  onAdd() { return this.el; }
  onRemove() { this.el.remove(); }
}
const legendBox = new Box('legend', 'legend');
const crumbsBox = new Box('crumbs', 'crumbs');
map.addControl(crumbsBox, 'top-left');
map.addControl(legendBox, 'top-right');
let hexLegendBox = null;

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const tileUrl = (layer) => `${location.origin}/tiles/${layer}/{z}/{x}/{y}.mvt${asOfQ('?')}`;
// Resolves once the map has drawn a frame with every tile of the view in (layers just added
// included: the repaint makes sure a frame comes).
const idle = () => new Promise((resolve) => { map.once('idle', resolve); map.triggerRepaint(); });
// The levels the loaded data has, from the root down.
const levelsWithAreas = () => LEVELS.filter((l) => (state.summary.counts[l] || 0) > 0);
const rootLevel = () => levelsWithAreas()[0];

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

function colour(value, br) {
  if (value == null) return NO_DATA;
  if (state.metric === 'plan_added_metric' && value <= 0) return value < 0 ? PLAN_OUT : PLAN_ZERO;
  return rampFor(br.cuts.length + 1)[PhusoClasses.classOf(value, br)];
}

// The fill colour as a MapLibre expression over the tile's properties: the same classes as
// `colour` (a value below the first cut takes the first colour, as `classOf`). The plan is not
// in the tiles: its areas are matched by code.
function fillExpression(br) {
  if (state.metric === 'plan_added_metric') {
    const pairs = Object.entries(state.planAdded).flatMap(([code, n]) => [code, colour(n, br)]);
    return pairs.length ? ['match', ['get', 'code'], ...pairs, state.plan ? PLAN_ZERO : NO_DATA] : (state.plan ? PLAN_ZERO : NO_DATA);
  }
  const ramp = rampFor(br.cuts.length + 1);
  const scale = state.metric === 'coverage_ratio' ? 100 : 1;
  const value = ['*', ['to-number', ['get', state.metric]], scale];
  const step = br.cuts.length ? ['step', value, ramp[0], ...br.cuts.flatMap((c, i) => [c, ramp[i + 1]])] : ramp[0];
  return ['case', ['has', state.metric], step, NO_DATA];
}

// Shares are shown with one decimal; counts, densities and days as whole numbers.
const legendDigits = () => (state.metric === 'coverage_ratio' ? 1 : 0);
function drawLegend(br) {
  const unit = t('unit_' + state.metric);
  const edges = [br.min, ...br.cuts, br.max];
  const ramp = rampFor(br.cuts.length + 1);
  const d = legendDigits();
  const integers = edges.every(Number.isInteger);
  const rows = br.min == null ? [] : ramp.map((c, i) => {
    // Integer classes read "3 – 7"; others "0.5 – <1.2".
    const hi = i === ramp.length - 1 ? edges[i + 1] : (integers ? edges[i + 1] - 1 : edges[i + 1]);
    const sep = i === ramp.length - 1 || integers ? ' – ' : ' – <';
    const label = integers && hi === edges[i] ? num(hi, d) : `${num(edges[i], d)}${sep}${num(hi, d)}`;
    return `<div class="class"><i style="background:${c}"></i>${label}</div>`;
  });
  if (state.metric === 'plan_added_metric') rows.unshift(`<div><i style="background:${PLAN_OUT}"></i>&lt; 0</div><div><i style="background:${PLAN_ZERO}"></i>0</div>`);
  legendBox.el.innerHTML = `<strong>${t(state.metric)}</strong> (${unit})<br>${rows.join('')}<div><i style="background:${NO_DATA}"></i>${t('no_data')}</div>`;
}

// The H3 legend: edges at squares of quarters of the largest count among the cells loaded.
function hexEdges(max) { return [0, 0.0625, 0.25, 0.5625, 1].map((q) => Math.round(q * max)); }
function drawHexLegend() {
  if (hexLegendBox) { map.removeControl(hexLegendBox); hexLegendBox = null; }
  if (!state.hexOn) return;
  hexLegendBox = new Box('hex-legend', 'legend');
  const edges = hexEdges(state.hexMax);
  const rows = HEX_RAMP.map((c, i) => `<div><i style="background:${c}"></i>${num(edges[i])} – ${num(edges[i + 1])}</div>`);
  hexLegendBox.el.innerHTML = `<strong>${t('hex_legend')}</strong><br>${rows.join('')}<div><i style="background:#fff;border:2px solid #d00"></i>${t('hex_blind')}</div><div><i style="background:#fff;border:1px dashed #54278f"></i>${t('hex_withheld')}</div>`;
  map.addControl(hexLegendBox, 'bottom-left');
}

function hexFill() {
  const edges = hexEdges(state.hexMax);
  const counts = ['to-number', ['get', 'visits'], 0];
  const step = ['step', counts, HEX_RAMP[0], ...edges.slice(1, 4).flatMap((e, i) => [Math.max(e, i + 1), HEX_RAMP[i + 1]])];
  return ['case', ['==', ['get', 'blind_spot'], true], '#ffffff', ['==', ['get', 'suppressed'], true], '#ffffff', step];
}

// The layers the map draws, bottom up: basemap, areas of the level, outlines of the levels
// between the root and it (context), H3 cells, the selected area's outline.
let drawn = null;
// After the data changed: the next drawLayers fetches every tile again (they are sent with
// `no-cache` and an ETag, so unchanged tiles cost a 304).
function redrawTiles() { drawn = null; }
function drawLayers() {
  const key = `${state.level}|${state.asOf}|${state.hexOn}|${state.selected}|${state.selectedLevel}`;
  if (drawn === key) return;
  drawn = key;
  for (const l of [...map.getStyle().layers].reverse()) if (l.id !== 'background') map.removeLayer(l.id);
  for (const id of Object.keys(map.getStyle().sources)) map.removeSource(id);
  if (state.summary.basemap_url) {
    map.addSource('basemap', { type: 'raster', tiles: [state.summary.basemap_url], tileSize: 256, maxzoom: 19 });
    map.addLayer({ id: 'basemap', type: 'raster', source: 'basemap' });
  }
  const vector = (id, level) => {
    if (!map.getSource(id)) map.addSource(id, { type: 'vector', tiles: [tileUrl(TILE_LAYER[level])], minzoom: 0, maxzoom: 16, bounds: state.bounds });
    return { source: id, 'source-layer': TILE_LAYER[level] };
  };
  map.addLayer({ id: 'areas-fill', type: 'fill', ...vector('areas', state.level), paint: { 'fill-color': NO_DATA, 'fill-opacity': state.hexOn ? 0.35 : 0.78 } });
  map.addLayer({ id: 'areas-line', type: 'line', ...vector('areas', state.level), paint: { 'line-color': '#4a5561', 'line-width': 0.6 } });
  const levels = levelsWithAreas();
  const context = levels.slice(1, levels.indexOf(state.level));
  context.forEach((l, i) => {
    map.addLayer({ id: `context-${l}`, type: 'line', ...vector(`context-${l}`, l), paint: { 'line-color': '#1d2433', 'line-width': 1.2 + 0.8 * (context.length - 1 - i), 'line-opacity': 0.75 } });
  });
  if (state.hexOn) {
    map.addSource('h3', { type: 'vector', tiles: [tileUrl('h3')], minzoom: 0, maxzoom: 16, bounds: state.bounds });
    const h3 = { source: 'h3', 'source-layer': 'h3' };
    map.addLayer({ id: 'h3-fill', type: 'fill', ...h3, paint: { 'fill-color': hexFill(), 'fill-opacity': ['case', ['==', ['get', 'blind_spot'], true], 0.5, ['==', ['get', 'suppressed'], true], 0.3, 0.6] } });
    map.addLayer({ id: 'h3-line', type: 'line', ...h3, filter: ['all', ['!=', ['get', 'blind_spot'], true], ['!=', ['get', 'suppressed'], true]], paint: { 'line-color': '#3f007d', 'line-width': 0.3 } });
    map.addLayer({ id: 'h3-withheld', type: 'line', ...h3, filter: ['all', ['!=', ['get', 'blind_spot'], true], ['==', ['get', 'suppressed'], true]], paint: { 'line-color': '#54278f', 'line-width': 0.6, 'line-dasharray': [2, 2] } });
    map.addLayer({ id: 'h3-blind', type: 'line', ...h3, filter: ['==', ['get', 'blind_spot'], true], paint: { 'line-color': '#dd0000', 'line-width': 2 } });
  }
  if (state.selected && state.selectedLevel) {
    const src = state.selectedLevel === state.level ? 'areas' : `context-${state.selectedLevel}`;
    map.addLayer({ id: 'selected', type: 'line', ...vector(src, state.selectedLevel), filter: ['==', ['get', 'code'], state.selected], paint: { 'line-color': '#0b63a5', 'line-width': 3 } });
  }
  styleAreas();
}

function styleAreas() {
  if (!state.areas || !map.getLayer('areas-fill')) return;
  const br = breaks(state.areas.features.map((f) => metricValue(f.properties)));
  map.setPaintProperty('areas-fill', 'fill-color', fillExpression(br));
  map.setPaintProperty('areas-fill', 'fill-opacity', state.hexOn ? 0.35 : 0.78);
  drawLegend(br);
  drawLabels();
}

// Names of the areas in view, most in need first (so the top-ranked are always named), skipping
// any that would overlap a name already placed. HTML labels: no glyphs to serve.
let labelMarkers = [];
const LABELS = 30;
const shortName = (name) => name.replace(/^(Phường|Xã|Thị trấn|Đặc khu|Tỉnh|Thành phố) /, '').split(' (')[0];
function drawLabels() {
  for (const m of labelMarkers) m.remove();
  labelMarkers = [];
  if (!state.areas || !state.viewSet) return;
  const bounds = map.getBounds();
  const { clientWidth: width, clientHeight: height } = map.getContainer();
  const placed = [];
  const inView = state.areas.features.filter((f) => bounds.contains(f.geometry.coordinates)).sort((a, b) => a.properties.rank - b.properties.rank);
  for (const f of inView) {
    if (placed.length >= LABELS) break;
    const name = shortName(f.properties.name);
    const pt = map.project(f.geometry.coordinates);
    // An area smaller on screen than a third of its name is left unnamed (unless top-ranked).
    const [w0, s0, e0, n0] = f.bbox;
    const span = map.project([e0, s0]).x - map.project([w0, n0]).x;
    const w = 7 * name.length + 8, h = 16;
    if (placed.length >= 5 && span < w / 3) continue;
    const box = { x0: pt.x - w / 2, x1: pt.x + w / 2, y0: pt.y - h / 2, y1: pt.y + h / 2 };
    if (box.x0 < 0 || box.y0 < 0 || box.x1 > width || box.y1 > height) continue;
    if (placed.some((b) => box.x0 < b.x1 && b.x0 < box.x1 && box.y0 < b.y1 && b.y0 < box.y1)) continue;
    placed.push(box);
    const el = document.createElement('div');
    el.className = 'area-label';
    const text = document.createElement('span');
    text.dataset.code = f.properties.code;
    text.textContent = name;
    el.appendChild(text);
    labelMarkers.push(new maplibregl.Marker({ element: el }).setLngLat(f.geometry.coordinates).addTo(map));
  }
}

function tooltip(p) {
  const v = metricValue(p);
  const unit = state.metric === 'coverage_ratio' ? '%' : ' ' + t('unit_' + state.metric);
  return `<strong>${escapeHtml(p.name)}</strong><br>${t(state.metric)}: ${v == null ? t('no_data') : num(v, 1) + unit}`;
}

function hexTooltip(p) {
  const counts = p.suppressed ? t('withheld') : `${num(p.visits)} ${t('visits_cell')}, ${num(p.households)} ${t('households_cell')}`;
  const pop = p.population_est == null ? '' : `<br>${num(p.population_est)} ${t('pop_est')}`;
  return `${counts}${pop}${p.blind_spot ? '<br><strong>' + t('blind') + '</strong>' : ''}`;
}

const popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false, maxWidth: '280px', className: 'tip' });
function onHover(e) {
  const layers = ['h3-fill', 'areas-fill'].filter((l) => map.getLayer(l));
  const f = map.queryRenderedFeatures(e.point, { layers })[0];
  map.getCanvas().style.cursor = f ? 'pointer' : '';
  if (!f) { popup.remove(); return; }
  const html = f.layer.id === 'h3-fill' ? hexTooltip(f.properties) : tooltip(state.byCode.get(f.properties.code)?.properties || f.properties);
  popup.setLngLat(e.lngLat).setHTML(html).addTo(map);
}

function areaAt(point) {
  const f = map.getLayer('areas-fill') && map.queryRenderedFeatures(point, { layers: ['areas-fill'] })[0];
  return f ? f.properties.code : null;
}

// The largest visit count among the cells loaded sets the H3 classes (the resolution follows
// the zoom, and so does the largest count).
function updateHexMax() {
  if (!state.hexOn || !map.getSource('h3')) return;
  const max = Math.max(1, ...map.querySourceFeatures('h3', { sourceLayer: 'h3' }).map((f) => f.properties.visits || 0));
  if (max === state.hexMax) return;
  state.hexMax = max;
  map.setPaintProperty('h3-fill', 'fill-color', hexFill());
  drawHexLegend();
}

function fitBox(b, options = {}) {
  map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 24, duration: 0, ...options });
}

// The box around the areas of the level.
function levelBounds() {
  const fs = state.areas.features;
  return fs.reduce((b, f) => [Math.min(b[0], f.bbox[0]), Math.min(b[1], f.bbox[1]), Math.max(b[2], f.bbox[2]), Math.max(b[3], f.bbox[3])], [180, 90, -180, -90]);
}

// The breadcrumb: the root, then the selected area's ancestors, then the area. A crumb shows
// the parts of its area.
function renderCrumbs(path) {
  const el = crumbsBox.el;
  el.innerHTML = '';
  el.setAttribute('aria-label', t('crumbs'));
  const root = { code: null, name: state.summary.province.name, level: rootLevel() };
  const all = [root, ...(path || []).filter((a) => a.level !== rootLevel())];
  all.forEach((a, i) => {
    if (i) el.appendChild(document.createTextNode(' › '));
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.code = a.code || '';
    b.textContent = a.name;
    if (i === all.length - 1 && a.code) b.className = 'current';
    b.addEventListener('click', () => (a.code ? drill(a.code, a.level) : home()));
    el.appendChild(b);
  });
}

function setAttribution() {
  if (state.attribution) map.removeControl(state.attribution);
  state.attribution = new maplibregl.AttributionControl({ compact: false, customAttribution: t(state.summary?.synthetic === false ? 'attribution_real' : 'attribution') + ' · MapLibre' });
  map.addControl(state.attribution, 'bottom-right');
}
