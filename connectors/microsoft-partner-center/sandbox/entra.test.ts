import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { ClientSecretCredential } from '@azure/identity';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPH_AUDIENCE, MARKETPLACE_API_AUDIENCE, PARTNER_CENTER_AUDIENCE, resourceOfScope } from './entra.js';
import { startMicrosoftSandbox, type MicrosoftSandbox } from './server.js';

describe('resourceOfScope', () => {
  it('knows Partner Center, Graph, the marketplace API and the app itself, nothing else', () => {
    expect(resourceOfScope('https://api.partner.microsoft.com/.default', 'app')).toBe(PARTNER_CENTER_AUDIENCE);
    expect(resourceOfScope('https://graph.microsoft.com/.default', 'app')).toBe(GRAPH_AUDIENCE);
    expect(resourceOfScope(`${MARKETPLACE_API_AUDIENCE}/.default`, 'app')).toBe(MARKETPLACE_API_AUDIENCE);
    expect(resourceOfScope('app/.default', 'app')).toBe('app');
    expect(resourceOfScope('other-app/.default', 'app')).toBeUndefined();
    expect(resourceOfScope('https://graph.microsoft.com/User.Read', 'app')).toBeUndefined();
    expect(resourceOfScope(undefined, 'app')).toBeUndefined();
  });
});

describe('tokens for the commercial marketplace APIs', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ecosync-entra-'));
  let sb: MicrosoftSandbox;
  beforeAll(async () => { sb = await startMicrosoftSandbox({ dataDir, incoming: 0 }); });
  afterAll(async () => {
    await sb.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const credential = () => new ClientSecretCredential(sb.tenantId, sb.clientId, sb.clientSecret, { authorityHost: sb.url, disableInstanceDiscovery: true, tlsOptions: { ca: sb.caPem } });

  it('issues tokens whose audience is the resource asked for, through the unmodified @azure/identity', async () => {
    for (const [scope, aud] of [
      ['https://graph.microsoft.com/.default', GRAPH_AUDIENCE],
      [`${MARKETPLACE_API_AUDIENCE}/.default`, MARKETPLACE_API_AUDIENCE],
      [`${sb.clientId}/.default`, sb.clientId],
    ]) {
      const claims = decodeJwt((await credential().getToken(scope)).token);
      expect(claims).toMatchObject({ aud, tid: sb.tenantId, appid: sb.clientId, iss: `${sb.url}/${sb.tenantId}/v2.0` });
    }
  });

  it('refuses a scope for an API it does not serve, and a Graph token does not open Partner Center referrals', async () => {
    await expect(credential().getToken('https://management.azure.com/.default')).rejects.toThrow(/AADSTS1002012/);
    const graphToken = (await credential().getToken('https://graph.microsoft.com/.default')).token;
    const status = await new Promise<number>((resolve, reject) => {
      https.get(new URL('/v1.0/engagements/referrals', sb.url), { ca: sb.caPem, headers: { Authorization: `Bearer ${graphToken}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(status).toBe(401);
  });
});
