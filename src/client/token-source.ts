/** Where the client's token comes from, and how a fresh one is had when the server says it expired. */
export interface TokenOptions {
  /** The host-issued JWT, or a function that returns the current one. */
  token: string | (() => string | Promise<string>);
  /** Returns a fresh token after a 401 or `session_expired`; without it, the client gives up there. */
  refreshToken?: () => Promise<string>;
}

/** The current token; concurrent refreshes share one call of `refreshToken`. */
export class TokenSource {
  private refreshed: string | undefined;
  private refreshing: Promise<string | undefined> | undefined;

  constructor(private readonly options: TokenOptions) {}

  async current(): Promise<string> {
    if (this.refreshed !== undefined) return this.refreshed;
    const { token } = this.options;
    return typeof token === 'string' ? token : token();
  }

  /** A fresh token, or undefined when the host gave no way to get one. */
  refresh(): Promise<string | undefined> {
    if (!this.options.refreshToken) return Promise.resolve(undefined);
    this.refreshing ??= this.options.refreshToken().then(
      (token) => {
        this.refreshed = token;
        this.refreshing = undefined;
        return token;
      },
      (err: unknown) => {
        this.refreshing = undefined;
        throw err;
      },
    );
    return this.refreshing;
  }
}
