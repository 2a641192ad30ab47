package dev.tokenwell.examples

import dev.tokenwell.TokenClient
import dev.tokenwell.TokenConfig
import dev.tokenwell.otel.TokenwellOpenTelemetry
import io.opentelemetry.exporter.logging.LoggingMetricExporter
import io.opentelemetry.exporter.logging.LoggingSpanExporter
import io.opentelemetry.sdk.OpenTelemetrySdk
import io.opentelemetry.sdk.metrics.SdkMeterProvider
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader
import io.opentelemetry.sdk.trace.SdkTracerProvider
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor
import java.util.concurrent.TimeUnit

/**
 * tokenwell's events, metrics, spans and status on the console: an event
 * listener, OpenTelemetry's logging exporters, and `status()`.
 *
 * Run with the token endpoint's base URL (default: Deliveroo's sandbox) and
 * TOKENWELL_CLIENT_ID / TOKENWELL_CLIENT_SECRET in the environment. Needs
 * io.opentelemetry:opentelemetry-sdk and opentelemetry-exporter-logging.
 */
fun main(args: Array<String>) {
    val sdk = OpenTelemetrySdk.builder()
        .setMeterProvider(
            SdkMeterProvider.builder().registerMetricReader(PeriodicMetricReader.create(LoggingMetricExporter.create())).build(),
        )
        .setTracerProvider(
            SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(LoggingSpanExporter.create())).build(),
        )
        .build()
    val config = TokenConfig(
        provider = "deliveroo",
        environment = "sandbox",
        baseUrl = args.firstOrNull(),
        clientId = System.getenv("TOKENWELL_CLIENT_ID") ?: "example-client",
        clientSecret = System.getenv("TOKENWELL_CLIENT_SECRET") ?: "example-secret",
        name = "orders",
    )
    TokenClient.builder(config)
        .listener { event -> println("tokenwell event: $event") }
        .observer(TokenwellOpenTelemetry(sdk))
        .build()
        .use { tokens ->
            repeat(100) { tokens.authorizationHeaderBlocking() }
            println("tokenwell status: ${tokens.status()}")
            Thread.sleep(200) // the events thread delivers the last events
            sdk.sdkMeterProvider.forceFlush().join(10, TimeUnit.SECONDS)
        }
    sdk.close()
}
