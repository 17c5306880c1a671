import { fork } from 'node:child_process';
import { join } from 'node:path';
import { addInstance } from '../lib/app/add-instance.ts';
import { createApiKey } from '../lib/app/create-api-key.ts';
import { createTenant } from '../lib/app/create-tenant.ts';
import { DEMO_TEMPLATES } from '../lib/app/seed-demo-tenant.ts';
import { setTemplate } from '../lib/app/set-template.ts';
import type { Container } from '../lib/composition.ts';
import type { BillingConfig } from '../lib/domain/tenant-types.ts';
import type { WhatsAppGateway } from '../lib/ports/whatsapp-gateway.ts';
import { API, type BenchStack, benchContacts, postJson, startBenchStack } from './ingest.ts';

/** When the simulator accepted a message, and on which instance (sub-ms clock). */
export interface Acceptance {
  instance: string;
  at: number;
}

/**
 * The container's gateway with every send stamped twice: when the pump calls it (what it paces) and
 * when the call's request leaves for the gateway (the adapter's `onRequestLeft`), each by instance.
 */
export const stampedGateway = (
  gateway: WhatsAppGateway,
  stamp: (moment: 'call' | 'departure', instance: string) => void,
): WhatsAppGateway => ({
  sendText: (target, number, text, onRequestLeft) => {
    stamp('call', target.instanceName);
    return gateway.sendText(target, number, text, () => {
      stamp('departure', target.instanceName);
      onRequestLeft?.();
    });
  },
  connectionState: (target) => gateway.connectionState(target),
});

/** The simulator as the benches drive it: in its own process, instances through its control API. */
export interface BenchSimulator {
  url: string;
  apiKey: string;
  /** Creates the instance (open), or leaves an existing one as it is. */
  upsertInstance(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Our own Evolution simulator in a process of its own (bench/simulator-process.ts), stamping every
 * acceptance on an idle event loop, and the bench stack (API on, worker off until the bench starts
 * it) using it as an external Evolution server. `accepted` is in this process's `performance.now()`.
 */
export const startStackOnSimulator = async (
  env: Record<string, string>,
): Promise<{ simulator: BenchSimulator; stackBench: BenchStack; accepted: Acceptance[] }> => {
  const accepted: Acceptance[] = [];
  const child = fork(join(import.meta.dirname, 'simulator-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ url: string; apiKey: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`simulator process exited (${code}) before it listened`)));
    child.on(
      'message',
      (message: { kind: string; url: string; apiKey: string; instance: string; at: number }) => {
        if (message.kind === 'ready') resolve(message);
        // From the shared timeline to this process's clock, like the pump's own call stamps.
        else if (message.kind === 'accepted')
          accepted.push({ instance: message.instance, at: message.at - performance.timeOrigin });
      },
    );
  });
  child.removeAllListeners('exit');
  const simulator: BenchSimulator = {
    url: ready.url,
    apiKey: ready.apiKey,
    upsertInstance: async (name) => {
      const response = await fetch(`${ready.url}/_sim/instances/${encodeURIComponent(name)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      if (!response.ok) throw new Error(`simulator: upsert ${name} answered ${response.status}`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send({ kind: 'close' });
      }),
  };
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
    /** A forked simulator (BenchSimulator) or one in this process: either makes an instance by name. */
    simulator: { url: string; upsertInstance(name: string): unknown };
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
    await options.simulator.upsertInstance(instanceName);
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
