import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Standard security headers (helmet): nosniff, no framing and no X-Powered-By everywhere; pages get
 * helmet's whole set, the API the part that JSON needs. Each middleware is built once (helmet
 * precomputes every value), then only sets headers per request.
 */
const COMMON = {
  // HSTS belongs to whatever terminates TLS; from a mounted router it would bind the host's whole
  // domain (includeSubDomains) to HTTPS.
  strictTransportSecurity: false,
  xFrameOptions: { action: 'deny' },
} satisfies HelmetOptions;

/**
 * For JSON API responses (and attachment downloads, which set their own stricter CSP): nothing to
 * load, nothing to frame; CORP, Referrer-Policy, nosniff and X-Frame-Options. helmet's headers that
 * only HTML documents heed are left out: on this hot path they more than doubled the middleware's
 * cost for nothing.
 */
export function apiSecurityHeaders(): RequestHandler {
  return helmet({
    ...COMMON,
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
}

/**
 * For the standalone server's own pages and operations endpoints: the demo loads its script, style
 * and socket from this origin only; no inline script or style, no plugins, no framing.
 */
export function pageSecurityHeaders(): RequestHandler {
  return helmet({
    ...COMMON,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        connectSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
  });
}

/**
 * For Socket.IO's long-polling responses (engine.io's `headers` hook), which never pass through
 * Express: they carry message text, so no sniffing, and nothing to frame.
 */
export const TRANSPORT_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
});
