package dev.tokenwell

import dev.tokenwell.internal.ffi.CoreClient
import dev.tokenwell.internal.ffi.CoreLease
import dev.tokenwell.internal.ffi.ForeignTransport
import java.net.http.HttpClient
import java.util.concurrent.atomic.LongAdder
import kotlin.coroutines.ContinuationInterceptor
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.withContext

/**
 * Gets and caches the access tokens of one client: the cached token while it is
 * fresh, one shared request for any number of concurrent callers, refreshed
 * ahead in the background. Thread-safe; build one per client and reuse it.
 *
 * Every decision is the Rust core's. This class only memoises the core's own
 * answer: the core hands out a *lease*, a token plus `reuseForMs`, the time
 * during which asking again would return the same token with no side effect.
 * Until then a call is served from the memo without crossing into native code.
 *
 * Holds native resources: [close] it (or use `use {}`) when done.
 *
 * Shares tokens through a store: a [MemoryStore] within this process, or your
 * own [TokenStore] / [BlockingTokenStore] (Memcached, DynamoDB…) across
 * processes. A store's failures are cache misses, never the caller's error.
 */
class TokenClient private constructor(
    private val clock: ManualClock?,
    makeCore: () -> CoreClient,
    private val events: EventBridge? = null,
) : AutoCloseable {
    /**
     * @param clock a [ManualClock] for tests (default: the system clock).
     * @param store a [MemoryStore] shared between clients (default: none).
     */
    @JvmOverloads constructor(config: TokenConfig, clock: ManualClock? = null, store: MemoryStore? = null) :
        this(clock, {
            // Without clock and store, the constructor of one argument: each
            // optional one costs the binding a buffer allocated by the core.
            if (clock == null && store == null) CoreClient.fromConfig(ConfigJson.utf8(config))
            else CoreClient(ConfigJson.utf8(config), clock?.core, store?.core)
        })

    /** A client sharing tokens through your own [store] (see [TokenStore]). */
    @JvmOverloads constructor(config: TokenConfig, store: TokenStore, clock: ManualClock? = null) :
        this(clock, { CoreClient.withForeignStore(ConfigJson.utf8(config), clock?.core, ForeignStoreBridge.of(store)) })

    /** A client sharing tokens through your own blocking [store] (see [BlockingTokenStore]). */
    @JvmOverloads constructor(config: TokenConfig, store: BlockingTokenStore, clock: ManualClock? = null) :
        this(clock, { CoreClient.withForeignStore(ConfigJson.utf8(config), clock?.core, ForeignStoreBridge.of(store)) })

    // The core's log records reach SLF4J (else java.util.logging): see TokenwellLogging.
    init {
        NativePlatform.check() // a clear TokenwellException on a platform the jar has no core for
        TokenwellLogging.install()
    }

    private val core: CoreClient = TokenwellException.translate { makeCore() }
    // Asked of the core when first printed, not at construction (one native round trip per client).
    private val description: String by lazy { core.describe() }

    private val memo = LeaseMemo(clock)

    // Observability (a listener or an observer): the memo's hits, which never reach
    // the core, counted here; null otherwise, so a hit costs one branch.
    private val memoHits: LongAdder? = if (events != null) LongAdder() else null

    /** The client's name in metrics and traces: config `name`, else the provider. */
    val name: String by lazy { core.name() }

    /** The token endpoint's host (spans' `server.address`). */
    internal val serverAddress: String by lazy { core.serverAddress() }

    /**
     * The client's health, without I/O: for readiness probes and health
     * indicators (unhealthy only when [TokenStatus.health] is
     * [TokenHealth.DOWN]); never for liveness. See [TokenStatus].
     */
    fun status(): TokenStatus {
        val s = core.status()
        return TokenStatus(
            TokenHealth.of(s.health), s.healthy, s.tokenUsable, s.tokenExpiresInMs?.toLong(),
            s.lastError?.let { TokenError.of(it) }, s.lastErrorAtUnixMs, s.backoffMs?.toLong(), s.fetching,
            s.storeBreaker, s.storeOpenForMs?.toLong(),
        )
    }

    /** How lookups went (counted only with a listener or an observer; zeros otherwise). */
    fun lookups(): TokenLookups {
        val l = core.lookups()
        return TokenLookups(l.hits.toLong() + (memoHits?.sum() ?: 0L), l.stale.toLong(), l.misses.toLong(), l.dropped.toLong())
    }

    // Last: the observers may read every property above.
    init {
        events?.attach(this)
    }

    /** A valid token: the cached one if fresh, else one shared fetch for all callers. */
    @Throws(TokenwellException::class)
    suspend fun token(): AccessToken = memoised { offCoreThreads { core.lease() } }

    /** [token], blocking the calling thread until the token is there. */
    @Throws(TokenwellException::class)
    fun tokenBlocking(): AccessToken = memoised { core.leaseBlocking() }

    /** The `Authorization` header value for a valid token, e.g. `Bearer eyJ…`. */
    @Throws(TokenwellException::class)
    suspend fun authorizationHeader(): String = token().authorizationHeader

    /** [authorizationHeader], blocking the calling thread. */
    @Throws(TokenwellException::class)
    fun authorizationHeaderBlocking(): String = tokenBlocking().authorizationHeader

    /**
     * Drops the cached token if it is still [token] (say the API answered 401
     * with it); a newer token is kept. Returns whether the core dropped it.
     */
    fun invalidate(token: String): Boolean {
        memo.invalidate() // stop serving it now
        val dropped = core.invalidate(token)
        memo.invalidate() // and void every lease begun before the core dropped it
        return dropped
    }

    /** [invalidate] for an [AccessToken]. */
    fun invalidate(token: AccessToken): Boolean = invalidate(token.accessToken)

    /** Returns once no fetch is in flight and earlier invalidations have left the store (tests, graceful shutdown). */
    suspend fun settle() = offCoreThreads { core.settle() }

    /** [settle], blocking the calling thread. */
    fun settleBlocking() = core.settleBlocking()

    /** Frees the native client. Calls after this fail with [IllegalStateException]. */
    override fun close() {
        events?.detach()
        memo.invalidate()
        core.close()
    }

    /** The provider, token URL and client id; never the secret. */
    override fun toString(): String = "TokenClient(${runCatching { description }.getOrDefault("closed")})"

    /**
     * A call of the core's async API from a coroutine that resumes where it is
     * dispatched. One that would resume in place (no dispatcher, or one that
     * needs no dispatch, as [Dispatchers.Unconfined]) would resume inside the
     * core's wake-up callback and poll the core's future from there, which
     * deadlocks it: such a call runs on [Dispatchers.Default] instead.
     */
    private suspend inline fun <T> offCoreThreads(crossinline call: suspend () -> T): T {
        val context = currentCoroutineContext()
        val dispatcher = context[ContinuationInterceptor]
        val inPlace = dispatcher == null || (dispatcher is CoroutineDispatcher && !dispatcher.isDispatchNeeded(context))
        return if (inPlace) withContext(Dispatchers.Default) { call() } else call()
    }

    /** The memo while it stands, else the core's answer from [ask] (inlined: no lambda on the hit path). */
    private inline fun memoised(ask: () -> CoreLease): AccessToken {
        memo.hit(memo.now())?.let {
            memoHits?.increment()
            return it.token
        }
        val begun = memo.begin()
        val lease = TokenwellException.translate(ask)
        val token = AccessToken(
            lease.accessToken.value, lease.tokenType, lease.expiresAtUnixMs, lease.scope, lease.authorizationHeader.value,
        )
        memo.remember(begun, token, lease.reuseForMs)
        return token
    }

    companion object {
        /** A [TokenClientBuilder]: event listeners, observers (metrics, traces), clock and store. */
        @JvmStatic
        fun builder(config: TokenConfig): TokenClientBuilder = TokenClientBuilder(config, null)

        /**
         * A [TokenClientBuilder] from the config as the core's JSON text (the
         * schema's snake_case keys, as in a config file). The core validates it:
         * an unknown key or a wrong value fails [TokenClientBuilder.build] with
         * [TokenwellException.Config] naming it. Holds the secret: never log it.
         */
        @JvmStatic
        fun builderFromJson(configJson: String): TokenClientBuilder = TokenClientBuilder(null, configJson)

        /**
         * [builderFromJson] for the config as a map of the schema's keys, as a
         * framework binds it: nested maps, lists, strings, numbers, booleans.
         */
        @JvmStatic
        fun builderFromMap(config: Map<String, Any?>): TokenClientBuilder =
            builderFromJson(ConfigJson.write(JvmNetwork.withProxy(config)))

        internal fun build(
            config: TokenConfig?,
            configJson: String?,
            clock: ManualClock?,
            memoryStore: MemoryStore?,
            foreignStore: ForeignStoreBridge?,
            listeners: List<TokenEventListener>,
            observers: List<TokenClientObserver>,
            credentials: CredentialProvider? = null,
            transport: ForeignTransport? = null,
        ): TokenClient {
            val utf8 = { if (config != null) ConfigJson.utf8(config) else ConfigJson.utf8(configJson!!) }
            if (credentials != null || transport != null) {
                val bridge = if (listeners.isEmpty() && observers.isEmpty()) null else EventBridge(listeners, observers)
                val provider = credentials?.let { CredentialProviderBridge(it) }
                return TokenClient(
                    clock,
                    {
                        CoreClient.withCallbacks(
                            utf8(), clock?.core, memoryStore?.core, foreignStore, null, bridge, provider, null, transport, null,
                        )
                    },
                    bridge,
                )
            }
            if (listeners.isEmpty() && observers.isEmpty()) {
                if (foreignStore == null) {
                    if (config != null) return TokenClient(config, clock, memoryStore)
                    return TokenClient(clock, { CoreClient(utf8(), clock?.core, memoryStore?.core) })
                }
                return TokenClient(clock, { CoreClient.withForeignStore(utf8(), clock?.core, foreignStore) })
            }
            val bridge = EventBridge(listeners, observers)
            return TokenClient(
                clock,
                { CoreClient.withListener(utf8(), clock?.core, memoryStore?.core, foreignStore, null, bridge) },
                bridge,
            )
        }
    }
}

