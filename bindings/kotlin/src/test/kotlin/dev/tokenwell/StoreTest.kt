package dev.tokenwell

import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.CyclicBarrier
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference
import kotlin.concurrent.thread
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.yield
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.slf4j.event.Level

/**
 * "Your own store": a user's [TokenStore] (suspend) or
 * [BlockingTokenStore] shares tokens through the core's fleet protocol. It sees
 * only hashed keys and sealed records; when it throws or hangs, callers still
 * get tokens; with a lock a cold fleet makes one request.
 */
class StoreTest : WithMockProvider() {
    private val secret = "kt-store-secret-9e2c"
    private val keyShape = Regex("""tokenwell:\{[0-9a-f]{64}\}:[tl]""")

    private fun config(store: TokenConfig.StoreOptions? = null) = TokenConfig(
        provider = "deliveroo",
        environment = "sandbox",
        baseUrl = "${mock.url}/deliveroo",
        clientId = "kt-store",
        clientSecret = secret,
        store = store,
    )

    private fun tokenResponse(token: String, delayMs: Int = 0) =
        """{"status":200,"json":{"access_token":"$token","token_type":"Bearer","expires_in":300},"delay_ms":$delayMs}"""

    @BeforeEach
    fun clearLogs() {
        Captured.threshold = Level.INFO
        Captured.entries.clear()
    }

    /** A map with TTLs; records every key and value it is handed, and every call. */
    open class MapStore : BlockingTokenStore {
        private val records = HashMap<String, Pair<String, Long>>()
        val keys = CopyOnWriteArrayList<String>()
        val values = CopyOnWriteArrayList<String>()
        val calls = ConcurrentHashMap<String, AtomicInteger>()

        protected fun seen(op: String, key: String, vararg value: String) {
            calls.computeIfAbsent(op) { AtomicInteger() }.incrementAndGet()
            keys += key
            values += value
        }

        fun count(op: String) = calls[op]?.get() ?: 0

        protected fun live(key: String): String? =
            records[key]?.takeIf { it.second > System.nanoTime() }?.first

        protected fun store(key: String, value: String, ttlMs: Long) {
            records[key] = value to System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ttlMs)
        }

        @Synchronized override fun get(key: String): String? {
            seen("get", key)
            return live(key)
        }

        @Synchronized override fun put(key: String, record: String, ttlMs: Long) {
            seen("put", key, record)
            store(key, record, ttlMs)
        }

        @Synchronized override fun removeIf(key: String, record: String) {
            seen("removeIf", key, record)
            if (live(key) == record) records.remove(key)
        }

        @Synchronized fun tryLockImpl(lock: String, owner: String, ttlMs: Long): Boolean {
            seen("tryLock", lock, owner)
            if (live(lock) != null) return false
            store(lock, owner, ttlMs)
            return true
        }

