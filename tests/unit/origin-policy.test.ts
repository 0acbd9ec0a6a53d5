import { normalizeOrigins, OriginPolicy } from '../../src/http/origin-policy';

describe('OriginPolicy', () => {
  const sameOriginOnly = new OriginPolicy([]);
  const listed = new OriginPolicy(['https://app.example.com', 'http://localhost:5173']);

  test('a request without an Origin passes (apps and servers)', () => {
    expect(sameOriginOnly.allows(undefined, 'chat.example.com')).toBe(true);
    expect(sameOriginOnly.allows(undefined, undefined)).toBe(true);
  });

  test('the same origin passes: the Origin host and port are the Host header', () => {
    expect(sameOriginOnly.allows('https://chat.example.com', 'chat.example.com')).toBe(true);
    expect(sameOriginOnly.allows('http://127.0.0.1:3000', '127.0.0.1:3000')).toBe(true);
    expect(sameOriginOnly.allows('http://[::1]:3000', '[::1]:3000')).toBe(true);
    // An explicit default port in Host is the same port; the Host's case does not matter.
    expect(sameOriginOnly.allows('https://chat.example.com', 'chat.example.com:443')).toBe(true);
    expect(sameOriginOnly.allows('https://chat.example.com', 'Chat.Example.com')).toBe(true);
  });

  test('another host or port is not the same origin', () => {
    expect(sameOriginOnly.allows('http://127.0.0.1:3001', '127.0.0.1:3000')).toBe(false);
    expect(sameOriginOnly.allows('http://localhost:3000', '127.0.0.1:3000')).toBe(false);
    expect(sameOriginOnly.allows('https://chat.example.com', 'chat.example.com:80')).toBe(false);
    expect(sameOriginOnly.allows('https://evil.example', 'chat.example.com')).toBe(false);
    expect(sameOriginOnly.allows('https://chat.example.com', undefined)).toBe(false);
    expect(sameOriginOnly.allows('https://chat.example.com', 'chat.example.com/x')).toBe(false);
    expect(sameOriginOnly.allows('https://chat.example.com', 'u@chat.example.com')).toBe(false);
  });

  test('Origin: null and malformed origins are refused, even where any origin may call', () => {
    for (const policy of [sameOriginOnly, new OriginPolicy(['*'])]) {
      expect(policy.allows('null', 'null')).toBe(false);
      expect(policy.allows('', 'chat.example.com')).toBe(false);
      expect(policy.allows('chat.example.com', 'chat.example.com')).toBe(false);
      expect(policy.allows('https://chat.example.com/path', 'chat.example.com')).toBe(false);
      expect(policy.allows('file://', 'chat.example.com')).toBe(false);
    }
  });

  test('listed origins pass, exactly as browsers serialize them', () => {
    expect(listed.allows('https://app.example.com', 'chat.example.com')).toBe(true);
    expect(listed.allows('http://localhost:5173', 'chat.example.com')).toBe(true);
    expect(listed.allows('http://app.example.com', 'chat.example.com')).toBe(false);
    expect(listed.allows('https://app.example.com:8443', 'chat.example.com')).toBe(false);
    expect(listed.allows('https://sub.app.example.com', 'chat.example.com')).toBe(false);
  });

  test('`*` lets any http(s) origin in', () => {
    expect(new OriginPolicy(['*']).allows('https://anywhere.example', 'chat.example.com')).toBe(true);
  });
});

describe('normalizeOrigins', () => {
  test('keeps scheme, host and port, lowercased, without a default port or trailing slash', () => {
    expect(normalizeOrigins([' https://App.Example.com/ ', 'HTTP://localhost:5173', 'https://a.example:443', '*'])).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
      'https://a.example',
      '*',
    ]);
  });

  test.each(['app.example.com', 'https://app.example.com/chat', 'https://app.example.com?x=1', 'ftp://files.example', 'null', 'https://u:p@app.example.com'])(
    'refuses %s',
    (item) => {
      expect(() => normalizeOrigins([item])).toThrow(item);
    },
  );
});
