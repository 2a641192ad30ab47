package dev.tokenwell

import dev.tokenwell.internal.ffi.errorKinds
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import dev.tokenwell.internal.ffi.TokenwellException as Ffi

/** The exception classes agree with the core's error table, both ways. */
class ErrorsTest {
    private val table = errorKinds()

    /** Every public subclass of TokenwellException (plain Java reflection: no kotlin-reflect). */
    private val subclasses: Set<Class<*>> = TokenwellException::class.java.declaredClasses
        .filter { TokenwellException::class.java.isAssignableFrom(it) }
        .toSet()

    @Test
    fun `every kind of the core has a class with its code and flags`() {
        assertTrue(table.isNotEmpty())
        for (row in table) {
            val e = TokenwellException.from(Ffi.Failure(row.kind, 418u, 1500uL, "what happened", "${row.code} (HTTP 418): what happened"))
            assertEquals(row.code, e.code, "code of ${e::class.java.simpleName}")
            assertEquals(row.isCredentialError, e.isCredentialError, "isCredentialError of ${row.code}")
            assertEquals(row.isRetryable, e.isRetryable, "isRetryable of ${row.code}")
            assertEquals(418, e.status)
            assertEquals(1500L, e.retryAfterMs)
            assertEquals("what happened", e.detail)
            assertEquals("${row.code} (HTTP 418): what happened", e.message)
            assertTrue(e.javaClass in subclasses, "${e.javaClass} is a nested subclass")
        }
    }

    @Test
    fun `every class is the class of exactly one kind of the core`() {
        val produced = table.map { TokenwellException.of(it.kind, null, null, "", "").javaClass }
        assertEquals(produced.size, produced.toSet().size, "two kinds share a class: $produced")
        assertEquals(subclasses, produced.toSet(), "classes without a kind of the core, or kinds without a class")
    }

    @Test
    fun `an exception built by hand reads its code and flags from the core`() {
        val e = TokenwellException.RateLimited(429, 7000, "slow down")
        assertEquals("rate_limited", e.code)
        assertTrue(e.isRetryable)
        assertFalse(e.isCredentialError)
        assertEquals("slow down", e.message)
        val config = TokenwellException.Config(null, null, "bad")
        assertTrue(config.isCredentialError)
        assertFalse(config.isRetryable)
    }
}
