package dev.tokenwell.probe

import dev.tokenwell.TokenClient
import dev.tokenwell.TokenConfig
import java.util.concurrent.CopyOnWriteArrayList

/**
 * A JVM with a listening client that returns from main without closing it:
 * tokenwell's event thread (a native thread that called into the JVM) must not
 * keep the JVM alive. Prints the events it saw.
 */
object ListenerExitProbe {
    @JvmStatic
    fun main(args: Array<String>) {
        val names = CopyOnWriteArrayList<String>()
        val client = TokenClient.builder(
            TokenConfig(provider = "deliveroo", environment = "sandbox", baseUrl = "${args[0]}/deliveroo", clientId = "exit", clientSecret = "y"),
        ).listener { names += it.name }.build()
        client.tokenBlocking()
        val deadline = System.nanoTime() + 10_000_000_000L
        while (names.size < 2 && System.nanoTime() < deadline) Thread.sleep(10)
        println("events: " + names.joinToString(","))
    }
}
