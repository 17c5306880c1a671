/** Whether an endpoint is an emulator on this machine (the local stack's, or a test's). */
export const isLoopback = (url: string | undefined): boolean =>
  !!url && /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);

/** Emulators on this machine accept any credentials; the SDK still wants some to sign with. */
export const LOCAL_CREDENTIALS = { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

/**
 * What every AWS client of the product is made with: the region, the endpoint when one is set (an
 * emulator or LocalStack; real AWS otherwise), local credentials for an emulator on this machine,
 * and the service's timeouts (aws-timeouts.ts).
 */
export const awsClientOptions = <Timeouts extends object>(
  region: string,
  endpoint: string | undefined,
  timeouts: Timeouts,
) => ({
  region,
  ...(endpoint ? { endpoint } : {}),
  ...(isLoopback(endpoint) ? LOCAL_CREDENTIALS : {}),
  requestHandler: timeouts,
});
