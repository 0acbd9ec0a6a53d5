/**
 * Which browser origins may call the REST API and open sockets (API.md "HTTP hygiene"): the listed
 * ones (`*`: any), the server's own, and requests without an Origin (apps and servers, which CORS
 * does not concern). `Origin: null` (sandboxed frames, file: pages) never. Pure: both doors use it.
 */
export class OriginPolicy {
  private readonly listed: ReadonlySet<string>;
  private readonly anyOrigin: boolean;

  /** `origins` are serialized origins (`https://app.example.com`), as normalizeOrigins gives them. */
  constructor(origins: readonly string[]) {
    this.listed = new Set(origins);
    this.anyOrigin = this.listed.has('*');
  }

  allows(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    if (this.listed.has(origin)) return true;
    // The usual same-origin request, without parsing; the careful comparison follows.
    if (host && (origin === `https://${host}` || origin === `http://${host}`)) return true;
    const url = parseOrigin(origin);
    if (!url) return false;
    return this.anyOrigin || sameOrigin(url, host);
  }
}

/** An Origin header as browsers send it (scheme://host[:port], lowercase, no default port), else undefined. */
function parseOrigin(origin: string): URL | undefined {
  if (origin === 'null') return undefined;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin ? url : undefined;
  } catch {
    return undefined;
  }
}

/** "Same origin" as the contract defines it: the Origin's host and port are the Host header's. */
function sameOrigin(origin: URL, host: string | undefined): boolean {
  if (!host) return false;
  try {
    // Read the Host with the Origin's scheme, so that an explicit default port (`:443`) compares equal.
    const target = new URL(`${origin.protocol}//${host}`);
    return target.host === origin.host && target.pathname === '/' && !target.username && !target.password;
  } catch {
    return false;
  }
}

/**
 * Checks and normalizes configured origins (CORS_ORIGINS, or createChat's corsOrigins): each is `*`
 * or an http(s) origin without path, query or credentials; a trailing slash is dropped. Throws a
 * message naming the bad entry.
 */
export function normalizeOrigins(origins: readonly string[]): string[] {
  return origins.map((raw) => {
    const item = raw.trim();
    if (item === '*') return item;
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      throw new Error(`"${item}" is not an origin such as https://app.example.com`);
    }
    const plain = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !plain) {
      throw new Error(`"${item}" is not an origin such as https://app.example.com (scheme and host only)`);
    }
    return url.origin;
  });
}
