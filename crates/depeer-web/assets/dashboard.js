// depeer dashboard: draws the page named by body[data-page] (overview, as,
// lookup) from the JSON API of the same server, with the vendored uPlot
// and Cytoscape.js. Data reaches the page only as text (textContent; no
// innerHTML). Every chart, table and graph says what it drew
// (data-points, data-rows, data-nodes, data-edges); body[data-ready] is
// "yes" once every part is drawn, body[data-errors] lists what failed,
// body[data-external] counts requests that left the server (the browser
// test reads all of these).
(function () {
  'use strict';
  var errors = [];
  var palette = ['#c0392b', '#2471a3', '#239b56', '#b7950b', '#7d3c98', '#ca6f1e',
    '#17a589', '#566573', '#a93226', '#1f618d'];
  var main = document.getElementById('main');
  var params = new URLSearchParams(location.search);

  function fail(what, e) {
    errors.push(what + ': ' + (e && e.message ? e.message : String(e)));
    document.body.setAttribute('data-errors', errors.join('; '));
  }
  document.addEventListener('securitypolicyviolation', function (e) {
    fail('CSP', e.violatedDirective + ' ' + e.blockedURI);
  });
  window.addEventListener('error', function (e) { fail('script', e.message); });

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function section(title, id) {
    var s = el('section', { id: id });
    s.appendChild(el('h2', {}, title));
    main.appendChild(s);
    return s;
  }
  function note(parent, text) { parent.appendChild(el('p', { 'class': 'note' }, text)); }
  function api(path) {
    return fetch(path, { headers: { accept: 'application/json' } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) {
          var m = body && body.error ? body.error.message : ('HTTP ' + r.status);
          var err = new Error(m); err.status = r.status; throw err;
        }
        return body;
      });
    });
  }
  function t(s) { return s ? Date.parse(s) / 1000 : null; }
  function pct(x) { return (100 * x).toFixed(1) + ' %'; }
  function fmt(v) {
    if (v === null || v === undefined) { return '-'; }
    if (typeof v === 'number') { return Number.isInteger(v) ? String(v) : v.toFixed(4); }
    if (Array.isArray(v)) { return v.join(', '); }
    return String(v);
  }
  function asLink(asn) { var a = el('a', { href: '/as/' + asn }, 'AS' + asn); return a; }

  // A table of rows; columns [{name, get(row) -> value or Node}]; sortable
  // by clicking a header when `sortable`.
  function table(parent, columns, rows, sortable, id) {
    var tb = el('table', { 'data-rows': String(rows.length) });
    if (id) { tb.id = id; }
    var head = el('tr');
    var body = el('tbody');
    var order = { col: -1, dir: 1 };
    function fill() {
      while (body.firstChild) { body.removeChild(body.firstChild); }
      rows.forEach(function (r) {
        var tr = el('tr');
        columns.forEach(function (c) {
          var v = c.get(r), td = el('td');
          if (v instanceof Node) { td.appendChild(v); } else { td.textContent = fmt(v); }
          if (typeof v === 'number') { td.className = 'num'; }
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
    }
    columns.forEach(function (c, i) {
      var th = el('th', {}, c.name);
      if (sortable) {
        th.className = 'sortable';
        th.addEventListener('click', function () {
          order.dir = order.col === i ? -order.dir : -1;
          order.col = i;
          rows.sort(function (a, b) {
            var x = c.sortKey ? c.sortKey(a) : c.get(a), y = c.sortKey ? c.sortKey(b) : c.get(b);
            if (x instanceof Node) { x = x.textContent; }
            if (y instanceof Node) { y = y.textContent; }
            return (x > y ? 1 : x < y ? -1 : 0) * order.dir;
          });
          tb.setAttribute('data-sorted', c.name + (order.dir > 0 ? ' asc' : ' desc'));
          fill();
        });
      }
      head.appendChild(th);
    });
    var thead = el('thead'); thead.appendChild(head);
    tb.appendChild(thead); tb.appendChild(body);
    fill();
    parent.appendChild(tb);
    return tb;
  }

  // Vertical lines at marks [{time, color}] drawn over a uPlot chart.
  function markHook(box, marks) {
    return function (u) {
      var ctx = u.ctx, n = 0;
      ctx.save();
      ctx.lineWidth = 2 * (window.devicePixelRatio || 1);
      marks.forEach(function (m) {
        var x = u.valToPos(m.time, 'x', true);
        if (!(x >= u.bbox.left && x <= u.bbox.left + u.bbox.width)) { return; }
        ctx.strokeStyle = m.color;
        ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
        n += 1;
      });
      ctx.restore();
      box.setAttribute('data-marks', String(n));
    };
  }
  // A uPlot line chart; series [{label, values}] over times xs (seconds).
  // Drag to zoom, double-click to reset (uPlot's cursor).
  function chart(parent, xs, series, opts) {
    var box = el('div', { 'class': 'chart' });
    parent.appendChild(box);
    var points = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null) { points += 1; } }); });
    var w = Math.max(480, Math.floor(box.clientWidth || main.clientWidth || 960));
    var o = {
      width: w, height: (opts && opts.height) || 280,
      scales: { x: { time: true } },
      cursor: { drag: { x: true, y: false } },
      series: [{}].concat(series.map(function (s, i) {
        return { label: s.label, stroke: palette[i % palette.length], width: 1.5, points: { show: false } };
      })),
      axes: [{}, { label: (opts && opts.ylabel) || '' }],
      hooks: {
        draw: [function () { box.setAttribute('data-points', String(points)); }]
          .concat(opts && opts.marks ? [markHook(box, opts.marks)] : [])
      }
    };
    var u = new uPlot(o, [xs].concat(series.map(function (s) { return s.values; })), box);
    box.addEventListener('dblclick', function () { u.setScale('x', { min: xs[0], max: xs[xs.length - 1] }); });
    return box;
  }
  // The coarsest of the usual steps that keeps the range under `max` buckets.
  function stepFor(from, until, max) {
    var steps = [['1m', 60], ['5m', 300], ['10m', 600], ['30m', 1800], ['1h', 3600], ['2h', 7200],
      ['6h', 21600], ['12h', 43200], ['1d', 86400], ['7d', 604800]];
    var span = Math.max(60, (t(until) || 0) - (t(from) || 0));
    for (var i = 0; i < steps.length; i++) { if (span / steps[i][1] <= max) { return steps[i][0]; } }
    return '7d';
  }
  function byKey(rows) {
    var keys = {}, times = {};
    rows.forEach(function (r) {
      (keys[r.key] = keys[r.key] || {})[r.time] = r.value;
      times[r.time] = true;
    });
    var xs = Object.keys(times).sort();
    return { xs: xs, keys: keys };
  }

  // ---- overview ----
  function rateChart(range, events) {
    var s = section('Spam rate and its events', 'rate');
    var step = stepFor(range.from, range.until, 1500);
    return api('/api/v1/series?by=total&step=' + step + '&limit=10000').then(function (rows) {
      var g = byKey(rows);
      var xs = g.xs.map(t), vals = g.xs.map(function (x) { return (g.keys.total || {})[x] || 0; });
      var marks = events.map(function (e) {
        return { time: t(e.time), color: e.kind === 'drop' ? '#c0392b' : '#239b56' };
      });
      note(s, 'Trapped messages per ' + step + '; drops red, rises green. Drag to zoom, double-click to reset.');
      chart(s, xs, [{ label: 'messages', values: vals }], { marks: marks, ylabel: 'messages / ' + step });
      table(s, [
        { name: 'time', get: function (e) { return e.time; } },
        { name: 'kind', get: function (e) { return e.kind; } },
        { name: 'change', get: function (e) { return pct(e.magnitude); }, sortKey: function (e) { return e.magnitude; } },
        { name: 'confidence', get: function (e) { return e.confidence; } },
        { name: 'causes', get: function (e) {
          return e.causes.map(function (c) { return 'AS' + c.asn + ' ' + (c.org || '') + ' ' + c.kind + ' (' + pct(c.explains) + ')'; }).join('; ');
        } }
      ], events, true, 'events-table');
    });
  }
  function sharesChart(range) {
    var s = section('Botnet shares over time', 'shares');
    var step = stepFor(range.from, range.until, 150);
    return api('/api/v1/series?by=botnet&step=' + step + '&limit=10000').then(function (rows) {
      var g = byKey(rows);
      var totals = Object.keys(g.keys).map(function (k) {
        var n = 0; Object.keys(g.keys[k]).forEach(function (x) { n += g.keys[k][x]; });
        return [k, n];
      }).sort(function (a, b) { return b[1] - a[1]; });
      var top = totals.slice(0, 8).map(function (x) { return x[0]; });
      var sums = g.xs.map(function (x) {
        var n = 0; Object.keys(g.keys).forEach(function (k) { n += g.keys[k][x] || 0; }); return n;
      });
      var series = top.map(function (k) {
        return { label: k, values: g.xs.map(function (x, i) { return sums[i] ? (g.keys[k][x] || 0) / sums[i] : null; }) };
      });
      note(s, 'Share of the trapped spam per ' + step + ' (the 8 largest botnets).');
      chart(s, g.xs.map(t), series, { ylabel: 'share' });
    });
  }
  function rankTable(r) {
    var s = section('Rogue networks', 'rank');
    note(s, 'depeer rank at ' + r.at + ' (30 days before); click a header to sort, "evidence" for the rows behind each feature.');
    var feats = {};
    r.ranking.forEach(function (x) { Object.keys(x.features).forEach(function (f) { feats[f] = true; }); });
    var cols = [
      { name: 'rank', get: function (x) { return x.rank; } },
      { name: 'AS', get: function (x) { var a = asLink(x.asn); a.setAttribute('href', '/as/' + x.asn + '?at=' + encodeURIComponent(r.at)); return a; }, sortKey: function (x) { return x.asn; } },
      { name: 'org', get: function (x) { return x.org || ''; } },
      { name: 'score', get: function (x) { return x.score; } }
    ];
    Object.keys(feats).sort().forEach(function (f) {
      cols.push({ name: f, get: function (x) { return x.features[f] === undefined ? null : x.features[f]; } });
    });
    var detail = el('div', { 'class': 'evidence' });
    cols.push({ name: 'evidence', get: function (x) {
      var b = el('button', { type: 'button' }, 'evidence');
      b.addEventListener('click', function () { showEvidence(detail, x.asn, r.at); });
      return b;
    } });
    table(s, cols, r.ranking.slice(), true, 'rank-table');
    s.appendChild(detail);
  }
  function showEvidence(box, asn, at) {
    while (box.firstChild) { box.removeChild(box.firstChild); }
    box.appendChild(el('h3', {}, 'Evidence of AS' + asn));
    return api('/api/v1/explain/' + asn + (at ? '?at=' + encodeURIComponent(at) : '')).then(function (x) {
      var rows = [];
      Object.keys(x.features).forEach(function (f) {
        x.features[f].evidence.forEach(function (e) { rows.push({ feature: f, value: x.features[f].value, e: e }); });
      });
      table(box, [
        { name: 'feature', get: function (r) { return r.feature; } },
        { name: 'kind', get: function (r) { return r.e.kind; } },
        { name: 'indicator', get: function (r) { return r.e.indicator; } },
        { name: 'address', get: function (r) { return r.e.address; } },
        { name: 'first seen', get: function (r) { return r.e.first_seen; } },
        { name: 'last seen', get: function (r) { return r.e.last_seen; } },
        { name: 'messages', get: function (r) { return r.e.messages; } },
        { name: 'detail', get: function (r) { return r.e.detail; } },
        { name: 'sources', get: function (r) { return r.e.sources; } }
      ], rows, true, 'evidence-table');
    }).catch(function (e) { note(box, e.message); });
  }
  function whatifForm(cut, at) {
    var s = section('What if it were cut?', 'whatif');
    var f = el('form', { id: 'whatif-form' });
    var ci = el('input', { name: 'cut', value: cut || '', placeholder: 'AS number(s), e.g. 26780', required: 'required' });
    var ai = el('input', { name: 'at', value: at || '', placeholder: 'moment (RFC 3339), empty: end of data' });
    f.appendChild(el('label', {}, 'cut ')); f.appendChild(ci);
    f.appendChild(el('label', {}, ' at ')); f.appendChild(ai);
    f.appendChild(el('button', { type: 'submit' }, 'Predict'));
    var out = el('div', { id: 'whatif-result' });
    s.appendChild(f); s.appendChild(out);
    var done;
    var result = new Promise(function (resolve) { done = resolve; });
    f.addEventListener('submit', function (ev) {
      ev.preventDefault();
      while (out.firstChild) { out.removeChild(out.firstChild); }
      var q = '/api/v1/whatif?cut=' + encodeURIComponent(ci.value) + (ai.value ? '&at=' + encodeURIComponent(ai.value) : '');
      api(q).then(function (w) {
        out.setAttribute('data-predicted-drop', String(w.predicted_drop));
        out.appendChild(el('p', { 'class': 'big' }, 'Predicted spam drop ' + pct(w.predicted_drop) +
          ' [' + pct(w.low) + ', ' + pct(w.high) + '] at ' + w.at + '; dark: ' + w.dark_ases.length + ' ASes, ' +
          w.unreachable_prefix_count + ' prefixes, ' + w.cc_dark.length + ' C&C servers.'));
        if (w.note) { note(out, w.note); }
        table(out, [
          { name: 'botnet', get: function (b) { return b.botnet; } },
          { name: 'share', get: function (b) { return pct(b.share); }, sortKey: function (b) { return b.share; } },
          { name: 'predicted drop', get: function (b) { return pct(b.predicted_drop); }, sortKey: function (b) { return b.predicted_drop; } },
          { name: 'interval', get: function (b) { return pct(b.low) + ' - ' + pct(b.high); } },
          { name: 'C&C dark', get: function (b) { return b.cc_dark + '/' + b.cc_listed; } }
        ], w.per_botnet, true, 'whatif-table');
        done();
      }).catch(function (e) { note(out, e.message); out.setAttribute('data-error', e.message); done(); });
    });
    return { form: f, result: result };
  }
  function overview() {
    var h = el('h1', {}, 'depeer: who sends the spam, what it depends on, what a cut would do');
    main.appendChild(h);
    return api('/api/v1/botnets').then(function (b) {
      var range = { from: b.from, until: b.until };
      return Promise.all([api('/api/v1/events?limit=10000').catch(function () { return { events: [] }; }),
        api('/api/v1/rank?limit=50').catch(function (e) { return { error: e }; })]).then(function (x) {
        var events = x[0].events, r = x[1];
        var parts = [rateChart(range, events), sharesChart(range)];
        var bs = section('Botnets', 'botnets');
        note(bs, (b.from || '-') + ' .. ' + (b.until || '-') + ': ' + b.messages + ' messages, ' + b.unattributed + ' without a botnet');
        table(bs, [
          { name: 'botnet', get: function (x) { return x.botnet; } },
          { name: 'messages', get: function (x) { return x.messages; } },
          { name: 'share', get: function (x) { return pct(x.share); }, sortKey: function (x) { return x.share; } },
          { name: 'bots', get: function (x) { return x.bots_estimate; } },
          { name: 'C&C servers', get: function (x) { return x.cc.map(function (c) { return c.ip + (c.asn ? ' AS' + c.asn : ''); }).join(', '); } }
        ], b.botnets, true, 'botnets-table');
        var cut = '', at = '';
        if (r.error) { note(section('Rogue networks', 'rank'), r.error.message); } else {
          rankTable(r);
          if (r.ranking.length) { cut = String(r.ranking[0].asn); }
        }
        // The moment just before the largest drop, when there is one: what
        // the analyst would have asked then.
        var drops = events.filter(function (e) { return e.scope === 'total' && e.kind === 'drop'; })
          .sort(function (p, q) { return p.magnitude - q.magnitude; });
        if (drops.length) {
          at = new Date((t(drops[0].time_low) - 3600) * 1000).toISOString().replace('.000Z', 'Z');
          if (drops[0].causes.length) { cut = String(drops[0].causes[0].asn); }
        }
        var w = whatifForm(params.get('cut') || cut, params.get('at') || at);
        if (params.has('whatif')) { w.form.requestSubmit(); parts.push(w.result); }
        return Promise.all(parts);
      });
    });
  }

  // ---- one AS ----
  function graph(parent, asn, info, dep) {
    var box = el('div', { 'class': 'graph', id: 'as-graph' });
    parent.appendChild(box);
    var nodes = [{ data: { id: 'as' + asn, label: 'AS' + asn + (info.org ? ' ' + info.org : ''), kind: 'focus' } }];
    var edges = [];
    var seen = {};
    info.upstreams.filter(function (u) { return u.current; }).slice(0, 20).forEach(function (u) {
      if (seen['as' + u.asn]) { return; }
      seen['as' + u.asn] = true;
      nodes.push({ data: { id: 'as' + u.asn, label: 'AS' + u.asn + (u.org ? ' ' + u.org : ''), kind: 'upstream' } });
      edges.push({ data: { id: 'up' + u.asn, source: 'as' + asn, target: 'as' + u.asn, w: 2 } });
    });
    info.downstreams.filter(function (u) { return u.current; }).slice(0, 20).forEach(function (u) {
      if (seen['as' + u.asn]) { return; }
      seen['as' + u.asn] = true;
      nodes.push({ data: { id: 'as' + u.asn, label: 'AS' + u.asn + (u.org ? ' ' + u.org : ''), kind: 'customer' } });
      edges.push({ data: { id: 'down' + u.asn, source: 'as' + u.asn, target: 'as' + asn, w: 2 } });
    });
    (dep ? dep.botnets : []).forEach(function (b, i) {
      nodes.push({ data: { id: 'b' + i, label: b.botnet + ' (' + pct(b.share) + ')', kind: 'botnet' } });
      edges.push({ data: { id: 'dep' + i, source: 'b' + i, target: 'as' + asn, w: 1 + 12 * b.share } });
    });
    var cy = cytoscape({
      container: box, elements: nodes.concat(edges),
      style: [
        { selector: 'node', style: { label: 'data(label)', 'font-size': 10, 'background-color': '#2471a3', width: 18, height: 18 } },
        { selector: 'node[kind = "focus"]', style: { 'background-color': '#c0392b', width: 30, height: 30 } },
        { selector: 'node[kind = "botnet"]', style: { 'background-color': '#7d3c98', shape: 'diamond' } },
        { selector: 'node[kind = "customer"]', style: { 'background-color': '#239b56' } },
        { selector: 'edge', style: { width: 'data(w)', 'line-color': '#999', 'target-arrow-shape': 'triangle', 'target-arrow-color': '#999', 'curve-style': 'bezier' } }
      ],
      layout: { name: 'breadthfirst', directed: true, roots: '#as' + asn, padding: 20 }
    });
    box.setAttribute('data-nodes', String(cy.nodes().length));
    box.setAttribute('data-edges', String(cy.edges().length));
    note(parent, 'Red: AS' + asn + '; blue: its upstreams; green: its customers; purple: botnets whose C&C servers or advertised sites it hosted in the 30 days before ' + (dep ? dep.at : '-') + ' (edge width: share of the spam).');
  }
  function asPage() {
    var asn = document.body.getAttribute('data-asn');
    // ?at= views the AS as of that moment (default: the end of the data).
    var at = params.get('at') || '';
    var atq = at ? 'at=' + encodeURIComponent(at) : '';
    main.appendChild(el('h1', {}, 'AS' + asn + (at ? ' at ' + at : '')));
    return api('/api/v1/as/' + asn + (atq ? '?' + atq : '')).then(function (info) {
      var head = section('What depeer knows', 'as-info');
      head.appendChild(el('p', {}, [info.name, info.org, info.country].filter(Boolean).join(' · ') || 'no name known'));
      head.appendChild(el('p', {}, 'Prefixes announced at ' + info.at + ': ' + (info.prefixes.join(', ') || 'none')));
      head.appendChild(el('p', {}, 'Mail relayed from its space: ' + info.mail.messages + ' messages' +
        (info.mail.first_seen ? ', ' + info.mail.first_seen + ' .. ' + info.mail.last_seen : '')));
      return api('/api/v1/botnets').then(function (b) {
        var tl = section('Timeline', 'timeline');
        var step = stepFor(b.from, b.until, 1500);
        var q = function (by) { return api('/api/v1/series?by=' + by + '&step=' + step + '&key=' + asn + '&limit=10000'); };
        var dep = api('/api/v1/depends/' + asn + '?window=30d' + (atq ? '&' + atq : '')).catch(function () { return null; });
        var ev = section('Evidence', 'evidence');
        var parts = [
          Promise.all([q('hosting-as').catch(function () { return []; }), q('sending-as').catch(function () { return []; }), b.from ? api('/api/v1/series?by=total&step=' + step + '&limit=10000') : []]).then(function (x) {
            var total = byKey(x[2]), host = byKey(x[0]), send = byKey(x[1]);
            var xs = total.xs;
            note(tl, 'Messages per ' + step + ': all trapped spam, the spam of botnets whose C&C this AS hosted, and the spam relayed from its space.');
            chart(tl, xs.map(t), [
              { label: 'all spam', values: xs.map(function (k) { return (total.keys.total || {})[k] || 0; }) },
              { label: 'C&C hosted here', values: xs.map(function (k) { return (host.keys[asn] || {})[k] || 0; }) },
              { label: 'sent from here', values: xs.map(function (k) { return (send.keys[asn] || {})[k] || 0; }) }
            ], { ylabel: 'messages / ' + step });
          }),
          showEvidence(ev, asn, at || null),
          dep.then(function (d) { graph(section('Dependency graph', 'graph'), asn, info, d); })
        ];
        var ls = section('Listings', 'listings');
        listingTable(ls, info.listings);
        var up = section('Upstreams and customers', 'upstreams');
        var nb = info.upstreams.map(function (u) { u.role = 'upstream'; return u; })
          .concat(info.downstreams.map(function (u) { u.role = 'customer'; return u; }));
        table(up, [
          { name: 'role', get: function (u) { return u.role; } },
          { name: 'AS', get: function (u) { return asLink(u.asn); }, sortKey: function (u) { return u.asn; } },
          { name: 'org', get: function (u) { return u.org || ''; } },
          { name: 'first seen', get: function (u) { return u.first_seen; } },
          { name: 'last seen', get: function (u) { return u.last_seen; } },
          { name: 'now', get: function (u) { return u.current ? 'yes' : 'no'; } }
        ], nb, true, 'upstreams-table');
        routeTable(section('Announcements', 'history'), info.history);
        return Promise.all(parts);
      });
    });
  }
  function listingTable(parent, rows) {
    if (!rows.length) { note(parent, 'not listed'); }
    return table(parent, [
      { name: 'list', get: function (l) { return l.list; } },
      { name: 'subject', get: function (l) { return l.subject; } },
      { name: 'reason', get: function (l) { return l.reason; } },
      { name: 'first seen', get: function (l) { return l.first_seen; } },
      { name: 'last seen', get: function (l) { return l.last_seen; } },
      { name: 'source', get: function (l) { return l.source; } }
    ], rows, true, 'listings-table');
  }
  function routeTable(parent, rows) {
    return table(parent, [
      { name: 'prefix', get: function (r) { return r.prefix; } },
      { name: 'origin', get: function (r) { return asLink(r.asn); }, sortKey: function (r) { return r.asn; } },
      { name: 'collector', get: function (r) { return r.collector; } },
      { name: 'first seen', get: function (r) { return r.first_seen; } },
      { name: 'last seen', get: function (r) { return r.last_seen; } }
    ], rows, true, 'history-table');
  }

  // ---- search answer ----
  function lookupPage() {
    var q = (params.get('q') || '').trim();
    main.appendChild(el('h1', {}, q || 'search'));
    var m = /^(?:AS)?(\d{1,10})$/i.exec(q);
    if (m) { location.replace('/as/' + m[1]); return new Promise(function () {}); }
    var path;
    if (q.indexOf('/') >= 0) { path = '/api/v1/prefix/' + encodeURIComponent(q); }
    else if (/^[0-9.]+$/.test(q) || q.indexOf(':') >= 0) { path = '/api/v1/ip/' + encodeURIComponent(q); }
    else { path = '/api/v1/domain/' + encodeURIComponent(q); }
    if (!q) { note(main, 'type an IP address, a prefix, an AS number or a domain'); return Promise.resolve(); }
    return api(path).then(function (x) {
      var s = section('What depeer knows', 'lookup-info');
      if (x.routed !== undefined) {
        var p = el('p', {}, 'Routed at ' + x.at + ': ');
        if (x.routed) { p.appendChild(document.createTextNode(x.routed.prefix + ' by ')); p.appendChild(asLink(x.routed.asn)); p.appendChild(document.createTextNode(' ' + (x.routed.org || ''))); }
        else { p.appendChild(document.createTextNode('not routed')); }
        s.appendChild(p);
      }
      s.appendChild(el('p', {}, 'Trapped mail: ' + x.mail.messages + ' messages' +
        (x.mail.first_seen ? ', first ' + x.mail.first_seen + ', last ' + x.mail.last_seen : '') +
        (x.mail.botnets.length ? '; botnets: ' + x.mail.botnets.map(function (b) { return b.botnet + ' ' + b.messages; }).join(', ') : '')));
      listingTable(section('Listings', 'listings'), x.listings);
      if (x.history) { routeTable(section('Announcements', 'history'), x.history); }
    }).catch(function (e) { note(main, e.message); });
  }

  function start() {
    var page = document.body.getAttribute('data-page');
    var run = page === 'as' ? asPage : page === 'lookup' ? lookupPage : overview;
    var p;
    try { p = run(); } catch (e) { p = Promise.reject(e); }
    Promise.resolve(p).catch(function (e) { fail('page', e); note(main, 'could not load: ' + e.message); })
      .then(function () {
        var ext = performance.getEntriesByType('resource').filter(function (r) {
          return r.name.indexOf(location.origin + '/') !== 0;
        });
        document.body.setAttribute('data-external', String(ext.length));
        document.body.setAttribute('data-requests', String(performance.getEntriesByType('resource').length));
        document.body.setAttribute('data-ready', errors.length ? 'with-errors' : 'yes');
      });
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
}());
