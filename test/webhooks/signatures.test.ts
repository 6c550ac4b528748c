import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as hubspot from '../../connectors/hubspot/webhooks.js';
import * as salesforce from '../../connectors/salesforce/webhooks.js';
import { entitiesOf } from '../../src/api/webhooks/index.js';
import { CRM_HUB } from '../support/hub.js';

const NOW = 1_732_000_000_000;
const SECRET = 'client-secret';

describe('HubSpot signature v3', () => {
  const uri = 'https://hub.example.com/webhooks/hubspot/acme?x=1';
  const body = '[{"subscriptionType":"company.propertyChange","objectId":1,"occurredAt":1}]';

  it('is base64 HMAC-SHA256 of method + uri + body + timestamp with the client secret', () => {
    const expected = createHmac('sha256', SECRET).update(`POST${uri}${body}${NOW}`).digest('base64');
    expect(hubspot.signatureV3({ clientSecret: SECRET, method: 'post', uri, body, timestamp: String(NOW) })).toBe(expected);
  });

  it('signs the URI with the escapes HubSpot decodes decoded', () => {
    expect(hubspot.signedUri('https://h.example.com/a%3Ab%2Fc%3Fd%40e%21%24%27%28%29%2A%2C%3B?q=%20%3a')).toBe("https://h.example.com/a:b/c?d@e!$'()*,;?q=%20:");
    const encoded = hubspot.signatureV3({ clientSecret: SECRET, method: 'POST', uri: 'https://h.example.com/w%3Ax', body, timestamp: '1' });
    expect(encoded).toBe(hubspot.signatureV3({ clientSecret: SECRET, method: 'POST', uri: 'https://h.example.com/w:x', body, timestamp: '1' }));
  });

  it('accepts what signedHeaders produced and refuses any change to method, URI, body, timestamp or secret', () => {
    const headers = hubspot.signedHeaders({ clientSecret: SECRET, method: 'POST', uri, body, now: NOW });
    const good = { clientSecret: SECRET, method: 'POST', uri, body, signature: headers['X-HubSpot-Signature-v3'], timestamp: headers['X-HubSpot-Request-Timestamp'], now: NOW + 1000 };
    expect(hubspot.verifySignatureV3(good)).toEqual({ ok: true });
    expect(hubspot.verifySignatureV3({ ...good, body: Buffer.from(body) })).toEqual({ ok: true });
    for (const change of [{ method: 'PUT' }, { uri: `${uri}&y=2` }, { body: body.replace('1', '2') }, { clientSecret: 'other' }, { timestamp: String(NOW + 1) }]) {
      expect(hubspot.verifySignatureV3({ ...good, ...change })).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });
    }
  });

  it('refuses requests older or newer than 5 minutes, and missing or non-numeric headers', () => {
    const headers = hubspot.signedHeaders({ clientSecret: SECRET, method: 'POST', uri, body, now: NOW });
    const base = { clientSecret: SECRET, method: 'POST', uri, body, signature: headers['X-HubSpot-Signature-v3'], timestamp: headers['X-HubSpot-Request-Timestamp'] };
    expect(hubspot.verifySignatureV3({ ...base, now: NOW + 5 * 60_000 })).toEqual({ ok: true });
    expect(hubspot.verifySignatureV3({ ...base, now: NOW + 5 * 60_000 + 1 })).toMatchObject({ ok: false, reason: expect.stringMatching(/5 minutes/) });
    expect(hubspot.verifySignatureV3({ ...base, now: NOW - 5 * 60_000 - 1 })).toMatchObject({ ok: false });
    expect(hubspot.verifySignatureV3({ ...base, signature: undefined, now: NOW })).toMatchObject({ ok: false, reason: expect.stringMatching(/missing/) });
    expect(hubspot.verifySignatureV3({ ...base, timestamp: '17e11', now: NOW })).toMatchObject({ ok: false, reason: expect.stringMatching(/milliseconds/) });
  });

  it('parses event batches, keeping fields it does not know, and names the object of each event', () => {
    const parsed = hubspot.parseWebhookBatch(JSON.stringify([
      { subscriptionType: 'company.propertyChange', objectId: 5, occurredAt: NOW, propertyName: 'name', propertyValue: 'Acme', future: true },
      { subscriptionType: 'deal.creation', objectId: '6', occurredAt: NOW },
      { subscriptionType: 'object.deletion', objectTypeId: '0-1', objectId: 7, occurredAt: NOW },
      { subscriptionType: 'ticket.creation', objectId: 8, occurredAt: NOW },
    ]));
    if ('error' in parsed) throw new Error(parsed.error);
    expect(parsed.events[0]).toMatchObject({ future: true });
    expect(parsed.events.map(hubspot.objectOfEvent)).toEqual(['companies', 'deals', 'contacts', undefined]);
  });

  it('says why a body is not a batch', () => {
    expect(hubspot.parseWebhookBatch('{nope')).toEqual({ error: 'the body is not JSON' });
    expect(hubspot.parseWebhookBatch('[]')).toMatchObject({ error: expect.stringMatching(/not a HubSpot webhook batch/) });
    expect(hubspot.parseWebhookBatch('{"subscriptionType":"company.creation"}')).toMatchObject({ error: expect.stringMatching(/webhook batch/) });
    expect(hubspot.parseWebhookBatch('[{"subscriptionType":"company.creation","occurredAt":1}]')).toMatchObject({ error: expect.stringMatching(/0\.objectId/) });
  });
});

