import type { WhatsAppInstance } from './tenant-types.ts';

/**
 * The instance a queue sends through: the first of `preferred` (the batch's own choice, then the
 * tenant's default) that exists and is active, else the tenant's oldest active instance; undefined
 * when the tenant has none active.
 */
export const chooseInstance = (
  instances: readonly WhatsAppInstance[],
  preferred: ReadonlyArray<string | null | undefined>,
): WhatsAppInstance | undefined => {
  const active = instances.filter((instance) => instance.isActive);
  for (const id of preferred) {
    const chosen = id ? active.find((instance) => instance.id === id) : undefined;
    if (chosen) return chosen;
  }
  return [...active].sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
};
