import { trailingSlashHandler } from '../lib/http/trailing-slash.ts';

/** Lambda entry point of the API's `$default` route: trailing-slash spellings and unknown paths (infra/api.ts). */
export const handler = trailingSlashHandler;
