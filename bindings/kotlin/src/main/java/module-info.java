/**
 * tokenwell: OAuth 2.0 client-credentials tokens, fetched once and cached right.
 *
 * <p>The API is {@code dev.tokenwell} and its integration packages; the generated
 * bindings in {@code dev.tokenwell.internal.ffi} are not exported, only opened to
 * JNA, which reads their structures and callbacks by reflection. OkHttp, Ktor,
 * Micrometer, OpenTelemetry and SLF4J are optional: an application that uses an
 * integration requires its library itself.
 */
module dev.tokenwell {
    requires transitive kotlin.stdlib;
    requires transitive kotlinx.coroutines.core;
    requires transitive java.net.http;
    requires java.logging;
    requires com.sun.jna;

    requires static okhttp3;
    requires static io.ktor.client.core;
    requires static io.ktor.http;
    requires static io.ktor.utils;
    requires static micrometer.core;
    requires static io.opentelemetry.api;
    requires static io.opentelemetry.context;
    requires static org.slf4j;

    exports dev.tokenwell;
    exports dev.tokenwell.ktor;
    exports dev.tokenwell.micrometer;
    exports dev.tokenwell.otel;

    opens dev.tokenwell.internal.ffi to com.sun.jna;
}