        @Synchronized fun unlockImpl(lock: String, owner: String) {
            seen("unlock", lock, owner)
            if (live(lock) == owner) records.remove(lock)
        }
    }

    class LockingMapStore : MapStore(), BlockingLockingTokenStore {
        override fun tryLock(lock: String, owner: String, ttlMs: Long) = tryLockImpl(lock, owner, ttlMs)
        override fun unlock(lock: String, owner: String) = unlockImpl(lock, owner)
    }

    /** The same map behind suspend functions, each suspending once. */
    class SuspendLockingStore(val map: MapStore = MapStore()) : LockingTokenStore {
        override suspend fun get(key: String): String? { yield(); return map.get(key) }
        override suspend fun put(key: String, record: String, ttlMs: Long) { delay(1); map.put(key, record, ttlMs) }
        override suspend fun removeIf(key: String, record: String) { yield(); map.removeIf(key, record) }
        override suspend fun tryLock(lock: String, owner: String, ttlMs: Long): Boolean { yield(); return map.tryLockImpl(lock, owner, ttlMs) }
        override suspend fun unlock(lock: String, owner: String) { yield(); map.unlockImpl(lock, owner) }
    }

    private fun assertSeesNoSecret(store: MapStore, vararg tokens: String) {
        assertTrue(store.keys.isNotEmpty(), "the store was used")
        store.keys.forEach { assertTrue(keyShape.matches(it), it) }
        store.values.forEach { v -> (tokens.toList() + secret).forEach { assertFalse(v.contains(it), "a store value holds $it") } }
    }

    @Test
    fun `two clients share one token through a map store that sees only hashes and sealed records`() {
        mock.script(tokenResponse("kt-own-1"), tokenResponse("kt-own-2"))
        val store = MapStore()
        TokenClient(config(), store).use { a ->
            TokenClient(config(), store).use { b ->
                assertEquals("kt-own-1", a.tokenBlocking().accessToken)
                assertEquals("kt-own-1", b.tokenBlocking().accessToken)
                assertEquals(1, mock.requestCount())
                assertEquals(1, store.count("put"))
                assertEquals(0, store.count("tryLock"))
                // After a 401: the record holding that very token goes, the next client fetches anew.
                assertTrue(b.invalidate("kt-own-1"))
                val until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5)
                while (store.count("removeIf") == 0 && System.nanoTime() < until) Thread.sleep(5) // in the background
                assertEquals(1, store.count("removeIf"))
                assertEquals("kt-own-2", b.tokenBlocking().accessToken)
            }
        }
        assertSeesNoSecret(store, "kt-own-1", "kt-own-2")
    }

    @Test
    fun `the configured key prefix is used`() {
        mock.script(tokenResponse("kt-own-prefix"))
        val store = MapStore()
        TokenClient(config(TokenConfig.StoreOptions(keyPrefix = "acme-prod")), store).use {
            assertEquals("kt-own-prefix", it.tokenBlocking().accessToken)
        }
        assertTrue(store.keys.isNotEmpty() && store.keys.all { Regex("""acme-prod:\{[0-9a-f]{64}\}:t""").matches(it) }, "${store.keys}")
    }

    class StoreDown(text: String) : RuntimeException(text)

    @Test
    fun `a store that throws everywhere never fails a caller`() {
        mock.script(tokenResponse("kt-own-throw"))
        val calls = AtomicInteger()
        val store = object : LockingTokenStore {
            fun fail(): Nothing {
                calls.incrementAndGet()
                throw StoreDown("memcached://admin:hunter2@cache:11211 refused")
            }
            override suspend fun get(key: String): String? = fail()
            override suspend fun put(key: String, record: String, ttlMs: Long) = fail()
            override suspend fun removeIf(key: String, record: String) = fail()
            override suspend fun tryLock(lock: String, owner: String, ttlMs: Long): Boolean = fail()
            override suspend fun unlock(lock: String, owner: String) = fail()
        }
        TokenClient(config(), store).use { assertEquals("kt-own-throw", it.tokenBlocking().accessToken) }
        assertTrue(calls.get() >= 2, "get and tryLock were tried")
        val warnings = Captured.entries.filter { it.logger == TokenwellLogging.LOGGER && it.level == Level.WARN }
        assertTrue(warnings.any { it.message.contains("token store failed") && it.message.contains("StoreDown") }, "$warnings")
        assertTrue(Captured.entries.none { it.message.contains("hunter2") || it.message.contains(secret) }, "logged: ${Captured.entries}")
    }

    /** A locking map whose get throws from its third call on: the holder reads before the lock and holding it; the third read is its publish's. */
    class GetThrowsInPublish : MapStore(), BlockingLockingTokenStore {
        override fun get(key: String): String? {
            if (count("get") >= 2) {
                seen("get", key)
                throw StoreDown("memcached://admin:hunter2@cache:11211 refused")
            }
            return super.get(key)
        }
        override fun tryLock(lock: String, owner: String, ttlMs: Long) = tryLockImpl(lock, owner, ttlMs)
        override fun unlock(lock: String, owner: String) = unlockImpl(lock, owner)
        fun holdsLock() = keys.filter { it.endsWith(":l") }.any { live(it) != null }
    }

    @Test
    fun `a get that throws inside the publish releases the lock`() {
        mock.script(tokenResponse("kt-own-publish-throws"))
        val store = GetThrowsInPublish()
        TokenClient(config(), store).use { assertEquals("kt-own-publish-throws", it.tokenBlocking().accessToken) }
        assertEquals(3, store.count("get"), "the publish read and failed")
        // Released before the caller got its token: the next cold process takes it at once.
        assertEquals(1, store.count("unlock"))
        assertFalse(store.holdsLock(), "the lock is gone")
    }

    @Test
    fun `an Error thrown by a blocking store is a miss too`() {
        mock.script(tokenResponse("kt-own-error"))
        val store = object : BlockingTokenStore {
            override fun get(key: String): String? = throw StackOverflowError()
            override fun put(key: String, record: String, ttlMs: Long) = throw StackOverflowError()
            override fun removeIf(key: String, record: String) {}
        }
        TokenClient(config(), store).use { assertEquals("kt-own-error", it.tokenBlocking().accessToken) }
    }

    @Test
    fun `without a lock each client single-flights`() {
        mock.script(tokenResponse("kt-own-nolock", delayMs = 200))
        val store = MapStore()
        TokenClient(config(), store).use { client ->
            val tokens = runBlocking(Dispatchers.Default) {
                (0 until 32).map { async { client.token().accessToken } }.awaitAll()
            }
            assertEquals(setOf("kt-own-nolock"), tokens.toSet())
        }
        assertEquals(1, mock.requestCount())
        assertEquals(0, store.count("tryLock"))
    }

    /** [n] clients, one thread each, all asking at once on a cold cache: the request count. */
    private fun coldFleet(store: BlockingTokenStore, n: Int = 6): Int {
        mock.script(*Array(n) { tokenResponse("kt-fleet-$it", delayMs = 300) })
        val clients = List(n) { TokenClient(config(), store) }
        try {
            val barrier = CyclicBarrier(n)
            val failure = AtomicReference<Throwable>()
            clients.map { c ->
                thread {
                    try {
                        barrier.await()
                        c.tokenBlocking()
                    } catch (e: Throwable) {
                        failure.compareAndSet(null, e)
                    }
                }
            }.forEach { it.join() }
            failure.get()?.let { throw it }
        } finally {
            clients.forEach { it.close() }
        }
        return mock.requestCount()
    }

    @Test
    fun `with a lock a cold fleet of clients makes one request`() {
        val store = LockingMapStore()
        assertEquals(1, coldFleet(store))
        assertTrue(store.count("tryLock") >= 1)
    }

    @Test
    fun `without a lock a cold fleet makes more than one request`() {
        // The control for the test above: the lock is what makes it one.
        assertTrue(coldFleet(MapStore()) > 1)
    }

    @Test
    fun `a suspend store with a lock serves a cold fleet of coroutines one request`() {
        mock.script(*Array(8) { tokenResponse("kt-co-$it", delayMs = 300) })
        val store = SuspendLockingStore()
        val clients = List(8) { TokenClient(config(), store) }
        try {
            val tokens = runBlocking(Dispatchers.Default) { clients.map { async { it.token().accessToken } }.awaitAll() }
            assertEquals(setOf("kt-co-0"), tokens.toSet())
        } finally {
            clients.forEach { it.close() }
        }
        assertEquals(1, mock.requestCount())
        assertSeesNoSecret(store.map, "kt-co-0")
    }

    @Test
    fun `a hanging suspend store costs only its time-box`() {
        mock.script(tokenResponse("kt-hang"))
        val release = CompletableDeferred<Unit>()
        val calls = AtomicInteger()
        val store = object : TokenStore {
            override suspend fun get(key: String): String? { calls.incrementAndGet(); release.await(); return null }
            override suspend fun put(key: String, record: String, ttlMs: Long) { release.await() }
            override suspend fun removeIf(key: String, record: String) { release.await() }
        }
        try {
            TokenClient(config(TokenConfig.StoreOptions(timeoutMs = 200)), store).use { client ->
                val started = System.nanoTime()
                assertEquals("kt-hang", runBlocking { client.token().accessToken })
                val ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)
                assertTrue(ms < 1_500, "took $ms ms")
                assertTrue(calls.get() >= 1) // get, then publish's get
            }
        } finally {
            release.complete(Unit)
        }
    }

    @Test
    fun `a hanging blocking store costs only its time-box`() {
        mock.script(tokenResponse("kt-hang-blocking"))
        val release = CountDownLatch(1)
        val store = object : BlockingLockingTokenStore {
            override fun get(key: String): String? { release.await(60, TimeUnit.SECONDS); return null }
            override fun put(key: String, record: String, ttlMs: Long) { release.await(60, TimeUnit.SECONDS) }
            override fun removeIf(key: String, record: String) {}
            override fun tryLock(lock: String, owner: String, ttlMs: Long): Boolean { release.await(60, TimeUnit.SECONDS); return false }
            override fun unlock(lock: String, owner: String) {}
        }
        try {
            TokenClient(config(TokenConfig.StoreOptions(timeoutMs = 200)), store).use { client ->
                val started = System.nanoTime()
                assertEquals("kt-hang-blocking", client.tokenBlocking().accessToken)
                val ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)
                assertTrue(ms < 1_500, "took $ms ms")
            }
        } finally {
            release.countDown()
        }
    }
}
