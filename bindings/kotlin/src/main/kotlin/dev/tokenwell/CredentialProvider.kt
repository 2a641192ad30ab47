package dev.tokenwell

import dev.tokenwell.internal.ffi.ForeignCredentialProvider
import dev.tokenwell.internal.ffi.ForeignStoreException

/**
 * Gives the client secret instead of the config (with `private_key_jwt`, the
 * private key's PKCS#8 PEM, and `assertion.algorithm` must be set), e.g. from a
 * secrets manager's local cache:
 *
 * ```kotlin
 * TokenClient.builder(config).credentialProvider { secrets.current("partner") }.build()
 * ```
 *
 * Called once per token fetch, never on a cache hit, on a tokenwell thread and
 * time-boxed by the config's `http.timeoutMs`. A new secret acts as a new client
 * (the cached token is dropped). If it throws, the last good secret is kept and
 * a warning logged (the exception's class name only); with none ever, the fetch
 * fails with [TokenwellException.Config].
 */
fun interface CredentialProvider {
    /** The current secret (or private key). */
    fun credential(): String
}

/** A [CredentialProvider] as the core's foreign provider: any throw a failure naming its class. */
internal class CredentialProviderBridge(private val provider: CredentialProvider) : ForeignCredentialProvider {
    override fun credential(): String =
        try {
            provider.credential()
        } catch (e: Throwable) {
            throw ForeignStoreException.Failed("credentialProvider threw ${e.javaClass.name}")
        }

    override fun toString(): String = "CredentialProviderBridge()"
}
