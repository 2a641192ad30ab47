package dev.tokenwell

/**
 * Everything needed to get tokens for one client of one platform: the same
 * schema the Rust core and every other binding accept, spelled in camelCase.
 * A `null` (or empty) field is left out, so the core's default applies: no
 * default or policy is decided here.
 *
 * ```kotlin
 * TokenConfig(provider = "deliveroo", environment = "sandbox",
 *             clientId = "my-id", clientSecret = System.getenv("DELIVEROO_SECRET"))
 * ```
 *
 * [toString] never shows [clientSecret].
 */
data class TokenConfig @JvmOverloads constructor(
    /** `deliverect`, `bringg`, `passport`, `deliveroo` or `custom`. */
    val provider: String,
    /** The client id. */
    val clientId: String,
    /** The client secret; never printed. */
    val clientSecret: String,
    /** Preset environment (`staging`/`production`, `sandbox`/`production`). */
    val environment: String? = null,
    /** Preset region (Bringg: `eu`/`us`). */
    val region: String? = null,
    /** Scheme and host (and optional path prefix) replacing the preset's. */
    val baseUrl: String? = null,
    /** The full token URL; overrides everything else. Required for `custom`. */
    val tokenUrl: String? = null,
    /** `audience` body parameter. */
    val audience: String? = null,
    /** `scope` body parameter (space-delimited). */
    val scope: String? = null,
    /** `ttl` body parameter in seconds (Bringg). */
    val ttl: Long? = null,
    /** The `grant_type` value; an empty string leaves the field out. */
    val grantType: String? = null,
    /** Body encoding: `json`, `form` or `multipart`. */
    val encoding: String? = null,
    /** Where credentials go: `body`, `basic` or `both`. */
    val credentials: String? = null,
    /** Body field names, for platforms that spell them differently. */
    val fieldNames: FieldNames? = null,
    /** Further static body parameters (strings, numbers, booleans). */
    val extraParams: Map<String, Any> = emptyMap(),
    /** Extra request headers. */
    val headers: Map<String, String> = emptyMap(),
    /** Where the response carries the token and its expiry. */
    val response: ResponseMapping? = null,
    /** Expiry, refresh and backoff policy (the core's defaults when null). */
    val policy: Policy? = null,
    /** Transport timeouts. */
    val http: HttpOptions? = null,
) {
    /** Body field names; each defaults to the RFC 6749 spelling. */
    data class FieldNames @JvmOverloads constructor(
        val clientId: String? = null,
        val clientSecret: String? = null,
        val grantType: String? = null,
        val audience: String? = null,
        val scope: String? = null,
        val ttl: String? = null,
    )

    /** Dotted paths into the JSON response; each defaults to the RFC 6749 name. */
    data class ResponseMapping @JvmOverloads constructor(
        val accessToken: String? = null,
        val tokenType: String? = null,
        val scope: String? = null,
        val expiresIn: String? = null,
        val expiresAt: String? = null,
        val createdAt: String? = null,
        val success: SuccessCheck? = null,
    )

    /** The response is a success only if the value at [path] equals [equals]. */
    data class SuccessCheck(val path: String, val equals: Any?)

    /** When a token is reused, refreshed ahead or given up on (null = the core's default). */
    data class Policy @JvmOverloads constructor(
        val refreshRatio: Double? = null,
        val skewRatio: Double? = null,
        val maxSkewSecs: Long? = null,
        val defaultLifetimeSecs: Long? = null,
        val backoffInitialMs: Long? = null,
        val backoffMaxMs: Long? = null,
    )

    /** Transport timeouts (null = the core's default). */
    data class HttpOptions @JvmOverloads constructor(
        val connectTimeoutMs: Long? = null,
        val timeoutMs: Long? = null,
    )

    /** The config without the secret. */
    override fun toString(): String = buildString {
        append("TokenConfig(provider=").append(provider)
        environment?.let { append(", environment=").append(it) }
        region?.let { append(", region=").append(it) }
        baseUrl?.let { append(", baseUrl=").append(it) }
        tokenUrl?.let { append(", tokenUrl=").append(it) }
        append(", clientId=").append(clientId)
        append(", clientSecret=[redacted])")
    }

    /** The core's JSON schema (snake_case keys). Holds the secret: never log it. */
    internal fun toJson(): String = Json.write(toMap())

    internal fun toMap(): Map<String, Any?> = linkedMapOf(
        "provider" to provider,
        "environment" to environment,
        "region" to region,
        "base_url" to baseUrl,
        "token_url" to tokenUrl,
        "client_id" to clientId,
        "client_secret" to clientSecret,
        "audience" to audience,
        "scope" to scope,
        "ttl" to ttl,
        "grant_type" to grantType,
        "encoding" to encoding,
        "credentials" to credentials,
        "field_names" to fieldNames?.let {
            linkedMapOf(
                "client_id" to it.clientId,
                "client_secret" to it.clientSecret,
                "grant_type" to it.grantType,
                "audience" to it.audience,
                "scope" to it.scope,
                "ttl" to it.ttl,
            )
        },
        "extra_params" to extraParams.ifEmpty { null },
        "headers" to headers.ifEmpty { null },
        "response" to response?.let {
            linkedMapOf(
                "access_token" to it.accessToken,
                "token_type" to it.tokenType,
                "scope" to it.scope,
                "expires_in" to it.expiresIn,
                "expires_at" to it.expiresAt,
                "created_at" to it.createdAt,
                "success" to it.success?.let { s -> linkedMapOf("path" to s.path, "equals" to Json.Literal(s.equals)) },
            )
        },
        "policy" to policy?.let {
            linkedMapOf(
                "refresh_ratio" to it.refreshRatio,
                "skew_ratio" to it.skewRatio,
                "max_skew_secs" to it.maxSkewSecs,
                "default_lifetime_secs" to it.defaultLifetimeSecs,
                "backoff_initial_ms" to it.backoffInitialMs,
                "backoff_max_ms" to it.backoffMaxMs,
            )
        },
        "http" to http?.let { linkedMapOf("connect_timeout_ms" to it.connectTimeoutMs, "timeout_ms" to it.timeoutMs) },
    )
}

