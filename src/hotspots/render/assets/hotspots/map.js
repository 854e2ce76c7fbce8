/* hotspots map page (MIT). One fixed script for every map the project writes.
 *
 * It reads the page's JSON data block (the script element with id "hs-data") and builds the
 * map from it: layers, popups, tooltips, street/ward/town labels, rank badges, the legend, the layer
 * list, the list of places and the search box. Every string from the data is shown as text
 * (textContent, text nodes, input values): none is ever parsed as HTML, used as a link or run.
 *
 * Data (written by hotspots.render.maps / hotspots.render.public_maps):
 *   title, subtitle, kind ("borough" | "ward" | "public" | "consultation"),
 *   view: [[south, west], [north, east]] (first view), basemap: null | {url, attribution},
 *   layers: [{id, name, group, type: "vector" | "image" | "labels", show, exclusive?, pane,
 *             style?, fc?, ranks?, uri?, bounds?, opacity?, rows?, legend: {title, entries, ramp?}}],
 *   search: [[label, south, west, north, east, item id or ""]],
 *   list: null | {title, empty, rows: [{rank, id, text, detail, b}]},
 *   about: [text], notes: [text], credits: text.
 * Feature properties: t (tooltip), pt (popup title), p (popup rows [[name, value]]), c (colour), r (rank),
 * id (tasking item id).
 */
