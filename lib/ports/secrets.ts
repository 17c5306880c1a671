/** Turns a credential reference (`env:NAME`, `ssm:/path`, `plain:value`) into the secret. */
export interface SecretResolver {
  /** The secret; throws when the reference cannot be resolved (a configuration error). */
  resolve(reference: string): Promise<string>;
}
