// Type declarations of `tokenwell/otel` (needs the optional peer dependency @opentelemetry/api).
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';

/** A TokenClient of `tokenwell` (structurally: instrument() takes one of either build, ESM or CommonJS). */
export interface InstrumentableClient {
  readonly name: string;
  readonly serverAddress: string;
  status(): unknown;
  lookups(): unknown;
}

export interface InstrumentOptions {
  /** Where the `tokenwell.*` instruments live (meter `tokenwell`). Default: the global meter provider. */
  meterProvider?: MeterProvider;
  /** Where the `POST` CLIENT spans go (tracer `tokenwell`). Default: the global tracer provider. */
  tracerProvider?: TracerProvider;
}

export interface Instrumentation {
  /** Stops reporting this client's metrics and spans. */
  stop(): void;
}

/**
 * Reports the client's metrics (built from the core's metrics table) and one
 * CLIENT span `POST` per token request (parented by the call that started the
 * fetch; a refresh-ahead is a root span linked to it).
 */
export declare function instrument(client: InstrumentableClient, options?: InstrumentOptions): Instrumentation;

/** The core's metrics table (schema/metrics.json). */
export declare const METRIC_KINDS: readonly {
  readonly name: string;
  readonly instrument: 'counter' | 'histogram' | 'observable_counter' | 'observable_gauge';
  readonly unit: string;
  readonly description: string;
  readonly attributes: readonly string[];
}[];

/** The names of the metrics this package feeds (the same as METRIC_KINDS'). */
export declare const FED_METRICS: readonly string[];
