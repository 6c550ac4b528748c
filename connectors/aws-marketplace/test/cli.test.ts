import { ListEntitiesCommand, MarketplaceCatalogClient } from '@aws-sdk/client-marketplace-catalog';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerAwsMarketplaceSandboxCommand } from '../sandbox/cli.js';

function program(): Command {
  const root = new Command('ecosync').exitOverride();
  const sandbox = root.command('sandbox').exitOverride();
  registerAwsMarketplaceSandboxCommand(sandbox).exitOverride().configureOutput({ writeErr: () => {} });
  return root;
}

describe('ecosync sandbox aws-marketplace', () => {
  afterEach(() => vi.restoreAllMocks());

  it('rejects bad options with the reason, before starting anything', async () => {
    await expect(program().parseAsync(['node', 'ecosync', 'sandbox', 'aws-marketplace', '--change-set-ms', '-5'])).rejects.toThrow(/non-negative integer/);
    await expect(program().parseAsync(['node', 'ecosync', 'sandbox', 'aws-marketplace', '--faults', 'rateLimitRat=1'])).rejects.toThrow(/unknown fault "rateLimitRat"/);
    await expect(program().parseAsync(['node', 'ecosync', 'sandbox', 'aws-marketplace', '--port', '0', '--events-url', 'http://127.0.0.1:1/events'])).rejects.toThrow(/--events-url needs --events-api-key/);
  });

  it('serves the marketplace, prints how to point the SDK at it (which works), and stops on Ctrl-C', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => { lines.push(args.join(' ')); });
    const run = program().parseAsync(['node', 'ecosync', 'sandbox', 'aws-marketplace', '--port', '0', '--change-set-ms', '0']);
    const deadline = Date.now() + 10_000;
    while (!lines.some((l) => l.includes('Ctrl-C to stop')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const text = lines.join('\n');
    const url = /listening on (http:\/\/\S+)/.exec(text)?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(text).toContain(`new MarketplaceCatalogClient({ endpoint: '${url}', region: 'us-east-1'`);
    expect(text).toMatch(/seller 123456789012: accessKeyId SANDBOXSELLERKEY001/);
    expect(text).toMatch(/product prod-\w{13} "Ecosync Data Pipeline" \(product code \w{25}; dimensions Users, ApiCalls \[metered\], DataGB \[metered\]\)/);
    expect(text).toMatch(/offer offer-\w{13} "Analytics annual contract" \(Released\)/);

    const client = new MarketplaceCatalogClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'SANDBOXSELLERKEY001', secretAccessKey: 'ecosync-sandbox-seller-secret' } });
    const offers = await client.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'Offer' }));
    expect(offers.EntitySummaryList).toHaveLength(3);
    client.destroy();

    process.emit('SIGINT');
    await run;
    expect(lines.at(-1)).toMatch(/^Stopped\. Calls served: .*"catalog\.ListEntities":1/);
  });
});
