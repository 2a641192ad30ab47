package dev.tokenwell

import java.nio.Buffer
import java.nio.ByteBuffer
import java.nio.CharBuffer

/**
 * [TokenConfig] as the core's JSON, written by hand. On a cold JVM, Jackson's
 * ObjectMapper loaded some 500 classes and took longer than loading the native
 * core; this is the same text from a StringBuilder. ConfigSchemaTest
 * checks each key against the core's schema and the output against Jackson's.
 */
internal object ConfigJson {
    /**
     * [write]'s text as UTF-8 in a direct buffer: what every `CoreClient`
     * constructor borrows for the call. A string argument would cost the binding
     * a second native call (a buffer allocated by the core, returned by value),
     * on a cold JVM most of a client's creation.
     */
    fun utf8(c: TokenConfig): ByteBuffer =
        direct(write(c).toByteArray(Charsets.UTF_8)) // lossless: write() leaves no lone surrogate

    /**
     * JSON text as UTF-8 in a direct buffer (tests, benchmarks). Strict: a lone
     * surrogate throws [java.nio.charset.CharacterCodingException], where
     * `toByteArray` would send a `?` in its place.
     */
    fun utf8(json: String): ByteBuffer {
        val encoded = Charsets.UTF_8.newEncoder().encode(CharBuffer.wrap(json))
        return direct(ByteArray(encoded.remaining()).also { encoded.get(it) })
    }

    private fun direct(bytes: ByteArray): ByteBuffer {
        val buffer = ByteBuffer.allocateDirect(bytes.size).put(bytes)
        (buffer as Buffer).flip()
        return buffer
    }

    fun write(c: TokenConfig): String = buildString(256) {
        obj {
            put("provider", c.provider)
            put("name", c.name)
            put("client_id", c.clientId)
            put("client_secret", c.clientSecret)
            put("client_secret_file", c.clientSecretFile)
            put("environment", c.environment)
            put("region", c.region)
            put("base_url", c.baseUrl)
            put("token_url", c.tokenUrl)
            put("issuer", c.issuer)
            put("discovery_ttl_secs", c.discoveryTtlSecs)
            put("audience", c.audience)
            put("scope", c.scope)
            put("ttl", c.ttl)
            put("grant_type", c.grantType)
            put("encoding", c.encoding)
            put("credentials", c.credentials)
            put("basic_encoding", c.basicEncoding)
            put("private_key", c.privateKey)
            put("private_key_file", c.privateKeyFile)
            put("certificate_file", c.certificateFile)
            put("key_id", c.keyId)
            put("developer_id", c.developerId)
            put("signing_secret", c.signingSecret)
            c.assertion?.let { a ->
                obj("assertion") {
                    put("algorithm", a.algorithm)
                    put("audience", a.audience)
                    put("lifetime_secs", a.lifetimeSecs)
                }
            }
            c.fieldNames?.let { f ->
                obj("field_names") {
                    put("client_id", f.clientId)
                    put("client_secret", f.clientSecret)
                    put("grant_type", f.grantType)
                    put("audience", f.audience)
                    put("scope", f.scope)
                    put("ttl", f.ttl)
                }
            }
            put("extra_params", c.extraParams)
            put("headers", c.headers)
            c.response?.let { r ->
                obj("response") {
                    put("access_token", r.accessToken)
                    put("token_type", r.tokenType)
                    put("scope", r.scope)
                    put("expires_in", r.expiresIn)
                    put("expires_at", r.expiresAt)
                    put("created_at", r.createdAt)
                    r.success?.let { s ->
                        obj("success") {
                            put("path", s.path)
                            put("equals", s.equals)
                        }
                    }
                }
            }
            c.policy?.let { p ->
                obj("policy") {
                    put("refresh_ratio", p.refreshRatio)
                    put("skew_ratio", p.skewRatio)
                    put("max_skew_secs", p.maxSkewSecs)
                    put("default_lifetime_secs", p.defaultLifetimeSecs)
                    put("backoff_initial_ms", p.backoffInitialMs)
                    put("backoff_max_ms", p.backoffMaxMs)
                    put("refresh_jitter_ratio", p.refreshJitterRatio)
                    put("refresh_window_secs", p.refreshWindowSecs)
                    put("max_requests_per_hour", p.maxRequestsPerHour)
                }
            }
            val h = c.http
            // The JVM's proxy properties stand in for a proxy the config does not set.
            val jvm = if (h?.proxy == null) JvmNetwork.proxy() else null
            if (h != null || jvm != null) {
                obj("http") {
                    put("connect_timeout_ms", h?.connectTimeoutMs)
                    put("timeout_ms", h?.timeoutMs)
                    put("proxy", h?.proxy ?: jvm?.url)
                    put("no_proxy", h?.noProxy ?: jvm?.noProxy)
                    put("ca_file", h?.caFile)
                    put("ca_only", h?.caOnly)
                    put("client_cert_file", h?.clientCertFile)
                    put("client_key_file", h?.clientKeyFile)
                }
            }
            c.store?.let { s ->
                obj("store") {
                    put("redis_url", s.redisUrl)
                    put("key_prefix", s.keyPrefix)
                    put("timeout_ms", s.timeoutMs)
                    put("ca_file", s.caFile)
                    put("lock_wait_ms", s.lockWaitMs)
                    put("cluster_nodes", s.clusterNodes)
                    s.sentinel?.let { sentinel ->
                        obj("sentinel") {
                            put("nodes", sentinel.nodes)
                            put("service", sentinel.service)
                        }
                    }
                }
            }
        }
    }