/**
 * Builds a [TokenClient] with event listeners and observers (metrics, traces):
 *
 * ```kotlin
 * val tokens = TokenClient.builder(config)
 *     .listener { event -> log.info("tokenwell {}", event) }
 *     .observer(TokenwellOpenTelemetry(openTelemetry))
 *     .build()
 * ```
 */
class TokenClientBuilder internal constructor(private val config: TokenConfig?, private val configJson: String?) {
    private var clock: ManualClock? = null
    private var memoryStore: MemoryStore? = null
    private var foreignStore: ForeignStoreBridge? = null
    private var credentials: CredentialProvider? = null
    private var transport: ForeignTransport? = null
    private val listeners = mutableListOf<TokenEventListener>()
    private val observers = mutableListOf<TokenClientObserver>()

    /** A [ManualClock] for tests (default: the system clock). */
    fun clock(clock: ManualClock) = apply { this.clock = clock }

    /** A [MemoryStore] shared between clients. */
    fun store(store: MemoryStore) = apply { memoryStore = store; foreignStore = null }

    /** Your own store (see [TokenStore]). */
    fun store(store: TokenStore) = apply { foreignStore = ForeignStoreBridge.of(store); memoryStore = null }

    /** Your own blocking store (see [BlockingTokenStore]). */
    fun store(store: BlockingTokenStore) = apply { foreignStore = ForeignStoreBridge.of(store); memoryStore = null }

