// Types of boot.mjs for the unit tests that run it (src/api/http.test.ts).
/** One route: its path pattern, the chunks to modulepreload and stylesheets to add, and the GETs to send early. */
export type BootRoute = [pattern: string, files: string[], early: string[]];

export function boot(css: string, routes: BootRoute[], path: string): void;