(function () {
  'use strict';

  var DATA = JSON.parse(document.getElementById('hs-data').textContent);
  var SVGNS = 'http://www.w3.org/2000/svg';
  var PANES = {
    'hs-surface': 250, 'hs-cells': 350, 'hs-context': 380, 'hs-areas': 420,
    'hs-points': 450, 'hs-items': 480, 'hs-labels': 520, 'hs-sites': 560, 'hs-ranks': 640
  };  // hs-sites: numbered camera sites and ANPR readers, above the names so no name hides their number
  var LABEL_KINDS = {street: 1, ward: 1, town: 1};
  var SYMBOLS = {fill: 1, line: 1, dash: 1, dot: 1, circle: 1, square: 1, triangle: 1, badge: 1, text: 1};
  var phone = window.matchMedia('(max-width: 700px)');

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    return e;
  }
  function colour(value, fallback) {
    return (typeof value === 'string' && /^#[0-9a-fA-F]{3,8}$/.test(value)) ? value : fallback;
  }
  function byId(id) { return document.getElementById(id); }

  // ------------------------------------------------------------------ the map
  var map = L.map('hs-map', {maxZoom: 19, minZoom: 8, zoomSnap: 0.25, attributionControl: false, zoomControl: true});
  Object.keys(PANES).forEach(function (p) {
    var pane = map.createPane(p);
    pane.style.zIndex = PANES[p];
  });
  map.getPane('hs-labels').style.pointerEvents = 'none';
  if (DATA.basemap && typeof DATA.basemap.url === 'string' && /^https?:\/\//.test(DATA.basemap.url)) {
    L.tileLayer(DATA.basemap.url, {maxZoom: 19}).addTo(map);
  }
  L.control.scale({position: 'bottomleft'}).addTo(map);
  if (L.control.fullscreen) {
    L.control.fullscreen({position: 'topleft', title: 'Full screen', titleCancel: 'Leave full screen'}).addTo(map);
  }
  var Credit = L.Control.extend({
    options: {position: 'bottomright'},
    onAdd: function () {
      var d = el('div', 'leaflet-control-attribution hs-credit');
      d.textContent = ['Leaflet'].concat(DATA.credits ? [DATA.credits] : []).concat(
        DATA.basemap && DATA.basemap.attribution ? [DATA.basemap.attribution] : []).join(' | ');
      return d;
    }
  });
  new Credit().addTo(map);
  map.fitBounds(DATA.view, {padding: [10, 10]});

  // ------------------------------------------------------------------ popups and tooltips
  function popupContent(p) {
    var box = el('div', 'hs-pop');
    if (p.pt) box.appendChild(el('h3', null, p.pt));
    if (p.p && p.p.length) {
      var table = el('table');
      p.p.forEach(function (row) {
        if (row[1] === '' || row[1] === null || row[1] === undefined) return;
        var tr = el('tr');
        tr.appendChild(el('th', null, row[0]));
        tr.appendChild(el('td', null, row[1]));
        table.appendChild(tr);
      });
      box.appendChild(table);
    }
    return box;
  }
  // a popup fits the map beside the zoom buttons (left) at any width: on a phone it is narrower than 340 px
  var POPUP_LEFT = 56, POPUP_GAP = 12, POPUP_CHROME = 50;  // px: zoom column, margin, popup padding and border
  function popupOptions() {
    var size = map.getSize();
    return {
      maxWidth: Math.max(160, Math.min(340, size.x - POPUP_LEFT - POPUP_GAP - POPUP_CHROME)),
      minWidth: 0,
      maxHeight: Math.max(180, Math.round(0.55 * size.y)),
      autoPanPaddingTopLeft: [POPUP_LEFT, POPUP_GAP],
      autoPanPaddingBottomRight: [POPUP_GAP, POPUP_GAP]
    };
  }
  function bindInfo(feature, layer) {
    var p = feature.properties || {};
    if (p.pt || (p.p && p.p.length)) {
      layer.bindPopup(function () { return popupContent(p); }, popupOptions());
    }
    if (p.t) layer.bindTooltip(function () { return el('span', null, p.t); }, {sticky: true, direction: 'top'});
  }

  // ------------------------------------------------------------------ symbols (map and legend)
  function markerSvg(symbol, style, size, number) {
    var s = svg('svg', {width: size, height: size, viewBox: '0 0 20 20', 'aria-hidden': 'true'});
    var line = colour(style.color, '#333'), fill = colour(style.fill, line);
    var a = {fill: fill, stroke: line, 'stroke-width': 2};
    if (symbol === 'square') s.appendChild(svg('rect', Object.assign({x: 2, y: 2, width: 16, height: 16}, a)));
    else if (symbol === 'triangle') s.appendChild(svg('polygon', Object.assign({points: '10,1 19,18 1,18'}, a)));
    else s.appendChild(svg('circle', Object.assign({cx: 10, cy: 10, r: 7}, a)));
    if (number !== undefined && number !== null && number !== '') {
      var t = svg('text', {x: 10, y: symbol === 'triangle' ? 16 : 14.5, 'text-anchor': 'middle', 'font-size': 11,
                           'font-weight': 700, fill: '#fff', stroke: line, 'stroke-width': 0.6,
                           'font-family': 'system-ui, sans-serif'});
      t.textContent = String(number);
      s.appendChild(t);
    }
    return s;
  }
  function pointLayer(spec, feature, latlng) {
    var st = spec.style || {}, p = feature.properties || {};
    var sym = SYMBOLS[st.symbol] ? st.symbol : 'circle';
    var line = colour(p.c, colour(st.color, '#333'));
    if (sym === 'square' || sym === 'triangle') {
      var r = st.radius || 7, icon = el('div');
      icon.appendChild(markerSvg(sym, {color: line, fill: colour(st.fill, line)}, 2 * r + 4, p.r));
      return L.marker(latlng, {
        pane: 'hs-sites', icon: L.divIcon({className: 'hs-marker', html: icon, iconSize: [2 * r + 4, 2 * r + 4]}),
        keyboard: false
      });
    }
    return L.circleMarker(latlng, {
      pane: spec.pane, radius: st.radius || 5, color: line, weight: st.weight || 1.5,
      fillColor: colour(p.c, colour(st.fill, line)), fillOpacity: st.fillOpacity === undefined ? 0.9 : st.fillOpacity
    });
  }
  function pathStyle(spec, feature) {
    var st = spec.style || {}, p = (feature && feature.properties) || {};
    var line = colour(p.c, colour(st.color, '#333'));
    var fill = st.fill ? colour(p.c, colour(st.fill, line)) : null;
    var weight = st.weight === undefined ? 1.5 : st.weight;
    if (st.widths && typeof p.k === 'string' && typeof st.widths[p.k] === 'number') weight = st.widths[p.k];
    return {
      pane: spec.pane, color: line, weight: weight,
      opacity: st.weight === 0 ? 0 : 1, dashArray: st.dash || null, fill: !!fill,
      fillColor: fill || line, fillOpacity: fill ? st.fillOpacity : 0
    };
  }

  // ------------------------------------------------------------------ layers
  var registry = {};   // layer id -> Leaflet layer
  var items = {};      // tasking item id -> {poly, at}

  function rankBadge(rank) {
    var d = el('div', 'hs-rank-badge', rank);
    return L.divIcon({className: 'hs-rank', html: d, iconSize: [26, 26], iconAnchor: [13, 13]});
  }
  function vectorLayer(spec) {
    var feats = (spec.fc && spec.fc.features) || [];
    if (spec.ranks) {   // the top-ranked place is drawn last, so it is on top and wins a click
      feats = feats.slice().sort(function (a, b) { return (b.properties.r || 0) - (a.properties.r || 0); });
    }
    var geo = L.geoJSON({type: 'FeatureCollection', features: feats}, {
      pane: spec.pane,
      style: function (f) { return pathStyle(spec, f); },
      pointToLayer: function (f, ll) { return pointLayer(spec, f, ll); },
      onEachFeature: bindInfo
    });
    if (!spec.ranks) return geo;
    var group = L.featureGroup([geo]);
    var badges = [];
    geo.eachLayer(function (poly) {
      var p = poly.feature.properties || {};
      var at = p.at ? L.latLng(p.at[0], p.at[1]) : poly.getBounds().getCenter();
      // a lower rank number is drawn above a higher one wherever badges overlap (Leaflet orders markers by
      // their latitude plus this offset)
      var m = L.marker(at, {pane: 'hs-ranks', icon: rankBadge(p.r), keyboard: false, title: p.t || '',
                            zIndexOffset: 10000 * (1000 - Math.min(p.r || 0, 999))});
      m.on('click', function () { poly.openPopup(at); });
      badges.push(m);
      if (p.id) items[p.id] = {poly: poly, at: at};
    });
    badges.forEach(function (m) { group.addLayer(m); });
    return group;
  }

  // A town-centre name whose point a rank badge covers moves just above (or below) the badge, at every zoom.
  var BADGE_GAP = 16;   // half the badge (13 px) and a 3 px gap
  function dodgeBadges(rows, cache) {
    var on = registry.items && map.hasLayer(registry.items);
    var badges = on ? Object.keys(items).map(function (id) { return map.latLngToContainerPoint(items[id].at); }) : [];
    for (var i = 0; i < rows.length; i++) {
      if (!cache[i] || rows[i][5] !== 'town' || rows[i][3]) continue;
      var span = cache[i].getElement() && cache[i].getElement().firstChild;
      if (!span) continue;
      var p = map.latLngToContainerPoint([rows[i][0], rows[i][1]]);
      var w = span.offsetWidth / 2 + BADGE_GAP, h = span.offsetHeight;
      var hit = null;
      for (var k = 0; k < badges.length && !hit; k++) {
        if (Math.abs(badges[k].x - p.x) < w && Math.abs(badges[k].y - p.y) < h / 2 + BADGE_GAP) hit = badges[k];
      }
      if (!hit) { span.style.transform = ''; continue; }
      var dy = hit.y - p.y, y = dy >= 0 ? dy - BADGE_GAP - h : dy + BADGE_GAP;
      span.style.transform = 'translate(-50%, ' + Math.round(y) + 'px)';
    }
  }

  function labelLayer(spec) {
    var rows = spec.rows || [], cache = new Array(rows.length), group = L.layerGroup();
    function make(r) {
      var kind = LABEL_KINDS[r[5]] ? r[5] : 'street';
      var span = el('span', 'hs-label-text', r[2]);
      if (r[3]) span.style.transform = 'translate(-50%, -50%) rotate(' + (-Number(r[3])) + 'deg)';
      return L.marker([r[0], r[1]], {
        pane: 'hs-labels', interactive: false, keyboard: false,
        icon: L.divIcon({className: 'hs-label hs-label-' + kind, html: span, iconSize: null})
      });
    }
    function refresh() {
      if (!map.hasLayer(group)) return;
      var z = map.getZoom(), b = map.getBounds().pad(0.3);
      for (var i = 0; i < rows.length; i++) {
        var want = rows[i][4] <= z && b.contains([rows[i][0], rows[i][1]]);
        if (want && !cache[i]) { cache[i] = make(rows[i]); group.addLayer(cache[i]); }
        else if (!want && cache[i]) { group.removeLayer(cache[i]); cache[i] = null; }
      }
      dodgeBadges(rows, cache);
    }
    map.on('zoomend moveend', refresh);
    map.on('layeradd layerremove', function (e) { if (e.layer === registry.items) setTimeout(refresh, 0); });
    group.on('add', function () { setTimeout(refresh, 0); });
    return group;
  }

  function imageLayer(spec) {
    return L.imageOverlay(spec.uri, spec.bounds, {
      pane: 'hs-surface', opacity: spec.opacity || 0.75, interactive: false, alt: spec.name
    });
  }

  var specs = DATA.layers || [];
  specs.forEach(function (spec) {
    var layer = spec.type === 'image' ? imageLayer(spec) : spec.type === 'labels' ? labelLayer(spec) : vectorLayer(spec);
    registry[spec.id] = layer;
    if (spec.show) layer.addTo(map);
  });

  // ------------------------------------------------------------------ legend (follows the visible layers)
  function swatch(entry) {
    var sym = SYMBOLS[entry.symbol] ? entry.symbol : 'fill';
    var line = colour(entry.colour, '#333'), fill = colour(entry.fill, line);
    var s;
    if (sym === 'circle' || sym === 'square' || sym === 'triangle') return markerSvg(sym, {color: line, fill: fill}, 18);
    s = svg('svg', {width: 22, height: 16, viewBox: '0 0 22 16', 'aria-hidden': 'true', 'class': 'hs-swatch'});
    if (sym === 'fill') {
      s.appendChild(svg('rect', {x: 1, y: 1, width: 20, height: 14, fill: fill, stroke: line, 'stroke-width': 1}));
    } else if (sym === 'line') {
      s.appendChild(svg('line', {x1: 1, y1: 8, x2: 21, y2: 8, stroke: line, 'stroke-width': 3}));
    } else if (sym === 'dash' || sym === 'dot') {
      s.appendChild(svg('rect', {x: 1.5, y: 1.5, width: 19, height: 13, fill: fill, 'fill-opacity': 0.25, stroke: line,
                                 'stroke-width': 2, 'stroke-dasharray': sym === 'dash' ? '5 3' : '1 3'}));
    } else if (sym === 'badge') {
      s.appendChild(svg('rect', {x: 1.5, y: 1.5, width: 19, height: 13, fill: fill, 'fill-opacity': 0.1, stroke: line,
                                 'stroke-width': 2.5}));
      s.appendChild(svg('circle', {cx: 11, cy: 8, r: 6, fill: '#111', stroke: '#fff', 'stroke-width': 1.5}));
    } else if (sym === 'text') {
      var t = svg('text', {x: 11, y: 12, 'text-anchor': 'middle', 'font-size': 11, fill: line, 'font-style': 'italic'});
      t.textContent = 'Abc';
      s.appendChild(t);
    }
    return s;
  }
  function rampBar(ramp) {
    var box = el('div', 'hs-ramp');
    var bar = el('div', 'hs-ramp-bar');
    (ramp.colours || []).forEach(function (c) {
      var stop = el('span');
      stop.style.background = colour(c, '#ccc');
      bar.appendChild(stop);
    });
    box.appendChild(bar);
    var ends = el('div', 'hs-ramp-ends');
    ends.appendChild(el('span', null, ramp.low));
    ends.appendChild(el('span', null, ramp.high));
    box.appendChild(ends);
    return box;
  }
  function updateLegend() {
    var body = byId('hs-legend-body');
    body.textContent = '';
    specs.forEach(function (spec) {
      if (!map.hasLayer(registry[spec.id])) return;
      var lg = spec.legend || {};
      var block = el('div', 'hs-leg');
      block.setAttribute('data-layer', spec.id);
      block.appendChild(el('h3', null, lg.title || spec.name));
      if (lg.ramp) block.appendChild(rampBar(lg.ramp));
      (lg.entries || []).forEach(function (e) {
        var row = el('div', 'hs-leg-row');
        row.appendChild(swatch(e));
        row.appendChild(el('span', null, e.label));
        block.appendChild(row);
      });
      body.appendChild(block);
    });
    if (!body.childNodes.length) body.appendChild(el('p', 'hs-muted', 'No layer is switched on.'));
  }

  // ------------------------------------------------------------------ layer list
  function buildLayerList() {
    var body = byId('hs-layers-body'), groups = {}, order = [];
    specs.forEach(function (spec) {
      var g = spec.group || 'Layers';
      if (!groups[g]) { groups[g] = []; order.push(g); }
      groups[g].push(spec);
    });
    order.forEach(function (g, gi) {
      var box = el('fieldset', 'hs-group');
      box.appendChild(el('legend', null, g));
      var exclusive = null;
      groups[g].forEach(function (spec, si) {
        var lab = el('label', 'hs-layer');
        var input = el('input');
        input.type = spec.exclusive ? 'radio' : 'checkbox';
        if (spec.exclusive) { input.name = 'hs-x-' + gi; exclusive = input.name; }
        input.checked = !!spec.show;
        input.id = 'hs-l-' + gi + '-' + si;
        input.setAttribute('data-layer', spec.id);
        input.addEventListener('change', function () {
          if (spec.exclusive) {
            groups[g].forEach(function (o) { if (o.exclusive && o !== spec) map.removeLayer(registry[o.id]); });
          }
          if (input.checked) registry[spec.id].addTo(map); else map.removeLayer(registry[spec.id]);
          updateLegend();
        });
        lab.appendChild(input);
        lab.appendChild(el('span', null, spec.name));
        box.appendChild(lab);
      });
      if (exclusive) {
        var none = el('label', 'hs-layer');
        var ni = el('input');
        ni.type = 'radio'; ni.name = exclusive; ni.id = 'hs-l-' + gi + '-none';
        ni.checked = !groups[g].some(function (s) { return s.exclusive && s.show; });
        ni.addEventListener('change', function () {
          groups[g].forEach(function (o) { if (o.exclusive) map.removeLayer(registry[o.id]); });
          updateLegend();
        });
        none.appendChild(ni);
        none.appendChild(el('span', null, 'None'));
        box.appendChild(none);
      }
      body.appendChild(box);
    });
  }

  // ------------------------------------------------------------------ list of places, about
  function openItem(id) {
    var it = items[id];
    if (!it) return false;
    if (!map.hasLayer(it.poly)) {
      var inp = document.querySelector('#hs-layers-body input[data-layer="items"]');
      if (inp && !inp.checked) { inp.checked = true; inp.dispatchEvent(new Event('change')); }
    }
    map.fitBounds(it.poly.getBounds(), {maxZoom: 16, padding: [30, 30], animate: false});
    it.poly.openPopup(it.at);
    return true;
  }
  function buildList() {
    var list = DATA.list;
    if (!list) return;
    byId('hs-items').hidden = false;
    var tab = byId('hs-tab-items');
    tab.hidden = false;
    tab.textContent = list.tab || 'List';
    byId('hs-items-title').textContent = list.title;
    var ol = byId('hs-items-body');
    if (!list.rows.length) { ol.appendChild(el('li', 'hs-muted', list.empty)); return; }
    list.rows.forEach(function (r) {
      var li = el('li');
      var b = el('button', 'hs-item');
      b.type = 'button';
      b.appendChild(el('span', 'hs-rank-badge', r.rank));
      var txt = el('span', 'hs-item-text');
      txt.appendChild(el('strong', null, r.text));
      if (r.detail) txt.appendChild(el('span', 'hs-item-detail', r.detail));
      b.appendChild(txt);
      b.addEventListener('click', function () {
        if (phone.matches) closePanel();
        if (!openItem(r.id) && r.b) map.fitBounds(r.b, {maxZoom: 16});
      });
      li.appendChild(b);
      ol.appendChild(li);
    });
  }
  function buildRespond() {   // a consultation map: how to respond (a link only to a web or e-mail address)
    var r = DATA.respond;
    if (!r) return;
    var sec = el('section', 'hs-section');
    sec.id = 'hs-respond';
    sec.appendChild(el('h2', null, 'Have your say'));
    if (r.text) sec.appendChild(el('p', null, r.text));
    if (typeof r.url === 'string' && /^(https?:\/\/|mailto:)/i.test(r.url)) {
      var a = el('a', null, r.url.replace(/^mailto:/i, ''));
      a.href = r.url;
      a.rel = 'noopener noreferrer';
      a.target = '_blank';
      var p = el('p');
      p.appendChild(a);
      sec.appendChild(p);
    } else if (r.url) {
      sec.appendChild(el('p', null, r.url));
    }
    byId('hs-panel').insertBefore(sec, byId('hs-legend'));
  }
  function buildAbout() {
    var body = byId('hs-about-body');
    (DATA.about || []).forEach(function (t) { body.appendChild(el('p', null, t)); });
    if (DATA.credits) body.appendChild(el('p', 'hs-muted', DATA.credits));
    if (DATA.notes && DATA.notes.length) {
      body.appendChild(el('h3', null, 'Not on this map'));
      var ul = el('ul', 'hs-notes');
      DATA.notes.forEach(function (t) { ul.appendChild(el('li', null, t)); });
      body.appendChild(ul);
    }
  }

  // ------------------------------------------------------------------ search
  function buildSearch() {
    var rows = DATA.search || [], input = byId('hs-search'), dl = byId('hs-search-list'), miss = byId('hs-search-miss');
    rows.forEach(function (r) { var o = el('option'); o.value = r[0]; dl.appendChild(o); });
    function go() {
      var q = input.value.trim().toLowerCase();
      if (!q) return;
      var hit = null, i;
      for (i = 0; i < rows.length && !hit; i++) if (rows[i][0].toLowerCase() === q) hit = rows[i];
      for (i = 0; i < rows.length && !hit; i++) if (rows[i][0].toLowerCase().indexOf(q) >= 0) hit = rows[i];
      if (!hit) { input.classList.add('hs-miss'); miss.textContent = 'No match'; return; }
      input.classList.remove('hs-miss');
      miss.textContent = '';
      if (!(hit[5] && openItem(hit[5]))) map.fitBounds([[hit[1], hit[2]], [hit[3], hit[4]]], {maxZoom: 17});
    }
    input.addEventListener('change', go);
    input.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') go(); });
  }

  // ------------------------------------------------------------------ panel on a phone
  var panel = byId('hs-panel');
  function closePanel() {
    panel.classList.remove('hs-open');
    panel.removeAttribute('data-show');
    Array.prototype.forEach.call(document.querySelectorAll('#hs-tabs button'), function (b) {
      b.setAttribute('aria-expanded', 'false');
    });
  }
  function openPanel(id, button) {
    if (panel.classList.contains('hs-open') && panel.getAttribute('data-show') === id) { closePanel(); return; }
    closePanel();
    panel.classList.add('hs-open');
    panel.setAttribute('data-show', id);
    button.setAttribute('aria-expanded', 'true');
    byId('hs-panel-name').textContent = button.textContent;
  }
  Array.prototype.forEach.call(document.querySelectorAll('#hs-tabs button'), function (b) {
    b.setAttribute('aria-expanded', 'false');
    b.addEventListener('click', function () { openPanel(b.getAttribute('data-panel'), b); });
  });
  byId('hs-panel-close').addEventListener('click', closePanel);
  // printing: the map gets the page's size; a map nobody has moved is fitted to its first view again
  var first = null;
  map.whenReady(function () { first = {c: map.getCenter(), z: map.getZoom()}; });
  function toPrint() {
    var untouched = first && map.getZoom() === first.z && map.distance(map.getCenter(), first.c) < 5;
    map.invalidateSize({pan: false});
    if (untouched) map.fitBounds(DATA.view, {padding: [6, 6], animate: false});
  }
  window.addEventListener('beforeprint', toPrint);
  var printing = window.matchMedia('print');   // the print layout applies after 'beforeprint': fit again then
  var onPrint = function (e) { if (e.matches) toPrint(); else map.invalidateSize({pan: false}); };
  if (printing.addEventListener) printing.addEventListener('change', onPrint); else printing.addListener(onPrint);
  window.addEventListener('afterprint', function () { map.invalidateSize({pan: false}); });

  buildLayerList();
  buildList();
  buildAbout();
  buildRespond();
  buildSearch();
  updateLegend();

  window.hsMap = map;
  window.hsLayers = registry;
  window.hsOpenItem = openItem;
  document.body.setAttribute('data-ready', '1');
})();
