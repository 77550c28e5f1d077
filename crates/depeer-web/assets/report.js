// depeer report: draws the charts from the JSON in #report-data with the
// vendored uPlot, then marks every chart, table and graph with what it
// drew (data-points, data-rows, data-nodes), which the browser test reads.
// Data only ever reaches the page as text (uPlot sets labels with
// textContent; nothing here uses innerHTML).
(function () {
  'use strict';
  var errors = [];
  // The page's CSP blocks every request and every script not written into
  // it; a violation is a bug of the page, so it is reported like one.
  document.addEventListener('securitypolicyviolation', function (e) {
    errors.push('CSP blocked ' + e.violatedDirective + ' ' + e.blockedURI);
    document.body.setAttribute('data-errors', errors.join('; '));
    document.body.setAttribute('data-report-ready', 'with-errors');
  });
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var palette = ['#c0392b', '#2471a3', '#239b56', '#b7950b', '#7d3c98', '#ca6f1e',
    '#17a589', '#566573', '#a93226', '#1f618d', '#7b7d7d', '#935116'];

  function width(el) {
    return Math.max(360, Math.floor(el.clientWidth || document.body.clientWidth || 960));
  }

  // Vertical lines at marks [{time, color}], drawn over the plot; counts
  // the ones inside it into el's data-marks.
  function markers(el, marks) {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height, n = 0;
          ctx.save();
          ctx.lineWidth = 2 * (window.devicePixelRatio || 1);
          marks.forEach(function (m) {
            var x = u.valToPos(m.time, 'x', true);
            if (!(x >= u.bbox.left && x <= u.bbox.left + u.bbox.width)) { return; }
            ctx.strokeStyle = m.color;
            ctx.setLineDash(m.dash ? [6, 4] : []);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + h);
            ctx.stroke();
            n += 1;
          });
          ctx.restore();
          el.setAttribute('data-marks', String(n));
        }]
      }
    };
  }

  // Sets data-points on el once uPlot has drawn.
  function counted(el, points) {
    return {
      hooks: {
        draw: [function () { el.setAttribute('data-points', String(points)); }]
      }
    };
  }

  function section(name, f) {
    try { f(); } catch (e) { errors.push(name + ': ' + e); }
  }

  section('spam', function () {
    var el = document.getElementById('spam-chart');
    var s = data.spam;
    if (!s.times.length) { return; }
    var marks = data.events.map(function (e) {
      return { time: e.time, color: e.kind === 'drop' ? '#1f618d' : '#239b56' };
    });
    if (data.at !== null) { marks.push({ time: data.at, color: '#555', dash: true }); }
    var points = s.values.filter(function (v) { return v !== null; }).length;
    new uPlot({
      width: width(el),
      height: 300,
      scales: { x: { time: true } },
      series: [{}, {
        label: 'messages per ' + s.step_label,
        stroke: '#c0392b',
        fill: 'rgba(192,57,43,0.12)',
        width: 1
      }],
      axes: [{}, { label: 'messages' }],
      plugins: [markers(el, marks), counted(el, points)]
    }, [s.times, s.values], el);
  });

  section('shares', function () {
    var el = document.getElementById('shares-chart');
    var s = data.shares;
    if (!s.times.length || !s.keys.length) { return; }
    var series = [{}];
    var columns = [s.times];
    var points = 0;
    s.keys.forEach(function (k, i) {
      series.push({
        label: k.name,
        stroke: palette[i % palette.length],
        width: 1.5,
        value: function (u, v) { return v === null ? '-' : (100 * v).toFixed(1) + ' %'; }
      });
      columns.push(k.values);
      points += k.values.filter(function (v) { return v !== null; }).length;
    });
    new uPlot({
      width: width(el),
      height: 300,
      scales: { x: { time: true }, y: { range: [0, 1] } },
      series: series,
      axes: [{}, {
        label: 'share of trapped spam',
        values: function (u, vals) { return vals.map(function (v) { return Math.round(100 * v) + ' %'; }); }
      }],
      plugins: [counted(el, points)]
    }, columns, el);
  });

  section('tables', function () {
    document.querySelectorAll('table[data-table]').forEach(function (t) {
      t.setAttribute('data-rows', String(t.querySelectorAll('tbody tr:not(.empty)').length));
    });
  });

  section('graph', function () {
    var g = document.getElementById('dep-graph');
    if (!g) { return; }
    g.setAttribute('data-nodes', String(g.querySelectorAll('g.node').length));
    g.setAttribute('data-edges', String(g.querySelectorAll('path.edge').length));
  });

  document.body.setAttribute('data-errors', errors.join('; '));
  document.body.setAttribute('data-report-ready', errors.length ? 'with-errors' : 'yes');
}());