describe('Salesforce change notifications: X-Ecosync-Signature', () => {
  const body = JSON.stringify({ events: [{ sobject: 'Account', id: '001000000000001AAA', changeType: 'UPDATE', commitTimestamp: NOW }] });

  it('is t=<unix>,v1=<hex HMAC-SHA256 of t + "." + body>', () => {
    const header = salesforce.signatureHeader(SECRET, body, NOW);
    const t = String(Math.floor(NOW / 1000));
    expect(header).toBe(`t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex')}`);
    expect(salesforce.verifySignature({ secret: SECRET, header, body, now: NOW + 2000 })).toEqual({ ok: true });
  });

  it('accepts any of several v1 values (secret rotation) and refuses tampering, age and bad headers', () => {
    const header = salesforce.signatureHeader(SECRET, body, NOW);
    const rotated = `${header.replace(/v1=\w+/, 'v1=00ff')},${header.split(',')[1]}`;
    expect(salesforce.verifySignature({ secret: SECRET, header: rotated, body, now: NOW })).toEqual({ ok: true });
    expect(salesforce.verifySignature({ secret: SECRET, header, body: `${body} `, now: NOW })).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });
    expect(salesforce.verifySignature({ secret: 'other', header, body, now: NOW })).toMatchObject({ ok: false });
    expect(salesforce.verifySignature({ secret: SECRET, header, body, now: NOW + 301_000 })).toMatchObject({ ok: false, reason: expect.stringMatching(/5 minutes/) });
    expect(salesforce.verifySignature({ secret: SECRET, header: undefined, body, now: NOW })).toMatchObject({ ok: false, reason: expect.stringMatching(/missing/) });
    expect(salesforce.verifySignature({ secret: SECRET, header: 'sha256=abc', body, now: NOW })).toMatchObject({ ok: false, reason: expect.stringMatching(/t=<unix>/) });
  });

  it('parses batches and refuses other shapes', () => {
    expect(salesforce.parseChangeBatch(body)).toMatchObject({ events: [{ sobject: 'Account', changeType: 'UPDATE' }] });
    expect(salesforce.parseChangeBatch(JSON.stringify({ events: [{ sobject: 'Account', id: '001000000000001', changeType: 'CREATE', commitTimestamp: '2024-11-19T10:00:00.000Z' }] }))).toHaveProperty('events');
    expect(salesforce.parseChangeBatch('nope')).toEqual({ error: 'the body is not JSON' });
    expect(salesforce.parseChangeBatch('{"events":[]}')).toHaveProperty('error');
    expect(salesforce.parseChangeBatch(JSON.stringify({ events: [{ sobject: 'Account', id: '001000000000001AAA', changeType: 'MERGE', commitTimestamp: 1 }] }))).toMatchObject({ error: expect.stringMatching(/changeType/) });
  });
});

describe('webhook objects → canonical entities', () => {
  const connection = { systems: CRM_HUB.systems.map((s) => ({ ...s, role: 'both' as const, instance: null })), entities: CRM_HUB.entities };

  it('follows the entities the sending system takes part in, in dependency order, each once', () => {
    expect(entitiesOf(connection, 'hubspot', ['deals', 'companies', 'companies'])).toEqual(['Account', 'Opportunity']);
    expect(entitiesOf(connection, 'hubspot', ['contacts'])).toEqual(['Contact']);
    expect(entitiesOf(connection, 'salesforce', ['Opportunity', 'Account'])).toEqual(['Account', 'Opportunity']);
    // Another system's object names do not count.
    expect(entitiesOf(connection, 'salesforce', ['companies'])).toEqual([]);
    // Every system of the kind counts: two HubSpot portals in one hub.
    const twoPortals = {
      systems: [...connection.systems, { name: 'hubspot-eu', system: 'hubspot', role: 'both' as const, instance: null }],
      entities: [{ entity: 'Contact', members: [{ system: 'salesforce', object: 'Contact', mapping: 'm' }, { system: 'hubspot-eu', object: 'contacts', mapping: 'm' }] }],
    };
    expect(entitiesOf(twoPortals, 'hubspot', ['contacts'])).toEqual(['Contact']);
  });
});
