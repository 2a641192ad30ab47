package dev.tokenwell.probe

import dev.tokenwell.TokenClient
import dev.tokenwell.TokenConfig
import dev.tokenwell.TokenwellException

/** Two clients in a fresh JVM whose JNA cannot load (NativeLibraryCacheTest); prints what each threw. */
object JnaProbe {
    @JvmStatic
    fun main(args: Array<String>) {
        repeat(2) {
            try {
                TokenClient(TokenConfig(provider = "deliveroo", clientId = "x", clientSecret = "s3cr3t-probe")).close()
                println("built")
            } catch (e: TokenwellException.Config) {
                println("config: ${e.message}")
            }
        }
    }
}
