// tokenwell's events, status, OpenTelemetry metrics and spans, printed to the console.
//
//   npm install tokenwell @opentelemetry/api @opentelemetry/sdk-metrics @opentelemetry/sdk-trace-base
//   TOKEN_URL=https://auth.example.com/oauth/token CLIENT_ID=… CLIENT_SECRET=… node otel-console.mjs
import { MeterProvider, PeriodicExportingMetricReader, ConsoleMetricExporter } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor, ConsoleSpanExporter } from '@opentelemetry/sdk-trace-base';
import { TokenClient } from 'tokenwell';
import { instrument } from 'tokenwell/otel';

const reader = new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis: 60_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] });

const client = new TokenClient({
  provider: 'custom',
  name: 'example-api',
  tokenUrl: process.env.TOKEN_URL,
  clientId: process.env.CLIENT_ID,
  clientSecret: process.env.CLIENT_SECRET,
  onEvent: (event) => console.log('tokenwell event', event),
});
instrument(client, { meterProvider, tracerProvider });

for (let i = 0; i < 100; i++) await client.authorizationHeader(); // one fetch, 99 hits
console.log('status', client.status());

await meterProvider.forceFlush(); // prints the metrics
await meterProvider.shutdown();
await tracerProvider.shutdown();
