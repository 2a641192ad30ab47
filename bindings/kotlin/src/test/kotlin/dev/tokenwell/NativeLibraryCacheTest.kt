package dev.tokenwell

import java.io.File
import java.net.URL
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CyclicBarrier
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.jar.Attributes
import java.util.jar.JarEntry
import java.util.jar.JarOutputStream
import java.util.jar.Manifest
import kotlin.random.Random
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

/**
 * The native library's cache folder (NativeLibraryCache): extracted once, reused,
 * a corrupted copy replaced and never loaded, concurrent starts racing safely —
 * with threads on a small jar here, and with real JVMs loading the real core from
 * a jar of this build at the end.
 */
class NativeLibraryCacheTest {
    @TempDir
    lateinit var tmp: Path

    private val platform = NativePlatform.platform()

    /** A jar holding [bytes] as the platform's library, and its URL. */
    private fun jarWith(bytes: ByteArray, name: String = "lib.jar"): URL {
        val jar = tmp.resolve(name)
        JarOutputStream(Files.newOutputStream(jar)).use { out ->
            out.putNextEntry(JarEntry("$platform/libtokenwell.so"))
            out.write(bytes)
            out.closeEntry()
        }
        return URL("jar:${jar.toUri()}!/$platform/libtokenwell.so")
    }

    private fun cached(dir: Path): Path = dir.resolve("libtokenwell.so")

    private fun fileKey(file: Path): Any = Files.readAttributes(file, "unix:ino")["ino"]!!

    @Test
    fun `the library is extracted once, then the same file is reused`() {
        val bytes = Random(1).nextBytes(300_000)
        val url = jarWith(bytes)
        val root = tmp.resolve("cache")
        val dir = NativeLibraryCache.install(url, sequenceOf(root))!!
        assertTrue(dir.startsWith(root.resolve("tokenwell")), "$dir")
        assertTrue(dir.fileName.toString().startsWith("$platform-"), "$dir")
        assertArrayEquals(bytes, Files.readAllBytes(cached(dir)))
        val first = fileKey(cached(dir))
        val modified = Files.getLastModifiedTime(cached(dir))
        repeat(3) { assertEquals(dir, NativeLibraryCache.install(url, sequenceOf(root))) }
        assertEquals(first, fileKey(cached(dir)), "rewritten although intact")
        assertEquals(modified, Files.getLastModifiedTime(cached(dir)))
        assertEquals(listOf("libtokenwell.so"), Files.list(dir).use { s -> s.map { it.fileName.toString() }.toList() })
    }

    @Test
    fun `a corrupted or truncated copy is replaced, not reused`() {
        val bytes = Random(2).nextBytes(300_000)
        val url = jarWith(bytes)
        val root = tmp.resolve("cache")
        val dir = NativeLibraryCache.install(url, sequenceOf(root))!!
        for (damage in listOf<(ByteArray) -> ByteArray>(
            { it.copyOf().also { b -> b[150_000] = (b[150_000] + 1).toByte() } }, // same size, one byte off
            { it.copyOf(1000) }, // a torn write
        )) {
            Files.write(cached(dir), damage(bytes))
            val before = fileKey(cached(dir))
            assertEquals(dir, NativeLibraryCache.install(url, sequenceOf(root)))
            assertArrayEquals(bytes, Files.readAllBytes(cached(dir)))
            assertNotEquals(before, fileKey(cached(dir)), "replaced by a rename, not patched in place")
        }
    }

    @Test
    fun `threads racing the extraction all get one whole file and leave no temporary behind`() {
        val bytes = Random(3).nextBytes(2_000_000)
        val url = jarWith(bytes)
        val root = tmp.resolve("cache")
        val n = 8
        val barrier = CyclicBarrier(n)
        val pool = Executors.newFixedThreadPool(n)
        try {
            val dirs = (1..n).map { pool.submit<Path?> { barrier.await(); NativeLibraryCache.install(url, sequenceOf(root)) } }
                .map { it.get(60, TimeUnit.SECONDS) }
            assertEquals(1, dirs.toSet().size, "$dirs")
            val dir = dirs.first()!!
            assertArrayEquals(bytes, Files.readAllBytes(cached(dir)))
            assertEquals(listOf("libtokenwell.so"), Files.list(dir).use { s -> s.map { it.fileName.toString() }.toList() })
        } finally {
            pool.shutdownNow()
        }
    }

    @Test
    fun `an unusable root is passed over for the next, and a library outside a jar is left where it is`() {
        val url = jarWith(Random(4).nextBytes(1000))
        val notADir = Files.writeString(tmp.resolve("a-file"), "x")
        val dir = NativeLibraryCache.install(url, sequenceOf(notADir, tmp.resolve("second")))!!
        assertTrue(dir.startsWith(tmp.resolve("second")), "$dir")
        assertNull(NativeLibraryCache.install(tmp.resolve("x.so").toUri().toURL(), sequenceOf(tmp.resolve("third"))))
    }

