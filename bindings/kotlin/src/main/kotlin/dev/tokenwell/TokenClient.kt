package dev.tokenwell

import dev.tokenwell.ffi.CoreClient
import dev.tokenwell.ffi.CoreLease
import java.util.concurrent.atomic.AtomicReference

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
 * @param clock a [ManualClock] for tests (default: the system clock).
 * @param store a [MemoryStore] shared between clients (default: none).
 */
class TokenClient @JvmOverloads constructor(
    config: TokenConfig,
    private val clock: ManualClock? = null,
    store: MemoryStore? = null,
) : AutoCloseable {
    private val core: CoreClient =
        TokenwellException.translate { CoreClient(config.toJson(), clock?.core, store?.core) }
    private val description: String = core.describe()

    /** The core's last lease and the instant (in [now] ticks) until which it stands. */
    private class Memo(val token: AccessToken?, val deadline: Long)

    private val memo = AtomicReference(EMPTY)

    /** A valid token: the cached one if fresh, else one shared fetch for all callers. */
    @Throws(TokenwellException::class)
    suspend fun token(): AccessToken = memoised { core.lease() }

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
        // A fresh holder (never the shared EMPTY): a lease asked for before this
        // call then fails its compare-and-set and is not memoised.
        memo.set(Memo(null, 0))
        return core.invalidate(token)
    }

    /** [invalidate] for an [AccessToken]. */
    fun invalidate(token: AccessToken): Boolean = invalidate(token.accessToken)

    /** Returns once no fetch is in flight (tests, graceful shutdown). */
    suspend fun settle() = core.settle()

    /** [settle], blocking the calling thread. */
    fun settleBlocking() = core.settleBlocking()

    /** Frees the native client. Calls after this fail with [IllegalStateException]. */
    override fun close() {
        memo.set(Memo(null, 0))
        core.close()
    }

    /** The provider, token URL and client id; never the secret. */
    override fun toString(): String = "TokenClient($description)"

    /** Monotonic ticks: the manual clock's ms, or System.nanoTime(). */
    private fun now(): Long = clock?.nowMs() ?: System.nanoTime()

    /** The memo while it stands, else the core's answer from [ask] (inlined: no lambda on the hit path). */
    private inline fun memoised(ask: () -> CoreLease): AccessToken {
        val seen = memo.get()
        val now = now()
        if (seen.token != null && now - seen.deadline < 0) return seen.token
        return remember(seen, now, TokenwellException.translate(ask))
    }

    /**
     * Keeps the core's lease until `before + reuseForMs`, `before` being read
     * before the core was asked (so the memo never outlives the core's answer).
     * Only if nothing changed meanwhile: an [invalidate] (or another caller's
     * newer lease) since [seen] wins, and this answer is not memoised.
     */
    private fun remember(seen: Memo, before: Long, lease: CoreLease): AccessToken {
        val token = AccessToken(
            lease.accessToken.value, lease.tokenType, lease.expiresAtUnixMs, lease.scope, lease.authorizationHeader.value,
        )
        val reuseMs = lease.reuseForMs
        if (reuseMs > 0uL) {
            val ticksPerMs = if (clock != null) 1L else 1_000_000L
            val reuse = minOf(reuseMs, MAX_REUSE_MS.toULong()).toLong() * ticksPerMs
            memo.compareAndSet(seen, Memo(token, before + reuse))
        }
        return token
    }

    private companion object {
        val EMPTY = Memo(null, 0)

        /** About 100 days: keeps `nanoTime + reuse` far from overflow. */
        const val MAX_REUSE_MS: Long = 100L * 24 * 3600 * 1000
    }
}