    /** Receives the client's events (see [TokenEventListener]); may be given several times. */
    fun listener(listener: TokenEventListener) = apply { listeners += listener }

    /** Metrics or traces for the client (OpenTelemetry, Micrometer); may be given several times. */
    fun observer(observer: TokenClientObserver) = apply { observers += observer }

    /**
     * Takes the client secret (or, with `private_key_jwt`, the private key) from
     * [provider] instead of the config (which then has none of `clientSecret`,
     * `clientSecretFile`, `privateKey`, `privateKeyFile`); see [CredentialProvider].
     */
    fun credentialProvider(provider: CredentialProvider) = apply { credentials = provider }

    /**
     * Sends the token requests through the application's own OkHttp client (its
     * proxy, trust store, client certificate, interceptors and pool) instead of
     * the built-in one. It must not follow redirects (a [TokenwellException.Config]
     * here otherwise): `client.newBuilder().followRedirects(false).followSslRedirects(false).build()`
     * shares the rest. Its interceptors see the client secret (the `Authorization`
     * header or the body of the request to the token URL): redact them.
     */
    @Throws(TokenwellException::class)
    fun okHttpClient(client: okhttp3.OkHttpClient) = apply { transport = OkHttpTransport(client) }

    /**
     * Sends the token requests through the application's own `java.net.http.HttpClient`
     * (its proxy selector and SSL context) instead of the built-in
     * one. Its `followRedirects()` must be `NEVER` (the default; a
     * [TokenwellException.Config] here otherwise). Its connect timeout is its own.
     */
    @Throws(TokenwellException::class)
    fun javaHttpClient(client: HttpClient) = apply { transport = JavaHttpTransport(client) }

