import { createContainer } from '../lib/composition.ts';
import { loadConfig } from '../lib/config.ts';
import { createReleaseHandler, type ReleaseHandlerResult } from '../lib/lambda/release-handler.ts';

/**
 * Lambda entry point of the target of every EventBridge schedule (lib/lambda/release-handler.ts);
 * the container is built at cold start.
 */
let built: ReturnType<typeof createReleaseHandler> | undefined;
export const handler = (event: unknown): Promise<ReleaseHandlerResult> => {
  built ??= createReleaseHandler(createContainer(loadConfig()));
  return built(event);
};
