/** The half-hour slots behind "open now" (available-at), in the directory's time zone. */
import { rewriteOpenNow, slotOf } from '../../src/referrals/directory';

test('a time rounds down to its half-hour, in UTC by default', () => {
  expect(slotOf(new Date('2025-03-04T13:47:00Z'))).toBe('tue-1330');
  expect(slotOf(new Date('2025-03-04T13:29:59Z'))).toBe('tue-1300');
  expect(slotOf(new Date('2025-03-09T00:00:00Z'))).toBe('sun-0000');
});

test('the slot is local to the directory time zone, day included', () => {
  // 23:10 UTC on Tuesday is 01:10 on Wednesday in Johannesburg (UTC+2).
  expect(slotOf(new Date('2025-03-04T23:10:00Z'), 'Africa/Johannesburg')).toBe('wed-0100');
});

test('open-now=true becomes available-at=<slot>; other parameters pass through', () => {
  expect(rewriteOpenNow([['service-type', 'pep'], ['open-now', 'true']], new Date('2025-03-04T09:05:00Z'))).toEqual([['service-type', 'pep'], ['available-at', 'tue-0900']]);
});
