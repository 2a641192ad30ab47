package dev.tokenwell

import java.time.Instant

/**
 * An access token. [toString] never shows the token itself.
 */
class AccessToken internal constructor(
    /** The token (send it only to the API it is for). */
    val accessToken: String,
    /** `Bearer` unless the server said otherwise. */
    val tokenType: String,
    /** The server's expiry, as Unix ms on the local clock. */
    val expiresAtUnixMs: Long,
    /** The granted scope, if the server reported it. */
    val scope: String?,
    /** The `Authorization` header value, e.g. `Bearer eyJ…`. */
    val authorizationHeader: String,
) {
    /** [expiresAtUnixMs] as an [Instant]. */
    val expiresAt: Instant get() = Instant.ofEpochMilli(expiresAtUnixMs)

    override fun equals(other: Any?): Boolean =
        other is AccessToken && other.accessToken == accessToken && other.tokenType == tokenType &&
            other.expiresAtUnixMs == expiresAtUnixMs && other.scope == scope

    override fun hashCode(): Int = accessToken.hashCode()

    override fun toString(): String =
        "AccessToken(tokenType=$tokenType, expiresAt=$expiresAt" +
            (scope?.let { ", scope=$it" } ?: "") + ", accessToken=[redacted])"
}
