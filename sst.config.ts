/// <reference path="./.sst/platform/config.d.ts" />

/**
 * The AWS deployment (SST v3). Only imports infra/<concern>.ts: SST provides its globals (`sst`, `aws`,
 * `$app`...) inside `run()`, so the infra files are imported there, in dependency order.
 * Typechecked by `npm run lint` against the real component types of the pinned SST version
 * (tsconfig.infra.json; scripts/sst-platform.ts writes the `.sst/platform/` referenced above from the
 * CLI binary of the `sst` devDependency), and synthesized by test/unit/infra-synth.test.ts against a
 * recording fake of SST's globals.
 */
export default $config({
  app(input) {
    // Same list as infra/stage.ts PRODUCTION_STAGES: app() runs before any import is possible.
    const production = ['production', 'prod'].includes(input?.stage ?? '');
    return {
      name: 'billing-reminders',
      home: 'aws',
      // Production data outlives `sst remove` and cannot be destroyed by a stray command.
      removal: production ? 'retain' : 'remove',
      protect: production,
    };
  },
  async run() {
    const { table } = await import('./infra/storage.ts');
    const { workQueue } = await import('./infra/queues.ts');
    await import('./infra/secrets.ts');
    const { release } = await import('./infra/scheduler.ts');
    const { api, evolutionWebhookBaseUrl } = await import('./infra/api.ts');
    // After the API: the site is built with its URL, and hands the API its origin for CORS.
    const { dashboardSite } = await import('./infra/dashboard.ts');
    await import('./infra/sender.ts');
    await import('./infra/callbacks.ts');
    await import('./infra/cron.ts');
    const { alarmTopic, dashboard } = await import('./infra/alarms.ts');
    return {
      api: api.url,
      // What `instance webhook --url` takes on AWS: Evolution posts there, not through the API.
      evolutionWebhook: evolutionWebhookBaseUrl,
      operatorDashboard: dashboardSite.url,
      table: table.name,
      workQueue: workQueue.url,
      release: release.name,
      alarmTopic: alarmTopic.arn,
      dashboard: dashboard.dashboardName,
    };
  },
});
