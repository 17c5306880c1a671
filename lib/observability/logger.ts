import { Logger } from '@aws-lambda-powertools/logger';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

/**
 * Structured JSON logs (Powertools Logger) for Lambda and local runs alike.
 * Callers pass ids (tenant, queue, contact) as keys, never secrets; phones go through `maskPhone`.
 */
export const createLogger = (level: LogLevel, serviceName = 'billing'): Logger =>
  new Logger({ serviceName, logLevel: level });

export type { Logger };
