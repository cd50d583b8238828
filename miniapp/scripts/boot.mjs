// The page's first script, inlined into dist/index.html by postbuild.mjs
// (the BFF allows it in its Content-Security-Policy by hash). It runs while
// the HTML is still arriving, so that everything the first screen needs goes
// out in one wave instead of one round trip after another:
//
//   - the entry's stylesheet, added from script so it does not hold up the
//     painting of the inline splash; window.elicStyles settles once it and
//     the route's stylesheets have loaded (or failed), and main.ts mounts
//     the app after that, so nothing shows unstyled;
//   - the chunks of the route being opened (modulepreload) and their
//     stylesheets, from `routes` (none for the pages in the entry);
//   - GET /api/v1/me and the route's own data, kept in window.elicEarly by
//     URL for the API client (src/api/http.ts) to take instead of asking
//     again.
//
// It is ES5 on purpose: a WebView too old for the app must still reach the
// "please upgrade WeChat" message of the inline script before it.
//
// boot is inlined by its source text: it may use nothing from this module,
// and comments stay out here. A response nobody takes (the session expired,
// or the user went elsewhere) is caught, so it is no unhandled rejection.
export function boot(css, routes, path) {
  var d = document;
  var styles = [];
  function style(href) {
    var link = d.createElement('link');
    link.rel = 'stylesheet';
    link.href = href;
    styles.push(
      new Promise(function (done) {
        link.onload = link.onerror = done;
      }),
    );
    d.head.appendChild(link);
  }
  style(css);

  var early = (window.elicEarly = {});
  function get(url) {
    if (!window.fetch) return;
    var e = (early[url] = { sentAt: Date.now() });
    e.response = fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' }).then(function (r) {
      e.receivedAt = Date.now();
      return r;
    });
    e.response.catch(function () {});
  }
  get('/api/v1/me');

  for (var i = 0; i < routes.length; i++) {
    if (!new RegExp(routes[i][0]).test(path)) continue;
    routes[i][1].forEach(function (file) {
      if (/\.css$/.test(file)) return style('/' + file);
      var l = d.createElement('link');
      l.rel = 'modulepreload';
      l.crossOrigin = '';
      l.href = '/' + file;
      d.head.appendChild(l);
    });
    routes[i][2].forEach(get);
    break;
  }
  window.elicStyles = Promise.all(styles);
}
