/**
 * Security review: any user of the organisation could read a clinician's Subscription, including
 * channel.header ("Authorization: Bearer …"). Header values are stored and sent, never shown.
 */
import { FHIR_JSON } from '../helpers/app';
import { MASKED_VALUE } from '../../src/subscriptions/mask';
import { type Receiver, type SubApp, createTask, post, startReceiver, startSubApp, subscriptionBody } from './harness';

const X = 'org-x';
const SECRET = 'Bearer receiver-secret-7f3a';
const MASKED = [`Authorization: ${MASKED_VALUE}`, `X-Tenant: ${MASKED_VALUE}`];
let t: SubApp;
let rx: Receiver;
let id: string;
beforeEach(async () => {
  t = startSubApp();
  rx = await startReceiver();
  const res = await post(t.as(['clinician'], X), 'Subscription', subscriptionBody(`Task?owner=Organization/${X}`, rx.url, { header: [`Authorization: ${SECRET}`, 'X-Tenant: t-1'] }));
  expect(res.status).toBe(201);
  expect(res.body.channel.header).toEqual(MASKED);
  id = res.body.id;
});
afterEach(async () => {
  await t.close();
  await rx.close();
});

const outreach = () => t.as(['outreach'], X);

test('read, vread, search, history and batch answers show header names with masked values', async () => {
  const answers = await Promise.all([
    outreach().get(`/fhir/Subscription/${id}`),
    outreach().get(`/fhir/Subscription/${id}/_history/1`),
    outreach().get('/fhir/Subscription?status=active'),
    outreach().get(`/fhir/Subscription/${id}/_history`),
    outreach().get('/fhir/_history'),
    outreach().post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify({
      resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Subscription/${id}` } }],
    })),
  ]);
  for (const res of answers) {
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('receiver-secret');
    expect(res.text).not.toContain('t-1');
  }
  expect(answers[0]!.body.channel.header).toEqual(MASKED);
  expect(answers[2]!.body.entry[0].resource.channel.header).toEqual(MASKED);
  // The author sees the mask too: nobody needs the secret back.
  expect((await t.as(['clinician'], X).get(`/fhir/Subscription/${id}`)).body.channel.header).toEqual(MASKED);
});

test('notifications still carry the stored values', async () => {
  await createTask(t.as(['clinician'], X), X);
  const [hit] = await rx.waitFor(1);
  expect(hit!.headers.authorization).toBe(SECRET);
  expect(hit!.headers['x-tenant']).toBe('t-1');
});

test('a Subscription written back as read keeps its stored values', async () => {
  const read = (await outreach().get(`/fhir/Subscription/${id}`)).body;
  const put = await t.as(['clinician'], X).put(`/fhir/Subscription/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...read, reason: 'renamed' }));
  expect(put.status).toBe(200);
  expect(put.body.channel.header).toEqual(MASKED);
  await createTask(t.as(['clinician'], X), X);
  const [hit] = await rx.waitFor(1);
  expect(hit!.headers.authorization).toBe(SECRET);
});

test('masked values never follow the Subscription to another endpoint (PUT)', async () => {
  const read = (await outreach().get(`/fhir/Subscription/${id}`)).body;
  const moved = { ...read, channel: { ...read.channel, endpoint: 'https://attacker.example.org/collect' } };
  const res = await outreach().put(`/fhir/Subscription/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(moved));
  expect(res.status).toBe(422);
  expect(res.body.issue[0].expression).toEqual(['Subscription.channel.header[0]']);
  // Sending the values themselves is a deliberate choice, and allowed.
  const fresh = { ...moved, channel: { ...moved.channel, header: ['Authorization: Bearer new'] } };
  expect((await t.as(['clinician'], X).put(`/fhir/Subscription/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(fresh))).status).toBe(200);
});

test('a PATCH may not move the stored values to another endpoint', async () => {
  const patch = (ops: object[]) => outreach().patch(`/fhir/Subscription/${id}`).set('Content-Type', 'application/json-patch+json').send(JSON.stringify(ops));
  const moved = await patch([{ op: 'replace', path: '/channel/endpoint', value: 'https://attacker.example.org/collect' }]);
  expect(moved.status).toBe(422);
  expect(moved.body.issue[0].expression).toEqual(['Subscription.channel.endpoint']);
  // Replacing the headers in the same PATCH is a move with the author's own values.
  const both = await patch([
    { op: 'replace', path: '/channel/endpoint', value: 'https://receiver.example.org/hook' },
    { op: 'replace', path: '/channel/header', value: ['Authorization: Bearer other'] },
  ]);
  expect(both.status).toBe(200);
  expect((await patch([{ op: 'replace', path: '/reason', value: 'still here' }])).status).toBe(200);
});

test('a masked value with nothing stored behind it is refused', async () => {
  const res = await post(t.as(['clinician'], X), 'Subscription', subscriptionBody('Task', rx.url, { header: [`Authorization: ${MASKED_VALUE}`] }));
  expect(res.status).toBe(422);
  expect(res.body.issue[0].expression).toEqual(['Subscription.channel.header[0]']);
  const read = (await outreach().get(`/fhir/Subscription/${id}`)).body;
  const extra = { ...read, channel: { ...read.channel, header: [...read.channel.header, `X-Other: ${MASKED_VALUE}`] } };
  const put = await t.as(['clinician'], X).put(`/fhir/Subscription/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(extra));
  expect(put.status).toBe(422);
  expect(put.body.issue[0].expression).toEqual(['Subscription.channel.header[2]']);
});

test('a PATCH works on the masked view: it cannot test a guessed header value or copy one into a shown element', async () => {
  const patch = (ops: object[]) => outreach().patch(`/fhir/Subscription/${id}`).set('Content-Type', 'application/json-patch+json').send(JSON.stringify(ops));
  // A right guess and a wrong one are answered alike: both tests fail against the masked value.
  const right = await patch([{ op: 'test', path: '/channel/header/0', value: `Authorization: ${SECRET}` }]);
  const wrong = await patch([{ op: 'test', path: '/channel/header/0', value: 'Authorization: Bearer wrong' }]);
  expect([right.status, wrong.status]).toEqual([wrong.status, wrong.status]);
  expect(right.status).toBeGreaterThanOrEqual(400);
  const copied = await patch([{ op: 'copy', from: '/channel/header/0', path: '/reason' }]);
  expect(copied.status).toBe(200);
  expect(JSON.stringify(copied.body)).not.toContain(SECRET);
  const stored = await t.store.read('Subscription', id);
  expect(JSON.stringify(stored!.resource)).toContain(SECRET); // kept where it belongs, for the worker
  expect((stored!.resource as { reason: string }).reason).toBe(`Authorization: ${MASKED_VALUE}`);
});
