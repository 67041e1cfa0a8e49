import { createRequire } from 'node:module';
import path from 'node:path';
import express, { Router } from 'express';

const PUBLIC_DIR = path.resolve(import.meta.dirname, 'public');
/** uPlot's own build, served from node_modules: the charts need no CDN and no copy kept in this repository. */
const VENDOR_FILES = ['uPlot.esm.js', 'uPlot.min.css'];
/**
 * Resolved when first asked for, so that a node_modules without uplot (not yet `npm install`ed) costs
 * the charts only (404; the overview then shows their tables), never the service's start.
 */
let uplotDir: string | null | undefined;
function uplotDirectory(): string | null {
  if (uplotDir === undefined) {
    try {
      uplotDir = path.dirname(createRequire(import.meta.url).resolve('uplot'));
    } catch {
      uplotDir = null;
    }
  }
  return uplotDir;
}

/** Luxon's ES module build; text.js does the interface's Stockholm date arithmetic with it. */
function luxonModule(): string {
  return path.join(path.dirname(createRequire(import.meta.url).resolve('luxon/package.json')), 'build/es6/luxon.mjs');
}
/** The Stockholm calendar the server uses too (src/shared, copied beside dist/src/web by the build). */
const STOCKHOLM_CALENDAR = path.resolve(import.meta.dirname, '../shared/stockholm-calendar.js');

/**
 * The browser interface's Content-Security-Policy: everything from this origin only: no inline
 * scripts or styles, no external fonts, scripts or CDNs. `upgrade-insecure-requests` is left out
 * so the interface also works over plain HTTP on a developer's loopback.
 */
export const WEB_CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    fontSrc: ["'self'"],
    mediaSrc: ["'self'"],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    baseUri: ["'self'"],
    objectSrc: ["'none'"],
    frameAncestors: ["'none'"],
  },
};

/** The static web interface at `/`. The pages hold no data; every view asks the API, which enforces roles. */
export function webRoutes(): Router {
  const router = Router();
  for (const file of VENDOR_FILES) {
    router.get(`/vendor/uplot/${file}`, (_req, res, next) => {
      const dir = uplotDirectory();
      if (!dir) return next();
      res.set('Cache-Control', 'no-cache').sendFile(path.join(dir, file));
    });
  }
  // Same-origin ES modules, not an import map: the CSP allows no inline script. `.mjs` is sent as JavaScript.
  router.get('/vendor/luxon/luxon.js', (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('text/javascript').sendFile(luxonModule());
  });
  router.get('/shared/stockholm-calendar.js', (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('text/javascript').sendFile(STOCKHOLM_CALENDAR);
  });
  // The page itself is no-store: after signing out, Back must not bring a signed-in page back from a cache.
  router.use(
    express.static(PUBLIC_DIR, {
      index: 'index.html',
      fallthrough: true,
      setHeaders: (res, file) => res.set('Cache-Control', file.endsWith('.html') ? 'no-store' : 'no-cache'),
    }),
  );
  return router;
}
