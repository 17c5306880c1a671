/** Whether an endpoint is an emulator on this machine (the local stack's, or a test's). */
export const isLoopback = (url: string | undefined): boolean =>
  !!url && /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);

/** Emulators on this machine accept any credentials; the SDK still wants some to sign with. */
export const LOCAL_CREDENTIALS = { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
