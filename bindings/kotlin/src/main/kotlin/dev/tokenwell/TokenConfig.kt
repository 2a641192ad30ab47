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
 * [toString] never shows [clientSecret] nor [privateKey].
 *
 * A signed client assertion replaces the secret with `credentials = "private_key_jwt"`
 * and [privateKey] (PKCS#8 PEM text) or [privateKeyFile], or with
 * `credentials = "client_secret_jwt"` (HS256 keyed by [clientSecret]).
 */
data class TokenConfig @JvmOverloads constructor(
    /** `deliverect`, `bringg`, `passport`, `deliveroo`, `uber`, `stuart`, `toast`, `doordash` or `custom`. */
    val provider: String,
    /** The client id (empty with `doordash`, which has [developerId] instead). */
    val clientId: String = "",
    /**
     * The client secret; never printed. Null when [clientSecretFile] or a
     * [CredentialProvider] ([TokenClientBuilder.credentialProvider]) gives it.
     */
    val clientSecret: String? = null,
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
    /**
     * How the client authenticates: `body` (alias `client_secret_post`), `basic`
     * (alias `client_secret_basic`), `both`, or a signed client assertion:
     * `client_secret_jwt` (HS256) or `private_key_jwt` (RS256, PS256, ES256); or
     * mutual TLS (RFC 8705): `tls_client_auth` or `self_signed_tls_client_auth`
     * with [HttpOptions.clientCertFile] and [HttpOptions.clientKeyFile].
     */
    val credentials: String? = null,
    /** How HTTP Basic credentials are written: `form` (RFC 6749, the default) or `raw`. */
    val basicEncoding: String? = null,
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
    /** Transport timeouts, in ms, each 1 to 2147483647 (null: the core's default). */
    val http: HttpOptions? = null,
    /** A store shared by a fleet of processes: one token for all of them. */
    val store: StoreOptions? = null,
    /** The client's name in metrics and traces (the `client` attribute; null: the provider). */
    val name: String? = null,
    /**
     * The authorization server's issuer (`https://host/realms/acme`): the token endpoint is
     * read from its metadata. Replaces [tokenUrl] and [baseUrl].
     */
    val issuer: String? = null,
    /** How long the issuer's metadata is reused, in seconds (null: a day). */
    val discoveryTtlSecs: Long? = null,
    /** `private_key_jwt`: the PKCS#8 PEM private key (`BEGIN PRIVATE KEY`); never printed. */
    val privateKey: String? = null,
    /** `private_key_jwt`: the path of a PKCS#8 PEM private key file. */
    val privateKeyFile: String? = null,
    /** The path of the key's PEM certificate: its SHA-256 thumbprint is the `x5t#S256` header (Entra ID). */
    val certificateFile: String? = null,
    /** The assertion's `kid` header. */
    val keyId: String? = null,
    /** The client assertion's algorithm, audience and lifetime (null = the core's defaults). */
    val assertion: Assertion? = null,
    /**
     * A file holding the client secret (one trailing newline is not part of
     * it), re-read when it changes (a Kubernetes secret volume): at most one
     * `stat` per token fetch, none on a cache hit. Not with [clientSecret].
     */
    val clientSecretFile: String? = null,
    /** `doordash`: the developer id (the JWT's `iss`); its key id is [keyId]. */
    val developerId: String? = null,
    /**
     * `doordash`: the signing secret as DoorDash shows it (base64url); never printed.
     * The client mints its own JWT with it, lifetime [Assertion.lifetimeSecs] (60 to 1800).
     */
    val signingSecret: String? = null,
) {
    /**
     * A client assertion: [algorithm] `RS256`, `PS256`, `ES256` or `HS256` (default
     * from the key), [audience] `token_endpoint` (default), `issuer` or a URL,
     * [lifetimeSecs] 1 to 300 (default 60).
     */
    data class Assertion @JvmOverloads constructor(
        val algorithm: String? = null,
        val audience: String? = null,
        val lifetimeSecs: Long? = null,
    )

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
        /** Draws each process's refresh point up to this fraction early (default 0.1 with a shared store). */
        val refreshJitterRatio: Double? = null,
        /** Refresh ahead only within this many seconds of the expiry (Toast's preset: 60). */
        val refreshWindowSecs: Long? = null,
        /**
         * The request budget: at most this many token requests in any sliding hour
         * (fleet-wide with a shared store, else per client). Default: the preset's
         * documented limit, if any.
         */
        val maxRequestsPerHour: Int? = null,
    )

    /**
     * A Redis or Valkey server shared by every process with the same
     * credentials. [redisUrl] (`redis://` or `rediss://`) may carry a password:
     * [toString] never shows it. With [clusterNodes] (a Redis Cluster, as
     * `host:port`) or [sentinel], [redisUrl] gives the data nodes' user,
     * password and TLS.
     */
    data class StoreOptions @JvmOverloads constructor(
        val redisUrl: String? = null,
        val keyPrefix: String? = null,
        val timeoutMs: Long? = null,
        val caFile: String? = null,
        val lockWaitMs: Long? = null,
        val clusterNodes: List<String>? = null,
        val sentinel: Sentinel? = null,
    ) {
        override fun toString(): String =
            "StoreOptions(redisUrl=${redisUrl?.let { "[redacted]" }}, keyPrefix=$keyPrefix, timeoutMs=$timeoutMs, " +
                "caFile=$caFile, lockWaitMs=$lockWaitMs, clusterNodes=$clusterNodes, sentinel=$sentinel)"
    }

    /** The sentinels (`host:port`) to ask for the primary monitored as [service]. */
    data class Sentinel(val nodes: List<String>, val service: String)

    /**
     * Transport timeouts, proxy, CAs and client certificate (null = the core's
     * default). [proxy] (`http://user:password@proxy.internal:3128`) may carry a
     * password: never printed. Without it, the JVM's `https.proxyHost`,
     * `https.proxyPort` and `http.nonProxyHosts` system properties give the
     * proxy (then the `HTTPS_PROXY` / `NO_PROXY` environment variables).
     * [caFile] (PEM) adds CAs to the system's roots ([caOnly]: replaces them);
     * [clientCertFile] and [clientKeyFile] (PEM) are the mutual TLS identity.
     */
    data class HttpOptions @JvmOverloads constructor(
        val connectTimeoutMs: Long? = null,
        val timeoutMs: Long? = null,
        val proxy: String? = null,
        val noProxy: String? = null,
        val caFile: String? = null,
        val caOnly: Boolean? = null,
        val clientCertFile: String? = null,
        val clientKeyFile: String? = null,
    ) {
        /** Without the proxy URL (it may carry a password). */
        override fun toString(): String =
            "HttpOptions(connectTimeoutMs=$connectTimeoutMs, timeoutMs=$timeoutMs, " +
                "proxy=${proxy?.let { "[redacted]" }}, noProxy=$noProxy, caFile=$caFile, caOnly=$caOnly, " +
                "clientCertFile=$clientCertFile, clientKeyFile=$clientKeyFile)"
    }

    /** The config without the secret. */
    override fun toString(): String = buildString {
        append("TokenConfig(provider=").append(provider)
        environment?.let { append(", environment=").append(it) }
        region?.let { append(", region=").append(it) }
        baseUrl?.let { append(", baseUrl=").append(shownUrl(it)) }
        tokenUrl?.let { append(", tokenUrl=").append(shownUrl(it)) }
        issuer?.let { append(", issuer=").append(shownUrl(it)) }
        append(", clientId=").append(clientId)
        credentials?.let { append(", credentials=").append(it) }
        privateKey?.let { append(", privateKey=[redacted]") }
        privateKeyFile?.let { append(", privateKeyFile=").append(it) }
        keyId?.let { append(", keyId=").append(it) }
        developerId?.let { append(", developerId=").append(it) }
        signingSecret?.let { append(", signingSecret=[redacted]") }
        append(", clientSecret=[redacted])")
    }

    /**
     * A URL as the core shows one (`TokenClient.toString`, logs, errors): its
     * query's values and its fragment as `[redacted]`, the names kept. A
     * token URL may carry credentials in its query.
     */
    private fun shownUrl(url: String): String {
        val rest = url.substringBefore('#')
        val query = rest.substringAfter('?', missingDelimiterValue = "")
        val shown = if (rest.contains('?')) {
            rest.substringBefore('?') + "?" + query.split('&').joinToString("&") { part ->
                when {
                    part.contains('=') -> part.substringBefore('=') + "=[redacted]"
                    part.isEmpty() -> ""
                    else -> "[redacted]"
                }
            }
        } else {
            rest
        }
        return if (url.contains('#')) "$shown#[redacted]" else shown
    }

    /**
     * The core's JSON: snake_case keys, nulls left out so the core's defaults
     * apply. Written field by field (ConfigJson), not by Jackson: its
     * ObjectMapper alone cost more than the rest of a cold first token.
     * ConfigSchemaTest holds every key to the schema and the text to Jackson's.
     * Holds the secret: never log it.
     */
    internal fun toJson(): String = ConfigJson.write(this)
}
