// 阳城电子证照 offline shell. Network first, always: when the network is
// gone, a page load gets the cached index.html (which shows "网络已断开"),
// hashed assets come from the cache, and GET /api/v1/licences answers with
// the last list this phone saw, marked X-Elicence-Offline: 1. Nothing else
// under /api/ is cached — never a show code.
const SHELL = 'elic-shell-v1';
const DATA = 'elic-data-v1';
const LIST = '/api/v1/licences';

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(['/', '/offline.html'])).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === LIST) {
    event.respondWith(listFirstFromNetwork(req));
    return;
  }
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/fakewx/') || url.pathname.startsWith('/v/')) return;
  if (req.mode === 'navigate') {
    event.respondWith(fetch(req).catch(() => caches.match('/offline.html')));
    return;
  }
  if (url.pathname.startsWith('/assets/')) {
    event.respondWith(
      caches.match(req).then(
        (hit) =>
          hit ||
          fetch(req).then((res) => {
            if (res.ok) {
              const copy = res.clone();
              caches.open(SHELL).then((c) => c.put(req, copy));
            }
            return res;
          }),
      ),
    );
  }
});

async function listFirstFromNetwork(req) {
  try {
    const res = await fetch(req);
    if (res.ok) {
      const copy = res.clone();
      const c = await caches.open(DATA);
      await c.put(LIST, copy);
    } else if (res.status === 401) {
      await caches.delete(DATA);
    }
    return res;
  } catch (err) {
    const hit = await (await caches.open(DATA)).match(LIST);
    if (!hit) throw err;
    const headers = new Headers(hit.headers);
    headers.set('X-Elicence-Offline', '1');
    return new Response(await hit.blob(), { status: 200, headers });
  }
}
