package dev.tokenwell

import dev.tokenwell.internal.ffi.ForeignStore
import dev.tokenwell.internal.ffi.ForeignStoreException
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout

/**
 * Your own shared store (Memcached, DynamoDB, a database…): clients built with
 * it share one token across threads, processes and hosts. Pass it to
 * [TokenClient]; every decision stays in the Rust core, the store only keeps
 * what it is given.
 *
 * What a store sees: keys such as `tokenwell:{<64 hex digits>}:t` (the
 * configured [TokenConfig.StoreOptions.keyPrefix], then a SHA-256 that reveals
 * none of its inputs) and records sealed by the core (AES-GCM, keyed from the
 * client secret): never the token, never the secret.
 *
 * How calls run: the core calls the store from its own pool of threads (32 per
 * process, at most 16 calls in flight per client's store: past that a call is a
 * miss at once) and waits at most [TokenConfig.StoreOptions.timeoutMs] (default
 * 300 ms) for each call;
 * a call that is late or throws (anything) is a cache miss, logged as a warning
 * naming the exception's class, never the caller's error. Blocking inside these
 * functions is fine: they never run on your dispatchers.
 *
 * Without a lock (implement [LockingTokenStore] for one), clients sharing the
 * store still share tokens, and each client makes one request at a time on a
 * cold cache. Java, or blocking clients: [BlockingTokenStore].
 */
interface TokenStore {
    /** The record under [key], or null (missing or expired). */
    suspend fun get(key: String): String?

    /** Stores [record] under [key] for [ttlMs] ms, overwriting (round up if your store counts seconds). */
    suspend fun put(key: String, record: String, ttlMs: Long)

    /**
     * Deletes [key] if it still holds exactly [record] (after a 401 the core
     * discards the token it used, never a newer one). Get-compare-delete is fine
     * for most stores; use a conditional delete where there is one.
     */
    suspend fun removeIf(key: String, record: String)
}

/** A [TokenStore] with a lock: a cold fleet then makes one token request in all. */
interface LockingTokenStore : TokenStore {
    /**
     * Takes [lock] for [owner] for [ttlMs] ms if nobody holds it; whether it did.
     * Must be atomic (set-if-absent: Memcached `add`, a DynamoDB conditional put).
     */
    suspend fun tryLock(lock: String, owner: String, ttlMs: Long): Boolean

    /** Releases [lock] if [owner] still holds it (it also expires by itself). */
    suspend fun unlock(lock: String, owner: String)
}

/** [TokenStore] with plain blocking functions (Java, blocking clients). */
interface BlockingTokenStore {
    /** See [TokenStore.get]. */
    fun get(key: String): String?

    /** See [TokenStore.put]. */
    fun put(key: String, record: String, ttlMs: Long)

    /** See [TokenStore.removeIf]. */
    fun removeIf(key: String, record: String)
}

/** [LockingTokenStore] with plain blocking functions. */
interface BlockingLockingTokenStore : BlockingTokenStore {
    /** See [LockingTokenStore.tryLock]. */
    fun tryLock(lock: String, owner: String, ttlMs: Long): Boolean

    /** See [LockingTokenStore.unlock]. */
    fun unlock(lock: String, owner: String)
}

/**
 * The core's view of a user store (uniffi's generated [ForeignStore]). Called
 * on the core's own-store threads; anything thrown becomes a store failure that
 * names the exception's class only (its message could hold the store's own
 * connection details).
 */
internal class ForeignStoreBridge private constructor(
    private val kind: String,
    private val locking: Boolean,
    private val doGet: (String) -> String?,
    private val doPut: (String, String, Long) -> Unit,
    private val doRemoveIf: (String, String) -> Unit,
    private val doTryLock: (String, String, Long) -> Boolean,
    private val doUnlock: (String, String) -> Unit,
) : ForeignStore {
    override fun get(key: String): String? = guard("get") { doGet(key) }

    override fun put(key: String, record: String, ttlMs: ULong) = guard("put") { doPut(key, record, ttlMs.toMillis()) }

    override fun removeIf(key: String, record: String) = guard("removeIf") { doRemoveIf(key, record) }

    override fun hasLock(): Boolean = locking

    override fun tryLock(lock: String, owner: String, ttlMs: ULong): Boolean =
        guard("tryLock") { doTryLock(lock, owner, ttlMs.toMillis()) }

    override fun unlock(lock: String, owner: String) = guard("unlock") { doUnlock(lock, owner) }

    override fun toString(): String = "ForeignStoreBridge($kind, lock=$locking)"

    companion object {
        /**
         * How long a suspend store's call may run before it is cancelled. The core
         * stops waiting far sooner (its time-box); this only frees the thread.
         */
        private const val CALL_CAP_MS = 30_000L

        private fun ULong.toMillis(): Long = if (this > Long.MAX_VALUE.toULong()) Long.MAX_VALUE else toLong()

        private inline fun <T> guard(op: String, block: () -> T): T =
            try {
                block()
            } catch (e: Throwable) {
                throw ForeignStoreException.Failed("$op threw ${e.javaClass.name}")
            }

        private fun <T> capped(block: suspend () -> T): T = runBlocking { withTimeout(CALL_CAP_MS) { block() } }

        /** A suspend store: each call runs to completion on the calling (core) thread. */
        fun of(store: TokenStore): ForeignStoreBridge {
            val locking = store as? LockingTokenStore
            return ForeignStoreBridge(
                store.javaClass.simpleName,
                locking != null,
                { k -> capped { store.get(k) } },
                { k, r, t -> capped { store.put(k, r, t) } },
                { k, r -> capped { store.removeIf(k, r) } },
                { l, o, t -> locking != null && capped { locking.tryLock(l, o, t) } },
                { l, o -> if (locking != null) capped { locking.unlock(l, o) } },
            )
        }

        /** A blocking store: called directly. */
        fun of(store: BlockingTokenStore): ForeignStoreBridge {
            val locking = store as? BlockingLockingTokenStore
            return ForeignStoreBridge(
                store.javaClass.simpleName,
                locking != null,
                store::get,
                store::put,
                store::removeIf,
                { l, o, t -> locking != null && locking.tryLock(l, o, t) },
                { l, o -> locking?.unlock(l, o) },
            )
        }
    }
}