    /**
     * JVMs started together against one empty cache folder, the real core in a jar
     * of this build: each loads the core from the cache folder (its mapped file),
     * which holds one whole copy; then a corrupted copy is replaced before loading.
     */
    @Test
    fun `fresh JVMs load the core from the cache folder, racing, and never a corrupted copy`() {
        val classes = File(NativeLibraryCache::class.java.protectionDomain.codeSource.location.toURI())
        assumeTrue(classes.isDirectory && File(classes, "$platform/libtokenwell.so").isFile, "no core for $platform in $classes")
        val jar = tmp.resolve("tokenwell.jar")
        val manifest = Manifest().apply {
            mainAttributes[Attributes.Name.MANIFEST_VERSION] = "1.0"
            mainAttributes[Attributes.Name.IMPLEMENTATION_VERSION] = "9.9.9-test"
        }
        JarOutputStream(Files.newOutputStream(jar), manifest).use { out ->
            classes.walkTopDown().filter { it.isFile }.forEach { f ->
                out.putNextEntry(JarEntry(f.relativeTo(classes).invariantSeparatorsPath))
                f.inputStream().use { it.copyTo(out) }
                out.closeEntry()
            }
        }
        // The test class path (surefire's), with the jar instead of the classes folder
        // (the probe is in a package of its own: dev.tokenwell comes from the jar).
        val classPath = (System.getProperty("surefire.test.class.path") ?: System.getProperty("java.class.path"))
            .split(File.pathSeparator).filter { File(it).absoluteFile != classes.absoluteFile }
        val cache = tmp.resolve("xdg")
        val started = mutableListOf<Process>()
        fun start(): Process = ProcessBuilder(
            File(System.getProperty("java.home"), "bin/java").path,
            "-cp", (listOf(jar.toString()) + classPath).joinToString(File.pathSeparator),
            dev.tokenwell.probe.CacheProbe::class.java.name,
        ).apply {
            environment()["XDG_CACHE_HOME"] = cache.toString()
            redirectErrorStream(true)
        }.start().also { started += it }
        fun loaded(p: Process): String {
            val out = p.inputStream.bufferedReader().readText()
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "probe hung: $out")
            assertEquals(0, p.exitValue(), out)
            return out.lines().single { it.startsWith("loaded ") }.removePrefix("loaded ")
        }
        try {
            val racing = listOf(start(), start())
            val paths = racing.map(::loaded)
            val dirs = Files.list(cache.resolve("tokenwell/9.9.9-test")).use { it.toList() }
            assertEquals(1, dirs.size, "$dirs")
            val library = cached(dirs.single())
            assertEquals(listOf(library.toString(), library.toString()), paths)
            assertEquals(listOf("libtokenwell.so"), Files.list(dirs.single()).use { s -> s.map { it.fileName.toString() }.toList() })

            val good = Files.readAllBytes(library)
            Files.write(library, good.copyOf().also { it[it.size / 2] = (it[it.size / 2] + 1).toByte() })
            assertEquals(library.toString(), loaded(start()))
            assertArrayEquals(good, Files.readAllBytes(library))
        } finally {
            started.forEach { it.destroyForcibly() } // a probe a failed assertion left running
        }
    }

    /**
     * A JVM whose JNA cannot extract its own native library (here `jna.tmpdir` is a
     * file; in production, a folder mounted noexec): every client is refused with a
     * Config error that says what to do, never a bare NoClassDefFoundError.
     */
    @Test
    fun `a JVM where JNA cannot load gets a Config error naming jna tmpdir`() {
        val classPath = System.getProperty("surefire.test.class.path") ?: System.getProperty("java.class.path")
        val notAFolder = Files.writeString(tmp.resolve("not-a-folder"), "x")
        val p = ProcessBuilder(
            File(System.getProperty("java.home"), "bin/java").path,
            "-Djna.tmpdir=$notAFolder", "-cp", classPath, dev.tokenwell.probe.JnaProbe::class.java.name,
        ).apply {
            environment()["XDG_CACHE_HOME"] = tmp.resolve("xdg").toString()
            redirectErrorStream(true)
        }.start()
        try {
            val out = p.inputStream.bufferedReader().readText()
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "probe hung: $out")
            assertEquals(0, p.exitValue(), out)
            val lines = out.lines().filter { it.isNotBlank() }
            assertEquals(2, lines.size, out)
            for (line in lines) {
                assertTrue(line.startsWith("config: JNA cannot load its native library"), line)
                assertTrue("-Djna.tmpdir=" in line && "noexec" in line, line)
                assertTrue("s3cr3t-probe" !in line, line)
            }
        } finally {
            p.destroyForcibly()
        }
    }
}
