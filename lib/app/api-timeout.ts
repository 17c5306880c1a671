/**
 * How long an API function may run: infra/api.ts gives every route's function this timeout, and
 * the accept path derives its campaign lease from it (lib/app/create-campaign.ts), so a retry can
 * never take over a campaign whose first request may still be running. API Gateway gives up on an
 * integration after 30 s; a function running longer would only cost.
 */
export const API_TIMEOUT_SECONDS = 29;
