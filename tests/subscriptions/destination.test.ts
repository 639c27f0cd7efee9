/**
 * Security review (SSRF): Subscriptions could make the server POST to loopback admin ports and
 * cloud metadata, and Subscription.error told closed ports from open ones. Unless private
 * destinations are allowed, endpoints must be public addresses, checked on write for literals and
 * at every delivery on the address connected to.
 */
import type { LookupAddress } from 'node:dns';
import type { Subscription } from '@medplum/fhirtypes';
import { loadConfig } from '../../src/config';
import { addressBytes, guardedLookup, isForbiddenAddress, isForbiddenHost } from '../../src/subscriptions/destination';
import { UNREACHABLE, sendNotification } from '../../src/subscriptions/send';
import { DELIVERY_QUEUE } from '../../src/subscriptions/options';
import { TEST_PSEUDONYM_KEY, TEST_SECRET } from '../helpers/app';
import { type Receiver, type SubApp, createTask, post, sleep, startReceiver, startSubApp, subscriptionBody, until } from './harness';

describe('the address checker', () => {
  test.each([
    '127.0.0.1', '127.255.255.254', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
    '100.127.255.255', '0.0.0.0', '224.0.0.1', '239.255.255.250', '255.255.255.255', '198.18.0.1', '192.0.0.8',
    '::1', '::', '[::1]', 'fe80::1', 'fe80::1%eth0', 'febf::1', 'fc00::1', 'fd12:3456::1', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '[::ffff:169.254.169.254]', '::ffff:10.0.0.1', '::127.0.0.1',
    '64:ff9b::7f00:1', '64:ff9b::10.0.0.1', '64:ff9b:1::1', '2002:7f00:1::1', '2002:a9fe:a9fe::', '2001:0:4136:e378::1', '100::1',
    'not-an-address', '',
  ])('%s is forbidden', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  test.each([
    '8.8.8.8', '1.1.1.1', '93.184.215.14', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1', '169.253.0.1', '192.0.2.1',
    '2606:4700:4700::1111', '2a00:1450:4001::200e', '[2001:db8::1]', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1',
  ])('%s is allowed', (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });

  test('IPv6 parsing expands :: and dotted quads', () => {
    expect(addressBytes('::ffff:127.0.0.1')).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]);
    expect(addressBytes('fe80::1')).toEqual([0xfe, 0x80, ...new Array(13).fill(0), 1]);
    expect(addressBytes('example.org')).toBeUndefined();
  });

  test('hosts judged on write: literals and localhost names; other names wait for resolution', () => {
    for (const h of ['localhost', 'LOCALHOST.', 'admin.localhost', '127.0.0.1', '[::1]', '[::ffff:7f00:1]', '169.254.169.254']) expect({ h, f: isForbiddenHost(h) }).toEqual({ h, f: true });
    for (const h of ['receiver.example.org', 'metadata.google.internal', '8.8.8.8', '[2606:4700:4700::1111]']) expect({ h, f: isForbiddenHost(h) }).toEqual({ h, f: false });
  });

  test('the URL parser normalises odd IPv4 spellings before the check', () => {
    for (const u of ['http://0x7f.1/', 'http://2130706433/', 'http://0177.0.0.1/', 'http://127.1/']) {
      expect({ u, f: isForbiddenHost(new URL(u).hostname) }).toEqual({ u, f: true });
    }
  });
});

/** A resolver that answers every name with `addresses`. */
function fakeDns(addresses: LookupAddress[]) {
  return (_host: string, _o: unknown, cb: (err: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) => cb(null, addresses);
}

describe('the checking lookup', () => {
  const lookupOnce = (addresses: LookupAddress[], all: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) =>
      guardedLookup(fakeDns(addresses))('hook.example.test', { all }, (err, address, family) => resolve({ err, address, family })),
    );

  test('public addresses are handed on, in both callback forms', async () => {
    const pub = [{ address: '93.184.215.14', family: 4 }, { address: '2606:2800:21f:cb07::1', family: 6 }];
    expect(await lookupOnce(pub, true)).toEqual({ err: null, address: pub, family: undefined });
    expect(await lookupOnce(pub, false)).toEqual({ err: null, address: '93.184.215.14', family: 4 });
  });

  test('a name with any forbidden address is refused (rebinding, mixed answers)', async () => {
    for (const addresses of [[{ address: '127.0.0.1', family: 4 }], [{ address: '93.184.215.14', family: 4 }, { address: '::ffff:10.0.0.1', family: 6 }], []]) {
      const { err } = await lookupOnce(addresses, false);
      expect(err?.code).toBe('EDESTINATIONREFUSED');
    }
  });
});