    /** The client. */
    @Throws(TokenwellException::class)
    fun build(): TokenClient =
        TokenClient.build(config, configJson, clock, memoryStore, foreignStore, listeners.toList(), observers.toList(), credentials, transport)
}

/**
 * The memo protocol of the core's `Lease` doc, as in every binding (Python's
 * `LeaseMemo` and JS's `LeaseMemo` have the same fields and methods).
 *
 * The clock ([now], in ticks of [ticksPerMs]): with a [ManualClock], that very
 * clock (ms); otherwise `System.nanoTime()` (ns), which reads the OS monotonic
 * clock the core's `std::time::Instant` reads (`CLOCK_MONOTONIC` on Linux,
 * `mach_absolute_time` on macOS, `QueryPerformanceCounter` on Windows), so it
 * advances exactly as fast as the core's clock. Integer ticks, no rounding;
 * deadlines compare as `now - deadline < 0`, right across `nanoTime`'s wrap, and
 * the core caps `reuseForMs` at a day (`MAX_REUSE_MS`), so `at + reuse` cannot
 * overflow. [entry] is read without a lock (hot path); [epoch] and [entry] are
 * written under the memo's monitor (slow path only).
 */
private class LeaseMemo(private val clock: ManualClock?) {
    /** A remembered lease: [token] (and its [header]) until [deadline], in [now] ticks. */
    class Entry(val deadline: Long, val token: AccessToken, val header: String)

    /** What [begin] read: the instant reuse counts from, and the epoch then. */
    class Begun(val at: Long, val epoch: Long)

    private val ticksPerMs: Long = if (clock != null) 1L else 1_000_000L

    @Volatile private var epoch = 0L

    @Volatile var entry: Entry? = null
        private set

    /** The memo's clock. */
    fun now(): Long = clock?.nowMs() ?: System.nanoTime()

    /** The entry if it still stands at [now], else null. */
    fun hit(now: Long): Entry? {
        val e = entry
        return if (e != null && now - e.deadline < 0) e else null
    }

    /** Read before asking the core: reuse counts from this instant. */
    fun begin(): Begun = Begun(now(), epoch)

    /** Keeps [token] until `begun.at + reuseForMs`, unless the core said 0 or an [invalidate] came since [begun]. */
    fun remember(begun: Begun, token: AccessToken, reuseForMs: ULong) {
        if (reuseForMs == 0uL) return
        val deadline = begun.at + reuseForMs.toLong() * ticksPerMs
        synchronized(this) {
            if (epoch == begun.epoch) entry = Entry(deadline, token, token.authorizationHeader)
        }
    }

    /** Forgets the entry and voids every lease begun before this call. */
    fun invalidate() {
        synchronized(this) {
            epoch++
            entry = null
        }
    }
}
