package dev.tokenwell

import com.sun.jna.NativeLibrary
import java.io.FileInputStream
import java.io.IOException
import java.io.InputStream
import java.io.OutputStream
import java.net.JarURLConnection
import java.net.URL
import java.nio.file.AtomicMoveNotSupportedException
import java.nio.file.FileAlreadyExistsException
import java.nio.file.Files
import java.nio.file.LinkOption
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.nio.file.StandardOpenOption
import java.nio.file.attribute.PosixFilePermission
import java.nio.file.attribute.PosixFilePermissions
import java.util.zip.CRC32

/**
 * The native core, extracted from the jar once per version and content into a
 * per-user cache folder and loaded from there by every later JVM.
 *
 * Left to itself, JNA copies the 6 MB library out of the jar into a new temporary
 * file on every start and loads that (78 ms measured). Here:
 * `$XDG_CACHE_HOME/tokenwell/<version>/<platform>-<crc32>/libtokenwell.so` (or
 * `~/.cache/...`; else an owner-only folder in `java.io.tmpdir`), then JNA is
 * told to look there first ([NativeLibrary.addSearchPath]).
 *
 * Concurrent starts are safe: each writer copies into its own temporary file in
 * the same folder and renames it into place atomically, so a reader sees no file
 * or a whole one; a file is loaded only when its size and CRC-32 are the jar
 * entry's (a torn or corrupted copy is replaced, never loaded). Where nothing can
 * be written, JNA's own extraction still works: this is an optimisation only.
 */
internal object NativeLibraryCache {
    private const val LIBRARY = "libtokenwell.so"

    /** The folder JNA was pointed to, or null where JNA finds the library itself. */
    val folder: Path? by lazy {
        runCatching {
            NativeLibraryCache::class.java.classLoader.getResource(NativePlatform.platform() + "/" + LIBRARY)
                ?.let { install(it, roots()) }
                ?.also { NativeLibrary.addSearchPath("tokenwell", it.toString()) }
        }.getOrNull()
    }

    /**
     * The folder under the first usable root holding a verified copy of [url]'s
     * library: `<root>/tokenwell/<version>/<platform>-<crc32>/`. Null for a
     * library outside a jar (a build's classes folder: JNA loads it in place).
     */
    fun install(url: URL, roots: Sequence<Path>): Path? {
        if (url.protocol != "jar") return null
        val entry = Entry.of(url) ?: return null
        val version = NativeLibraryCache::class.java.`package`?.implementationVersion ?: "unversioned"
        val leaf = NativePlatform.platform() + "-" + java.lang.Long.toHexString(entry.crc).padStart(8, '0')
        return roots.firstNotNullOfOrNull { root ->
            val dir = root.resolve("tokenwell").resolve(version).resolve(leaf)
            runCatching { ensure(dir, entry) }.getOrNull()?.let { dir }
        }
    }

    /** The jar entry's size and CRC-32, from the jar's directory (nothing inflated). */
    class Entry(val size: Long, val crc: Long, val open: () -> InputStream) {
        companion object {
            fun of(url: URL): Entry? {
                val connection = url.openConnection() as? JarURLConnection ?: return null
                val jarEntry = connection.jarEntry
                if (jarEntry.size < 0 || jarEntry.crc < 0) return null
                return Entry(jarEntry.size, jarEntry.crc) { url.openStream() }
            }
        }
    }

    /** Where to look, in order: the XDG cache, ~/.cache, the temp folder. */
    private fun roots(): Sequence<Path> = sequence {
        System.getenv("XDG_CACHE_HOME")?.takeIf { it.startsWith("/") }?.let { yield(Path.of(it)) }
        System.getProperty("user.home")?.takeIf { it.isNotEmpty() && it != "?" }?.let { yield(Path.of(it, ".cache")) }
        // A shared temp folder only through a folder this user alone owns and can write.
        System.getProperty("java.io.tmpdir")?.let { tmp ->
            val user = System.getProperty("user.name").orEmpty().map { if (it.isLetterOrDigit() || it in "._-") it else '_' }.joinToString("")
            privateDir(Path.of(tmp, "tokenwell-$user"))?.let { yield(it) }
        }
    }

    /** [dir], created owner-only when missing; null unless this user owns it and no one else may write it. */
    private fun privateDir(dir: Path): Path? = runCatching {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")))
        } catch (_: FileAlreadyExistsException) {
        }
        val me = dir.fileSystem.userPrincipalLookupService.lookupPrincipalByName(System.getProperty("user.name"))
        dir.takeIf {
            Files.isDirectory(it, LinkOption.NOFOLLOW_LINKS) &&
                Files.getOwner(it, LinkOption.NOFOLLOW_LINKS) == me &&
                Files.getPosixFilePermissions(it, LinkOption.NOFOLLOW_LINKS)
                    .none { p -> p in GROUP_OR_OTHER_WRITE }
        }
    }.getOrNull()

    private val GROUP_OR_OTHER_WRITE = setOf(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE)

    /**
     * The library in [dir], verified or freshly extracted: a temporary copy in the
     * same folder, checked, then renamed over whatever was there. Null when [dir]
     * cannot be written and holds no good copy.
     */
    fun ensure(dir: Path, entry: Entry): Path? {
        val target = dir.resolve(LIBRARY)
        if (matches(target, entry)) return target
        Files.createDirectories(dir)
        val tmp = Files.createTempFile(dir, ".$LIBRARY.", ".tmp")
        try {
            val crc = Files.newOutputStream(tmp, StandardOpenOption.WRITE).use { out -> crc32(entry.open(), out) }
            if (Files.size(tmp) != entry.size || crc != entry.crc) throw IOException("extracted copy differs from the jar entry")
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
            } catch (_: AtomicMoveNotSupportedException) {
                return null // never a non-atomic replace: a concurrent start could load half a file
            }
            return target
        } finally {
            Files.deleteIfExists(tmp)
        }
    }

    /** Whether [file] is the entry's library: same size, same CRC-32 (3 ms for 6 MB). */
    fun matches(file: Path, entry: Entry): Boolean = try {
        Files.size(file) == entry.size && crc32(FileInputStream(file.toFile())) == entry.crc
    } catch (_: IOException) {
        false
    }

    /** The CRC-32 of [input] (closed), copied to [copy] on the way when given. */
    private fun crc32(input: InputStream, copy: OutputStream? = null): Long = input.use {
        val crc = CRC32()
        val buffer = ByteArray(1 shl 16)
        while (true) {
            val n = input.read(buffer)
            if (n < 0) break
            crc.update(buffer, 0, n)
            copy?.write(buffer, 0, n)
        }
        crc.value
    }
}
