package dev.tokenwell

import java.net.URI

/**
 * The origin part of the adapters' 401 rule: a 401 says something of the token
 * only when it comes from the origin the request was sent to, and the token
 * goes along a redirect only to that origin. For adapters over libraries whose
 * responses do not say which URL answered them (they follow redirects
 * themselves with these helpers).
 */
object Origin {
    /** Redirects an adapter follows before returning the 3xx as it is. */
    const val MAX_REDIRECTS = 10

    /** Same scheme, host and port (the port defaulted by the scheme). */
    @JvmStatic
    fun same(a: URI, b: URI): Boolean =
        a.scheme.equals(b.scheme, ignoreCase = true) && a.host.equals(b.host, ignoreCase = true) && port(a) == port(b)

    private fun port(u: URI): Int = when {
        u.port != -1 -> u.port
        u.scheme.equals("https", ignoreCase = true) -> 443
        u.scheme.equals("http", ignoreCase = true) -> 80
        else -> -1
    }

    /**
     * For a redirect status: whether the next hop keeps the method and body
     * (307, 308) or becomes a GET without a body (301, 302, 303); null for any
     * other status.
     */
    @JvmStatic
    fun redirectKeepsMethod(status: Int): Boolean? = when (status) {
        301, 302, 303 -> false
        307, 308 -> true
        else -> null
    }

    /**
     * Where a redirect from [from] to [location] leads, or null when it is not
     * followed: a relative or absolute http(s) URL, never from https down to http.
     */
    @JvmStatic
    fun next(from: URI, location: String): URI? {
        val to = try {
            from.resolve(location)
        } catch (_: IllegalArgumentException) {
            return null
        }
        val scheme = to.scheme?.lowercase() ?: return null
        if (scheme != "http" && scheme != "https") return null
        if (from.scheme.equals("https", ignoreCase = true) && scheme == "http") return null
        return to
    }
}
