import { addInstance } from '../lib/app/add-instance.ts';
import { createApiKey } from '../lib/app/create-api-key.ts';
import { createTenant } from '../lib/app/create-tenant.ts';
import { DEMO_TEMPLATES } from '../lib/app/seed-demo-tenant.ts';
import { setTemplate } from '../lib/app/set-template.ts';
import type { Container } from '../lib/composition.ts';
import type { BillingConfig } from '../lib/domain/types.ts';
import {
  type EvolutionSimulator,
  type SimSentMessage,
  startEvolutionSimulator,
} from '../lib/local/evolution-simulator/index.ts';
import { API, type BenchStack, benchContacts, postJson, startBenchStack } from './ingest.ts';

/** When the simulator accepted a message, and on which instance (sub-ms clock). */
export interface Acceptance {
  instance: string;
  at: number;
}

/**
 * Our own Evolution simulator, stamping every acceptance with `performance.now()`, and the bench
 * stack (API on, worker off until the bench starts it) using it as an external Evolution server.
 */
export const startStackOnSimulator = async (
  env: Record<string, string>,
): Promise<{ simulator: EvolutionSimulator; stackBench: BenchStack; accepted: Acceptance[] }> => {
  const accepted: Acceptance[] = [];
  const simulator = await startEvolutionSimulator({
    port: 0,
    onAccepted: (message: SimSentMessage) =>
      accepted.push({ instance: message.instance, at: performance.now() }),
  });
  const stackBench = await startBenchStack({
    env: { EVOLUTION_URL: simulator.url, EVOLUTION_API_KEY: simulator.apiKey, ...env },
    roles: { api: true, worker: false },
  });
  return { simulator, stackBench, accepted };
};

/** One bench tenant: its own WhatsApp instance on the simulator and one notification queue. */
export interface InstanceTenant {
  tenantId: string;
  /** The simulator's instance name, as its send log and acceptances name it. */
  instanceName: string;
  queueId: string;
}

/**
 * `count` tenants, each with one instance and one queue of `contacts` notifications (they go out
 * 24/7, so the figures do not depend on the hour the bench runs at). One tenant per instance: a
 * campaign goes to its tenant's instance, so one queue per instance needs one tenant per instance.
 */
export const createInstanceTenants = async (
  c: Container,
  options: {
    label: string;
    count: number;
    contacts: number;
    config: Partial<BillingConfig>;
    simulator: Pick<EvolutionSimulator, 'url' | 'upsertInstance'>;
    apiUrl: string;
    /** Seeds the contacts' data: tenants of different runs get different numbers. */
    firstBatchNo: number;
  },
): Promise<InstanceTenant[]> => {
  const tenants: InstanceTenant[] = [];
  for (let i = 0; i < options.count; i++) {
    const tenantId = `bench-${options.label}-t${i}`;
    const instanceName = `bench-${options.label}-${i}`;
    await createTenant(c, { id: tenantId, config: options.config });
    await setTemplate(c, tenantId, 'notification', DEMO_TEMPLATES.notification);
    options.simulator.upsertInstance(instanceName);
    await addInstance(c, {
      tenantId,
      id: `wa-${instanceName}`,
      instanceName,
      baseUrl: options.simulator.url,
      credentialRef: 'env:EVOLUTION_API_KEY',
      // The bench measures the pace: its simulated numbers need no warm-up ramp.
      warmup: { enabled: false },
    });
    const { key } = await createApiKey(c, { tenantId, name: 'bench' });
    const externalId = `bench-${options.label}-${i}`;
    const res = await postJson(`${options.apiUrl}${API}/send/notification`, key, {
      external_id: externalId,
      contacts: benchContacts(options.contacts, options.firstBatchNo + i, 'notification', new Date()),
    });
    if (res.status !== 200 || res.body?.accepted !== options.contacts)
      throw new Error(`campaign ${externalId}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    tenants.push({ tenantId, instanceName, queueId: res.body.queue_id as string });
  }
  return tenants;
};
