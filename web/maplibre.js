// MapLibre GL JS 6 ships as an ES module only; the page's own scripts are classic (deferred,
// run after this module in document order), so the module hands itself over on `window`.
import * as maplibregl from './vendor/maplibre-gl/maplibre-gl.mjs';

window.maplibregl = maplibregl;