    /** The members of one JSON object; a null value leaves its key out. */
    class Members(private val out: StringBuilder) {
        private var first = true

        /** [name] is one of the schema's snake_case keys above: nothing to escape. */
        private fun key(name: String) {
            if (!first) out.append(',')
            first = false
            out.append('"').append(name).append("\":")
        }

        fun put(name: String, value: Any?) {
            if (value == null) return
            key(name)
            value(out, value)
        }

        fun obj(name: String, body: Members.() -> Unit) {
            key(name)
            out.obj(body)
        }
    }

    private inline fun StringBuilder.obj(body: Members.() -> Unit) {
        append('{')
        Members(this).body()
        append('}')
    }

    /** A config given as a map (see [TokenClient.builderFromMap]) as JSON text. */
    fun write(config: Map<String, Any?>): String = buildString(256) { value(this, config) }

    /** The values [TokenConfig.extraParams] and [TokenConfig.SuccessCheck.equals] may hold. */
    private fun value(out: StringBuilder, v: Any?) {
        when (v) {
            null -> out.append("null")
            is String -> string(out, v)
            is Boolean, is Int, is Long, is Short, is Byte -> out.append(v)
            // Jackson's spelling: a non-finite double as a string, which the core refuses.
            is Double -> if (v.isFinite()) out.append(v) else string(out, v.toString())
            is Float -> if (v.isFinite()) out.append(v) else string(out, v.toString())
            is Number -> out.append(v.toString()) // BigDecimal, BigInteger
            is Map<*, *> -> {
                out.append('{')
                var first = true
                for ((k, x) in v) {
                    if (!first) out.append(',')
                    first = false
                    string(out, k.toString())
                    out.append(':')
                    value(out, x)
                }
                out.append('}')
            }
            is Iterable<*> -> list(out, v)
            is Array<*> -> list(out, v.asIterable())
            else -> throw IllegalArgumentException(
                "a TokenConfig value must be a string, number, boolean, list or map, not ${v.javaClass.name}",
            )
        }
    }

    private fun list(out: StringBuilder, items: Iterable<*>) {
        out.append('[')
        items.forEachIndexed { i, x ->
            if (i > 0) out.append(',')
            value(out, x)
        }
        out.append(']')
    }

    /**
     * A JSON string: quotes, backslashes and control characters escaped (RFC 8259 §7),
     * and a lone surrogate as its `\uXXXX` escape, which the core refuses as a config
     * error: the text itself stays valid UTF-16, so [utf8] encodes it losslessly.
     */
    private fun string(out: StringBuilder, s: String) {
        out.append('"')
        if (plain(s)) out.append(s) else escaped(out, s)
        out.append('"')
    }

    /** Whether [s] goes into a JSON string as it is (the common case: one copy, not one append a character). */
    private fun plain(s: String): Boolean {
        for (ch in s) if (ch < ' ' || ch == '"' || ch == '\\' || ch.isSurrogate()) return false
        return true
    }

    private fun escaped(out: StringBuilder, s: String) {
        for (i in s.indices) {
            val ch = s[i]
            when {
                ch == '"' -> out.append("\\\"")
                ch == '\\' -> out.append("\\\\")
                ch == '\n' -> out.append("\\n")
                ch == '\r' -> out.append("\\r")
                ch == '\t' -> out.append("\\t")
                ch < ' ' -> out.append("\\u00").append(HEX[ch.code shr 4]).append(HEX[ch.code and 15])
                ch.isSurrogate() && !paired(s, i) -> {
                    out.append("\\u")
                    for (shift in 12 downTo 0 step 4) out.append(HEX[(ch.code shr shift) and 15])
                }
                else -> out.append(ch)
            }
        }
    }

    /** Whether the surrogate at [i] is half of a pair. */
    private fun paired(s: String, i: Int): Boolean =
        if (s[i].isHighSurrogate()) i + 1 < s.length && s[i + 1].isLowSurrogate()
        else i > 0 && s[i - 1].isHighSurrogate()

    private const val HEX = "0123456789abcdef"
}