describe('sending', () => {
  let rx: Receiver;
  beforeEach(async () => {
    rx = await startReceiver();
  });
  afterEach(() => rx.close());

  test('a host name that resolves to loopback is refused when connecting: nothing is sent', async () => {
    const port = new URL(rx.url).port;
    const rebinding = guardedLookup(fakeDns([{ address: '127.0.0.1', family: 4 }]));
    const result = await sendNotification({ endpoint: `http://hook.example.test:${port}/hook`, headers: {} }, { timeoutMs: 1000, allowPrivate: false, lookup: rebinding });
    expect(result).toEqual({ ok: false, reason: UNREACHABLE, detail: 'EDESTINATIONREFUSED' });
    // The real resolver, on a name that is loopback everywhere.
    const local = await sendNotification({ endpoint: `http://localhost:${port}/hook`, headers: {} }, { timeoutMs: 1000, allowPrivate: false });
    expect(local).toEqual({ ok: false, reason: UNREACHABLE, detail: 'EDESTINATIONREFUSED' });
    expect(await sendNotification({ endpoint: rx.url, headers: {} }, { timeoutMs: 1000, allowPrivate: false })).toMatchObject({ ok: false, reason: UNREACHABLE });
    await sleep(50);
    expect(rx.received).toHaveLength(0);
  });

  test('with private destinations allowed, the same receiver is reached', async () => {
    expect(await sendNotification({ endpoint: rx.url, headers: {} }, { timeoutMs: 1000, allowPrivate: true })).toEqual({ ok: true, status: 200 });
  });
});

describe('with private destinations disallowed', () => {
  const X = 'org-x';
  let t: SubApp;
  beforeEach(() => {
    t = startSubApp({ env: { SUBSCRIPTION_ALLOW_PRIVATE_ENDPOINTS: '0' }, options: { maxAttempts: 1 } });
  });
  afterEach(() => t.close());

  test.each([
    'http://127.0.0.1:9/admin/internal', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]:8080/', 'http://[::ffff:127.0.0.1]/',
    'https://10.0.0.5/hook', 'https://192.168.1.10/hook', 'https://100.64.1.1/hook', 'http://localhost:8080/hook', 'http://0x7f.1/', 'https://[fe80::1]/',
  ])('a Subscription to %s is refused with 422 at Subscription.channel.endpoint', async (endpoint) => {
    const res = await post(t.as(['outreach'], X), 'Subscription', subscriptionBody(`Task?owner=Organization/${X}`, endpoint, { header: ['X-Admin: 1'] }));
    expect(res.status).toBe(422);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].expression).toEqual(['Subscription.channel.endpoint']);
  });

  test('a public endpoint is accepted', async () => {
    const res = await post(t.as(['clinician'], X), 'Subscription', subscriptionBody(`Task?owner=Organization/${X}`, 'https://receiver.example.org/hook'));
    expect(res.status).toBe(201);
  });

  test('a stored Subscription to a loopback name (written before the check) is refused at delivery, with a generic error', async () => {
    const rx = await startReceiver();
    try {
      const endpoint = `http://localhost:${new URL(rx.url).port}/hook`;
      const sub: Subscription & { id: string } = { ...subscriptionBody(`Task?owner=Organization/${X}`, endpoint), id: 'legacy-sub', status: 'active' } as Subscription & { id: string };
      await t.store.unitOfWork((tx) => tx.put(sub, { custodian: X, method: 'POST' }));
      await createTask(t.as(['clinician'], X), X);
      await until(async () => (await t.store.listJobs(DELIVERY_QUEUE, { states: ['failed'] })).length === 1, 5000, 'failed job');
      expect(rx.received).toHaveLength(0);
      const read = await t.as(['clinician'], X).get('/fhir/Subscription/legacy-sub');
      expect(read.body.error).toBe(`Delivery failed: ${UNREACHABLE}; gave up after 1 attempts`);
      expect(t.logs.join('\n')).toContain('"detail":"EDESTINATIONREFUSED"');
    } finally {
      await rx.close();
    }
  });
});

test('private destinations: allowed by default in development and test, refused in production', () => {
  const base = { DATABASE_URL: 'sqlite::memory:', AUTH_JWT_SECRET: TEST_SECRET, PSEUDONYM_KEY: TEST_PSEUDONYM_KEY };
  expect(loadConfig({ ...base, NODE_ENV: 'production' }).subscriptionPrivateEndpoints).toBe(false);
  expect(loadConfig({ ...base, NODE_ENV: 'production', SUBSCRIPTION_ALLOW_PRIVATE_ENDPOINTS: '1' }).subscriptionPrivateEndpoints).toBe(true);
  expect(loadConfig({ ...base, NODE_ENV: 'test' }).subscriptionPrivateEndpoints).toBe(true);
  expect(loadConfig({ ...base, NODE_ENV: 'development' }).subscriptionPrivateEndpoints).toBe(true);
  expect(loadConfig({ ...base, NODE_ENV: 'test', SUBSCRIPTION_ALLOW_PRIVATE_ENDPOINTS: '0' }).subscriptionPrivateEndpoints).toBe(false);
  expect(() => loadConfig({ ...base, NODE_ENV: 'test', SUBSCRIPTION_ALLOW_PRIVATE_ENDPOINTS: 'yes' })).toThrow(/0 or 1/);
});
