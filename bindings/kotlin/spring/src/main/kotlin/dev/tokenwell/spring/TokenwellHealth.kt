package dev.tokenwell.spring

import dev.tokenwell.TokenClient
import dev.tokenwell.TokenHealth

/**
 * A client's health for Actuator, from [TokenClient.status] (no I/O): `UP`
 * while the core reports it up or degraded (a usable token is held, or a
 * refresh is failing while it still is), `DOWN` when the core reports it down,
 * `UNKNOWN` before the first fetch. The details never hold the token.
 */
internal object TokenwellHealth {
    enum class State { UP, DOWN, UNKNOWN }

    fun of(client: TokenClient): Pair<State, Map<String, Any>> {
        val s = client.status()
        val state = when (s.health) {
            TokenHealth.DOWN -> State.DOWN
            TokenHealth.IDLE -> State.UNKNOWN
            else -> State.UP
        }
        val details = LinkedHashMap<String, Any>()
        details["health"] = s.health.code
        details["tokenUsable"] = s.tokenUsable
        s.tokenExpiresInMs?.let { details["tokenExpiresInMs"] = it }
        s.lastError?.let { details["lastError"] = it.code }
        s.backoffMs?.let { details["backoffMs"] = it }
        details["fetching"] = s.fetching
        s.storeBreaker?.let { details["storeBreaker"] = it }
        return state to details
    }
}
