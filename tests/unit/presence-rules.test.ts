import {
  graceExpired,
  isOnline,
  type PresenceState,
  socketConnected,
  socketDisconnected,
} from '../../src/presence/presence-rules';

describe('presence rules', () => {
  let state: PresenceState;
  beforeEach(() => {
    state = new Map();
  });

  test('the first socket announces online; a second tab announces nothing', () => {
    expect(socketConnected(state, 1, 'a')).toBe('announce-online');
    expect(socketConnected(state, 1, 'b')).toBe('nothing');
    expect(isOnline(state, 1)).toBe(true);
  });

  test('closing one of two tabs keeps the user online', () => {
    socketConnected(state, 1, 'a');
    socketConnected(state, 1, 'b');
    expect(socketDisconnected(state, 1, 'a')).toBe('nothing');
    expect(graceExpired(state, 1)).toBe('nothing');
    expect(isOnline(state, 1)).toBe(true);
  });

  test('the last socket leaving starts the grace period, and its end announces offline', () => {
    socketConnected(state, 1, 'a');
    expect(socketDisconnected(state, 1, 'a')).toBe('start-grace');
    expect(isOnline(state, 1)).toBe(true);
    expect(graceExpired(state, 1)).toBe('announce-offline');
    expect(isOnline(state, 1)).toBe(false);
  });

  test('reconnecting within the grace period announces nothing either way', () => {
    socketConnected(state, 1, 'a');
    socketDisconnected(state, 1, 'a');
    expect(socketConnected(state, 1, 'b')).toBe('nothing');
    expect(graceExpired(state, 1)).toBe('nothing');
    expect(isOnline(state, 1)).toBe(true);
  });

  test('an unknown socket leaving changes nothing', () => {
    expect(socketDisconnected(state, 1, 'ghost')).toBe('nothing');
    socketConnected(state, 1, 'a');
    expect(socketDisconnected(state, 1, 'ghost')).toBe('nothing');
    expect(isOnline(state, 1)).toBe(true);
  });
});
