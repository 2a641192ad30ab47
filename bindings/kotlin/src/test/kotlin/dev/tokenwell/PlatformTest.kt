package dev.tokenwell

import dev.tokenwell.internal.ffi.ErrorKind
import dev.tokenwell.internal.ffi.errorKinds
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test

/**
 * A platform the jar has no native core for fails with a clear
 * TokenwellException, before JNA is asked to load anything (the platform is
 * forced through the `tokenwell.platform` system property).
 */
class PlatformTest {
    private val config = TokenConfig(
        provider = "deliveroo",
        environment = "sandbox",
        baseUrl = "http://127.0.0.1:9/deliveroo",
        clientId = "x",
        clientSecret = "y-secret-1",
    )

    @AfterEach
    fun clear() {
        System.clearProperty(NativePlatform.PLATFORM_PROPERTY)
        System.clearProperty(NativePlatform.OVERRIDE_PROPERTY)
    }

    private fun failureOn(platform: String, build: () -> Any): TokenwellException.Config {
        System.setProperty(NativePlatform.PLATFORM_PROPERTY, platform)
        return assertThrows(TokenwellException.Config::class.java) { build() }
    }

    @Test
    fun `a musl JVM gets a TokenwellException naming it, not an UnsatisfiedLinkError`() {
        val e = failureOn("linux-musl-x86-64") { TokenClient(config) }
        val message = e.message!!
        assertTrue("linux-musl-x86-64" in message, message)
        assertTrue("linux-x86-64 and linux-aarch64" in message, message)
        assertTrue("cargo build --release --features ffi --lib" in message, message)
        assertTrue("-Duniffi.component.tokenwell.libraryOverride=" in message, message)
        // Readable where the core is not: its facts do not need the native table.
        assertEquals("config", e.code)
        assertFalse(e.isRetryable)
        assertNull(e.status)
    }

    @Test
    fun `macOS, Windows and other architectures fail the same way, from every native entry point`() {
        for (platform in listOf("darwin-aarch64", "win32-x86-64", "linux-riscv64", "linux-musl-aarch64")) {
            for (build in listOf<() -> Any>({ TokenClient(config) }, { ManualClock() }, { MemoryStore() })) {
                val e = failureOn(platform, build)
                assertTrue("runs on $platform" in e.message!!, e.message)
            }
        }
    }

    @Test
    fun `a library built locally and named by uniffi's override is not second-guessed`() {
        System.setProperty(NativePlatform.PLATFORM_PROPERTY, "darwin-aarch64")
        assertNotNull(NativePlatform.problem())
        System.setProperty(NativePlatform.OVERRIDE_PROPERTY, "/opt/tokenwell/libtokenwell.dylib")
        assertNull(NativePlatform.problem())
    }

    @Test
    fun `this JVM is detected as glibc Linux on its architecture and loads the core`() {
        val arch = System.getProperty("os.arch")
        assumeTrue(System.getProperty("os.name") == "Linux" && arch in setOf("amd64", "aarch64"))
        val expected = if (arch == "amd64") "linux-x86-64" else "linux-aarch64"
        assertEquals(expected, NativePlatform.platform())
        assertNull(NativePlatform.problem())
        TokenClient(config).close()
    }

    @Test
    fun `the Config facts used without the core are the core's`() {
        val row = errorKinds().single { it.kind == ErrorKind.CONFIG }
        assertEquals(row, NativePlatform.CONFIG_FACTS)
    }
}
