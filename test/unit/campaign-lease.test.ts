import { beforeAll, describe, expect, it } from 'vitest';
import { CAMPAIGN_LEASE_MS } from '../../lib/app/create-campaign.ts';
import { OPERATIONS } from '../../lib/http/routes/index.ts';
import { argsOf, type Synth, synthesizeInfra } from '../support/infra-checks.ts';
import { toSeconds } from '../support/sst-fake.ts';

/**
 * The campaign lease must outlive any accept request, or a retry takes over a campaign whose first
 * request still runs (issue 10, finding 3). Checked against the deployed timeouts themselves, so a
 * function given its own timeout some day cannot slip past the lease unnoticed.
 */

/** Room for a write already on the wire when the function stops, and for clock skew. */
const MIN_MARGIN_SECONDS = 10;

describe('campaign lease', () => {
  let synth: Synth;

  beforeAll(async () => {
    synth = await synthesizeInfra('dev-alice');
  });

  it('outlives the timeout of every function that serves a send route, with a margin', () => {
    // Prepare
    const handlers = new Set(
      OPERATIONS.filter((r) => r.path.includes('/send/')).map((r) => `functions/${r.route}.handler`),
    );

    // Act
    const timeouts = synth.fake
      .ofType('sst.aws.Function')
      .map(argsOf)
      .filter((fn) => handlers.has(String(fn.handler)))
      .map((fn) => toSeconds(fn.timeout));

    // Assess
    expect(timeouts).toHaveLength(handlers.size);
    for (const timeout of timeouts) {
      expect(timeout + MIN_MARGIN_SECONDS).toBeLessThanOrEqual(CAMPAIGN_LEASE_MS / 1000);
    }
  });
});
