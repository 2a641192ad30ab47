package dev.tokenwell.probe

import dev.tokenwell.TokenClient
import dev.tokenwell.TokenConfig
import java.io.File

/** A fresh JVM's first client (NativeLibraryCacheTest); prints where the core it loaded lives. */
object CacheProbe {
    @JvmStatic
    fun main(args: Array<String>) {
        TokenClient(TokenConfig(provider = "deliveroo", clientId = "x", clientSecret = "y")).close()
        val mapped = File("/proc/self/maps").readLines().map { it.substringAfter('/', "") }.filter { it.endsWith("libtokenwell.so") }
        println("loaded " + mapped.distinct().joinToString(",") { "/$it" })
    }
}
