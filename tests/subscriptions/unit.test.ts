/** Pure pieces of subscriptions: backoff, options, criteria splitting, headers, id-only Bundle, acceptance. */
import { DEFAULT_OPTIONS, backoffMs, resolveOptions } from '../../src/subscriptions/options';
import { splitCriteria } from '../../src/subscriptions/criteria';
import { PAYLOAD_CONTENT_URL, channelHeaders, payloadMode } from '../../src/subscriptions/channel';
import { buildNotification, idOnlyBundle } from '../../src/subscriptions/notification';
import { acceptSubscription, isLive } from '../../src/subscriptions/accept';
import type { DeliveryPayload } from '../../src/subscriptions/outbox';
import type { Subscription } from '@medplum/fhirtypes';

describe('backoff', () => {
  test('doubles from the base after each failure, up to the cap', () => {
    const o = { backoffBaseMs: 1000, backoffCapMs: 10_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, o))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(backoffMs(2000, o)).toBe(10_000); // no overflow
  });

  test('defaults: 1 s first retry, 10 attempts, capped at 5 minutes', () => {
    expect(DEFAULT_OPTIONS).toMatchObject({ backoffBaseMs: 1000, maxAttempts: 10, backoffCapMs: 300_000, timeoutMs: 5000 });
    expect(() => resolveOptions()).not.toThrow();
  });

  test('options that would misbehave are refused', () => {
    expect(() => resolveOptions({ pollMs: 0 })).toThrow('pollMs');
    expect(() => resolveOptions({ backoffBaseMs: 500, backoffCapMs: 100 })).toThrow('backoffCapMs');
    // A batch of timeouts must fit in the lease, or a live worker's jobs are taken over.
    expect(() => resolveOptions({ batch: 10, timeoutMs: 5000, leaseMs: 30_000 })).toThrow('leaseMs');
  });
});

describe('criteria', () => {
  test('splits the type from the query, decoding like a request URL', () => {
    expect(splitCriteria('Task?owner=Organization/x&status=requested,accepted')).toEqual({
      type: 'Task', query: [['owner', 'Organization/x'], ['status', 'requested,accepted']],
    });
    expect(splitCriteria('Task?code=http%3A%2F%2Floinc.org%7C1')).toEqual({ type: 'Task', query: [['code', 'http://loinc.org|1']] });
    expect(splitCriteria('Task')).toEqual({ type: 'Task', query: [] });
  });

  test('anything but a bare type name is malformed', () => {
    expect(splitCriteria('/Task?status=x')).toBeUndefined();
    expect(splitCriteria('http://x/Task?status=x')).toBeUndefined();
    expect(splitCriteria('?status=x')).toBeUndefined();
  });
});

const channel = (extra: object = {}): Subscription['channel'] => ({ type: 'rest-hook', endpoint: 'https://r.example.org/hook', ...extra });
const sub = (extra: object = {}): Subscription => ({ resourceType: 'Subscription', status: 'active', reason: 'r', criteria: 'Task', channel: channel(extra) });
const delivery: DeliveryPayload = { subscriptionId: 's1', resourceType: 'Task', id: 't1', versionId: '3', action: 'update', method: 'PATCH', lastUpdated: '2024-05-01T10:00:00.000Z' };

describe('notification', () => {
  test('headers are split once at the first colon and trimmed', () => {
    expect(channelHeaders(channel({ header: ['Authorization: Bearer a:b', 'X-Code:  7 '] }))).toEqual({ authorization: 'Bearer a:b', 'x-code': '7' });
  });

  test('a channel without an id-only payload sends a ping with no body', () => {
    expect(payloadMode(channel())).toBe('empty');
    expect(payloadMode(channel({ payload: 'application/fhir+json', _payload: { extension: [{ url: PAYLOAD_CONTENT_URL, valueCode: 'empty' }] } }))).toBe('empty');
    const n = buildNotification(sub({ header: ['X-A: 1'] }), delivery, 'https://base/fhir', new Date());
    expect(n).toEqual({ endpoint: 'https://r.example.org/hook', headers: { 'x-a': '1' } });
  });

  test('id-only: a history Bundle with fullUrl, request and response, and no resource', () => {
    const now = new Date('2024-05-01T10:00:01.000Z');
    expect(idOnlyBundle('https://base/fhir', delivery, now)).toEqual({
      resourceType: 'Bundle', type: 'history', timestamp: '2024-05-01T10:00:01.000Z',
      entry: [{
        fullUrl: 'https://base/fhir/Task/t1',
        request: { method: 'PATCH', url: 'Task/t1' },
        response: { status: '200', etag: 'W/"3"', lastModified: '2024-05-01T10:00:00.000Z' },
      }],
    });
    const n = buildNotification(sub({ payload: 'application/fhir+json', _payload: { extension: [{ url: PAYLOAD_CONTENT_URL, valueCode: 'id-only' }] } }), delivery, 'https://base/fhir', now);
    expect(n.headers['content-type']).toBe('application/fhir+json');
    expect(JSON.parse(n.body!).entry[0].resource).toBeUndefined();
  });
});

describe('acceptance', () => {
  const now = new Date('2024-05-01T00:00:00Z');
  test('requested and error become active, off stays off, error text is dropped', () => {
    expect(acceptSubscription({ ...sub(), status: 'requested' }, now).status).toBe('active');
    expect(acceptSubscription({ ...sub(), status: 'error', error: 'x' }, now)).not.toHaveProperty('error');
    expect(acceptSubscription({ ...sub(), status: 'error' }, now).status).toBe('active');
    expect(acceptSubscription({ ...sub(), status: 'off' }, now).status).toBe('off');
    expect(acceptSubscription({ ...sub(), criteria: '  Task?status=ready ' }, now).criteria).toBe('Task?status=ready');
  });

  test('live means active or error and not past the end', () => {
    expect(isLive(sub(), now)).toBe(true);
    expect(isLive({ ...sub(), status: 'error' }, now)).toBe(true);
    expect(isLive({ ...sub(), status: 'off' }, now)).toBe(false);
    expect(isLive({ ...sub(), end: '2024-04-30T23:59:59Z' }, now)).toBe(false);
    expect(isLive({ ...sub(), end: '2024-05-02' }, now)).toBe(true);
  });
});
