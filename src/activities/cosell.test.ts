import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { PartnerCentralError } from '../../connectors/aws-partner-central/index.js';
import { PartnerCenterError } from '../../connectors/microsoft-partner-center/index.js';
import { RateLimitError } from '../sync/protocol.js';
import { cloudCall } from './cosell.js';

const noMappings = () => {
  throw new Error('no mapping is read for these failures');
};

const failureOf = (error: unknown) => cloudCall(noMappings, async () => {
  throw error;
}).catch((e: unknown) => e);

describe('cloudCall: what Temporal does with a failed cloud call', () => {
  it('a throttle the client could not wait out is retried after the wait the cloud asked for', async () => {
    const failure = await failureOf(new RateLimitError('Partner Central throttled GetOpportunity: Rate exceeded; still refused after 6 attempts', 4_000));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'RateLimit', nonRetryable: false, nextRetryDelay: 4_000, details: [{ retryAfterMs: 4_000 }] });
  });

  it('5xx and network failures stay as they are, for the activity retry policy', async () => {
    const aws = new PartnerCentralError({ code: 'InternalServerException', message: 'An internal error occurred.', fields: [] }, { retryable: true });
    const microsoft = new PartnerCenterError('NetworkError', 'socket hang up', [], undefined, true);
    expect(await failureOf(aws)).toBe(aws);
    expect(await failureOf(microsoft)).toBe(microsoft);
  });

  it('a refusal is not retried', async () => {
    const refused = new PartnerCentralError({ code: 'ConflictException', message: 'Already submitted.', fields: [] });
    expect(await failureOf(refused)).toMatchObject({ type: 'CloudRefused', nonRetryable: true, details: [{ code: 'ConflictException', fields: [] }] });
  });
});
