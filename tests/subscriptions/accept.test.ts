/** Writing a Subscription: what is accepted, what is refused (422/403), and the status the server sets. */
import { PAYLOAD_CONTENT_URL } from '../../src/subscriptions/channel';
import { type SubApp, post, startSubApp, subscriptionBody } from './harness';

const X = 'org-x';
const HOOK = 'https://receiver.example.org/hook';
let t: SubApp;
beforeEach(() => {
  t = startSubApp({ workers: false });
});
afterEach(() => t.close());

const clinician = () => t.as(['clinician'], X);

async function refused(body: object, status: number, expression?: string) {
  const res = await post(clinician(), 'Subscription', body);
  expect(res.status).toBe(status);
  expect(res.body.resourceType).toBe('OperationOutcome');
  if (expression) expect(res.body.issue[0].expression).toEqual([expression]);
  return res.body.issue[0].diagnostics as string;
}

describe('acceptance', () => {
  test('a requested subscription becomes active; a client-sent error is dropped', async () => {
    const res = await post(clinician(), 'Subscription', { ...subscriptionBody('Task?owner=Organization/org-x', HOOK), error: 'made up' });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('active');
    expect(res.body.error).toBeUndefined();
  });

  test('a client may turn a subscription off, and a later write re-activates it', async () => {
    const created = await post(clinician(), 'Subscription', { ...subscriptionBody('Task', HOOK), status: 'off' });
    expect(created.body.status).toBe('off');
    const updated = await clinician().put(`/fhir/Subscription/${created.body.id}`).set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify({ ...created.body, status: 'error', error: 'client says' }));
    expect(updated.status).toBe(200);
    expect(updated.body.status).toBe('active');
    expect(updated.body.error).toBeUndefined();
  });

  test('a subscription past its end is stored off', async () => {
    const res = await post(clinician(), 'Subscription', { ...subscriptionBody('Task', HOOK), end: '2001-01-01T00:00:00Z' });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('off');
  });

  test('an id-only payload with the backport extension is accepted', async () => {
    const res = await post(clinician(), 'Subscription', subscriptionBody('Task', HOOK, {
      payload: 'application/fhir+json', _payload: { extension: [{ url: PAYLOAD_CONTENT_URL, valueCode: 'id-only' }] },
    }));
    expect(res.status).toBe(201);
  });
});

describe('criteria', () => {
  test('unknown parameters are refused, not ignored (an ignored one would widen the match)', async () => {
    const msg = await refused(subscriptionBody('Task?no-such-param=1', HOOK), 422, 'Subscription.criteria');
    expect(msg).toContain('no-such-param');
  });

  test('result-shaping parameters are refused', async () => {
    await refused(subscriptionBody('Task?owner=Organization/org-x&_include=Task:patient', HOOK), 422, 'Subscription.criteria');
    await refused(subscriptionBody('Task?_count=5', HOOK), 422, 'Subscription.criteria');
  });

  test('an unknown or malformed type is refused', async () => {
    await refused(subscriptionBody('Basic?code=x', HOOK), 422, 'Subscription.criteria');
    await refused(subscriptionBody('http://elsewhere/fhir/Task?status=ready', HOOK), 422, 'Subscription.criteria');
  });

  test('an invalid value is refused with the parser\'s reason', async () => {
    const msg = await refused(subscriptionBody('Task?_lastUpdated=yesterday', HOOK), 422, 'Subscription.criteria');
    expect(msg).toMatch(/^criteria: /);
  });

  test('nobody subscribes to a type they may not search (outreach and Observation)', async () => {
    const res = await post(t.as(['outreach'], X), 'Subscription', subscriptionBody('Observation?code=http://loinc.org|23876-6', HOOK));
    expect(res.status).toBe(403);
    const ok = await post(t.as(['outreach'], X), 'Subscription', subscriptionBody('Task?owner=Organization/org-x', HOOK));
    expect(ok.status).toBe(201);
  });
});

describe('channel', () => {
  test('only rest-hook', async () => {
    await refused({ ...subscriptionBody('Task', HOOK), channel: { type: 'websocket' } }, 422, 'Subscription.channel.type');
    await refused({ ...subscriptionBody('Task', HOOK), channel: { type: 'email', endpoint: 'mailto:a@b.org' } }, 422, 'Subscription.channel.type');
  });

  test('the endpoint must be an http(s) URL without credentials', async () => {
    await refused(subscriptionBody('Task', 'ftp://receiver.example.org/x'), 422, 'Subscription.channel.endpoint');
    await refused(subscriptionBody('Task', 'relative/hook'), 422, 'Subscription.channel.endpoint');
    await refused(subscriptionBody('Task', 'https://user:secret@receiver.example.org/hook'), 422, 'Subscription.channel.endpoint');
    await refused({ ...subscriptionBody('Task', HOOK), channel: { type: 'rest-hook' } }, 422, 'Subscription.channel.endpoint');
  });

  test('payloads that would carry resource content are refused', async () => {
    const plain = await refused(subscriptionBody('Task', HOOK, { payload: 'application/fhir+json' }), 422, 'Subscription.channel.payload');
    expect(plain).toContain('never carry resource content');
    await refused(subscriptionBody('Task', HOOK, {
      payload: 'application/fhir+json', _payload: { extension: [{ url: PAYLOAD_CONTENT_URL, valueCode: 'full-resource' }] },
    }), 422, 'Subscription.channel.payload');
    await refused(subscriptionBody('Task', HOOK, {
      payload: 'application/fhir+xml', _payload: { extension: [{ url: PAYLOAD_CONTENT_URL, valueCode: 'id-only' }] },
    }), 422, 'Subscription.channel.payload');
  });

  test('headers must be single "Name: value" lines and may not set transport headers', async () => {
    await refused(subscriptionBody('Task', HOOK, { header: ['Authorization: Bearer abc\r\nX-Evil: 1'] }), 422, 'Subscription.channel.header[0]');
    await refused(subscriptionBody('Task', HOOK, { header: ['X-Ok: 1', 'no colon'] }), 422, 'Subscription.channel.header[1]');
    await refused(subscriptionBody('Task', HOOK, { header: ['Host: other.example.org'] }), 422, 'Subscription.channel.header[0]');
    const ok = await post(clinician(), 'Subscription', subscriptionBody('Task', HOOK, { header: ['Authorization: Bearer abc'] }));
    expect(ok.status).toBe(201);
  });

  test('in production only https endpoints are accepted', async () => {
    await t.close();
    t = startSubApp({ workers: false, production: true });
    await refused(subscriptionBody('Task', 'http://receiver.example.org/hook'), 422, 'Subscription.channel.endpoint');
    expect((await post(clinician(), 'Subscription', subscriptionBody('Task', HOOK))).status).toBe(201);
  });
});
