package dev.tokenwell

import dev.tokenwell.internal.ffi.CoreEvent
import dev.tokenwell.internal.ffi.EventListener
import dev.tokenwell.internal.ffi.closeEventDelivery
import java.util.concurrent.atomic.AtomicBoolean

/**
 * The core's [EventListener] for one client: hands each event to the user's
 * listeners and the observers' attachments. Never throws into the core: a
 * listener's exception is logged once per listener (its class name only: a
 * message could hold anything) and ignored.
 *
 * Holds no reference to the [TokenClient] (the core holds this bridge, so the
 * client can still be garbage-collected); attachments hold it weakly.
 */
internal class EventBridge(
    private val listeners: List<TokenEventListener>,
    private val observers: List<TokenClientObserver>,
) : EventListener {
    private val warned = Array(listeners.size + observers.size) { AtomicBoolean(false) }

    @Volatile private var attachments: List<TokenClientObserver.Attachment> = emptyList()

    init {
        ShutdownHook.install()
    }

    /** Attaches every observer to [client] (once it has its core). */
    fun attach(client: TokenClient) {
        attachments = observers.mapIndexedNotNull { i, o -> guard(listeners.size + i, o) { o.attach(client) } }
    }

    /** Detaches every observer (the client is closing). */
    fun detach() {
        val current = attachments
        attachments = emptyList()
        current.forEachIndexed { i, a -> guard(listeners.size + i, a) { a.detach() } }
    }

    override fun onFetchStarted(fetchId: ULong, reason: String, atUnixMs: Long) {
        attachments.forEachIndexed { i, a -> guard(listeners.size + i, a) { a.onFetchStarted(fetchId.toLong(), reason, atUnixMs) } }
    }

    override fun onEvent(event: CoreEvent) {
        val e = try {
            TokenEvent.of(event) ?: return
        } catch (_: Throwable) {
            return
        }
        attachments.forEachIndexed { i, a -> guard(listeners.size + i, a) { a.onEvent(e) } }
        listeners.forEachIndexed { i, l -> guard(i, l) { l.onEvent(e) } }
    }

    private inline fun <T> guard(index: Int, who: Any, block: () -> T): T? =
        try {
            block()
        } catch (t: Throwable) {
            if (warned[index].compareAndSet(false, true)) {
                TokenwellLogging.warn(
                    "tokenwell: the event listener ${who.javaClass.name} threw ${t.javaClass.name}; " +
                        "ignored (later exceptions from it are not logged)",
                )
            }
            null
        }
}

/**
 * Stops event delivery when the JVM shuts down: the core's event thread must
 * not call into a JVM that is exiting. Installed with the first listener.
 */
internal object ShutdownHook {
    private val installed = AtomicBoolean(false)

    fun install() {
        if (!installed.compareAndSet(false, true)) return
        try {
            Runtime.getRuntime().addShutdownHook(Thread({ runCatching { closeEventDelivery() } }, "tokenwell-shutdown"))
        } catch (_: IllegalStateException) {
            // Already shutting down: nothing more will be delivered that matters.
        }
    }
}
