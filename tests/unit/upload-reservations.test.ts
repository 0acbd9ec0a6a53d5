import { UploadReservations } from '../../src/attachments/upload-reservations';

const QUOTA = 1000;
const refused = (work: () => unknown) => expect(work).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('quota of 1000 bytes') }));

describe('UploadReservations: what uploads in progress hold of their uploader quota', () => {
  test('claims of one user add up against the quota together with what is stored', () => {
    const reservations = new UploadReservations(QUOTA);
    reservations.claim(1, 200, 300);
    reservations.claim(1, 200, 500);

    refused(() => reservations.claim(1, 200, 1));
    expect(reservations.claimedBy(1)).toBe(800);
    expect(() => reservations.claim(2, 0, QUOTA)).not.toThrow();
  });

  test('a claim grows with the streamed bytes, never shrinks, and refuses growth past the quota', () => {
    const reservations = new UploadReservations(QUOTA);
    const claim = reservations.claim(1, 0, 400);
    claim.grow(100);
    expect(reservations.claimedBy(1)).toBe(400);
    claim.grow(900);
    expect(reservations.claimedBy(1)).toBe(900);

    refused(() => claim.grow(1001));
    expect(reservations.claimedBy(1)).toBe(900);
  });

  test('othersBytes is what the other uploads of the same user hold', () => {
    const reservations = new UploadReservations(QUOTA);
    const mine = reservations.claim(1, 0, 100);
    reservations.claim(1, 0, 250);
    reservations.claim(2, 0, 400);

    expect(mine.othersBytes()).toBe(250);
  });

  test('release gives the bytes back once, however often it is called', () => {
    const reservations = new UploadReservations(QUOTA);
    const first = reservations.claim(1, 0, 600);
    const second = reservations.claim(1, 0, 300);
    first.release();
    first.release();
    first.grow(999);

    expect(reservations.claimedBy(1)).toBe(300);
    second.release();
    expect(reservations.claimedBy(1)).toBe(0);
    expect(() => reservations.claim(1, 0, QUOTA)).not.toThrow();
  });
});
