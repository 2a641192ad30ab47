package dev.tokenwell

import dev.tokenwell.internal.ffi.ErrorKind
import dev.tokenwell.internal.ffi.ErrorKindRecord
import java.io.File

/**
 * The platforms whose native core the jar carries, checked before the first
 * native call. JNA loads the core from the class path folder named after the
 * platform (`linux-x86-64/`, `linux-aarch64/`); elsewhere it would fail with a
 * bare `UnsatisfiedLinkError`, and on a musl JVM (Alpine) JNA even picks the
 * glibc library from the same folder. Those get a [TokenwellException.Config]
 * naming the platform and saying how to build the core locally instead.
 */
internal object NativePlatform {
    /** JNA's resource folders the jar carries a library for (glibc 2.17 or later). */
    val SUPPORTED = listOf("linux-x86-64", "linux-aarch64")

    /** Forces the detected platform (tests; e.g. `linux-musl-x86-64`, `darwin-aarch64`). */
    const val PLATFORM_PROPERTY = "tokenwell.platform"

    /** uniffi's own switch to a library built locally: then nothing is checked. */
    const val OVERRIDE_PROPERTY = "uniffi.component.tokenwell.libraryOverride"

    private const val LIBRARY = "libtokenwell.so"

    /** This JVM's platform as JNA names its folders, with `-musl` for a musl libc. */
    private val detected: String by lazy {
        val os = System.getProperty("os.name").orEmpty().lowercase()
        val arch = when (val a = System.getProperty("os.arch").orEmpty().lowercase()) {
            "amd64", "x86_64" -> "x86-64"
            "aarch64", "arm64" -> "aarch64"
            else -> a
        }
        val family = when {
            os.startsWith("linux") -> if (isMusl()) "linux-musl" else "linux"
            os.startsWith("mac") || os.startsWith("darwin") -> "darwin"
            os.startsWith("windows") -> "win32"
            else -> os.replace(' ', '_')
        }
        "$family-$arch"
    }

    /** The JVM runs on musl when the musl loader is mapped into it. */
    private fun isMusl(): Boolean = try {
        File("/proc/self/maps").useLines { lines -> lines.any { "/ld-musl-" in it || "libc.musl-" in it } }
    } catch (_: Exception) {
        File("/lib").list()?.any { it.startsWith("ld-musl-") } == true
    }

    fun platform(): String = System.getProperty(PLATFORM_PROPERTY) ?: detected

    /** Why the native core cannot load here, or null when it can. */
    fun problem(): String? {
        if (!System.getProperty(OVERRIDE_PROPERTY).isNullOrEmpty()) return null
        val platform = platform()
        val why = when {
            platform !in SUPPORTED ->
                "tokenwell's jar carries its native core for ${SUPPORTED.joinToString(" and ")} " +
                    "(glibc 2.17 or later) only, and this JVM runs on $platform"
            NativePlatform::class.java.classLoader.getResource("$platform/$LIBRARY") == null ->
                "this tokenwell jar was built without the native core for $platform ($platform/$LIBRARY)"
            else -> return null
        }
        return "$why. Build the core locally from the tokenwell sources with a Rust toolchain " +
            "(`cargo build --release --features ffi --lib`, which writes target/release/$LIBRARY, " +
            "or the .dylib/.dll of your platform) and start the JVM with " +
            "-D$OVERRIDE_PROPERTY=/absolute/path/to/that/library"
    }

    /** Throws [TokenwellException.Config] when the native core cannot load here; else readies its load. */
    fun check() {
        if (!System.getProperty(OVERRIDE_PROPERTY).isNullOrEmpty()) return
        val platform = platform()
        if (platform == checked) return // every client after the first: no class path lookup
        problem()?.let { throw TokenwellException.Config(null, null, it) }
        // Before JNA loads the core: from the per-user cache, not a fresh temporary copy.
        NativeLibraryCache.folder
        jnaProblem()?.let { throw TokenwellException.Config(null, null, it) }
        checked = platform
    }

    /**
     * Why JNA itself cannot load, or null. JNA extracts its own native library
     * (jnidispatch) into `jna.tmpdir`, by default under `$XDG_CACHE_HOME` or
     * `~/.cache`; where that folder is mounted noexec (a hardened container) its
     * class fails to initialise, and the first native call would throw a bare
     * `NoClassDefFoundError`.
     */
    private fun jnaProblem(): String? = try {
        Class.forName("com.sun.jna.Native", true, NativePlatform::class.java.classLoader)
        null
    } catch (e: LinkageError) {
        // The first attempt's ExceptionInInitializerError, or a later NoClassDefFoundError
        // whose cause holds the first one's message (a path and the loader's reason).
        val reason = generateSequence<Throwable>(e) { it.cause }.mapNotNull { it.message }.lastOrNull() ?: e.javaClass.name
        "JNA cannot load its native library, so neither can tokenwell's core ($reason). " +
            "JNA extracts it into -Djna.tmpdir (by default under \$XDG_CACHE_HOME or ~/.cache): " +
            "where that folder is mounted noexec, start the JVM with -Djna.tmpdir=<a folder that allows executables>"
    }

    /** The platform [check] last passed. */
    @Volatile private var checked: String? = null

    /**
     * The core's facts for [ErrorKind.CONFIG], for the exception [check] throws
     * where the core (and so its error table) cannot load. ErrorsTest holds this
     * copy to the core's table.
     */
    val CONFIG_FACTS = ErrorKindRecord(ErrorKind.CONFIG, "config", isCredentialError = true, isRetryable = false)
}
