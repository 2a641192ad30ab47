package dev.tokenwell

import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.asSharedFlow

/**
 * A [TokenEventListener] as a hot [kotlinx.coroutines.flow.Flow]: collectors
 * see the events emitted while they collect. Never blocks the event thread:
 * past [capacity] events a slow collector misses the oldest.
 *
 * ```kotlin
 * val events = TokenEventFlow()
 * val tokens = TokenClient.builder(config).listener(events).build()
 * scope.launch { events.events.filterIsInstance<TokenEvent.FetchFailed>().collect { alert(it) } }
 * ```
 */
class TokenEventFlow @JvmOverloads constructor(capacity: Int = 256) : TokenEventListener {
    private val shared = MutableSharedFlow<TokenEvent>(extraBufferCapacity = capacity, onBufferOverflow = BufferOverflow.DROP_OLDEST)

    /** The events. */
    val events: SharedFlow<TokenEvent> = shared.asSharedFlow()

    override fun onEvent(event: TokenEvent) {
        shared.tryEmit(event)
    }
}