/** A minimal JSON writer for the config (no dependency for one object). */
internal object Json {
    /** A value written as is, `null` included (a null map entry is otherwise left out). */
    class Literal(val value: Any?)

    fun write(value: Any?): String = StringBuilder().also { write(it, value) }.toString()

    private fun write(out: StringBuilder, value: Any?) {
        when (value) {
            null -> out.append("null")
            is Literal -> write(out, value.value)
            is String -> string(out, value)
            is Boolean -> out.append(value)
            is Double -> { require(value.isFinite()) { "JSON numbers must be finite" }; out.append(value) }
            is Float -> { require(value.isFinite()) { "JSON numbers must be finite" }; out.append(value) }
            is Number -> out.append(value)
            is Map<*, *> -> {
                out.append('{')
                var first = true
                for ((k, v) in value) {
                    if (v == null) continue
                    if (!first) out.append(',')
                    first = false
                    string(out, k.toString())
                    out.append(':')
                    write(out, v)
                }
                out.append('}')
            }
            is Iterable<*> -> {
                out.append('[')
                value.forEachIndexed { i, v -> if (i > 0) out.append(','); write(out, v) }
                out.append(']')
            }
            else -> throw IllegalArgumentException("cannot write a ${value::class.java.name} as JSON")
        }
    }

    private fun string(out: StringBuilder, s: String) {
        out.append('"')
        for (c in s) {
            when (c) {
                '"' -> out.append("\\\"")
                '\\' -> out.append("\\\\")
                '\n' -> out.append("\\n")
                '\r' -> out.append("\\r")
                '\t' -> out.append("\\t")
                else -> if (c < ' ') out.append(String.format("\\u%04x", c.code)) else out.append(c)
            }
        }
        out.append('"')
    }
}
