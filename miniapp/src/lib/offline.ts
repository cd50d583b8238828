// The offline shell: a service worker (public/sw.js) that answers page loads
// with the cached shell when the network is gone, and keeps the last-seen
// licence list readable. It never stores a show code: those are POSTs and
// the worker only ever caches GET /api/v1/licences.

/** The cache the worker keeps the licence list in; logout empties it. */
const DATA_CACHE = 'elic-data-v1';

export function registerOfflineShell(): void {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {
      // No worker: the service still works online.
    });
  });
}

/** forgetOfflineCopies drops the cached licence list (on logout). */
export async function forgetOfflineCopies(): Promise<void> {
  try {
    if ('caches' in window) await caches.delete(DATA_CACHE);
  } catch {
    // Nothing cached, or storage disabled.
  }
}

/** isOfflineCopy: the response came from the worker's cache, not the server. */
export function isOfflineCopy(headers: Headers): boolean {
  return headers.get('X-Elicence-Offline') === '1';
}
