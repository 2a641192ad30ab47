package dev.tokenwell

import dev.tokenwell.internal.ffi.CoreClient
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import kotlin.metadata.Visibility
import kotlin.metadata.jvm.KotlinClassMetadata
import kotlin.metadata.visibility
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * The generated uniffi code is `internal` to this module (the build rewrites its
 * visibility), so only the hand-written `dev.tokenwell` API is public to Kotlin users.
 */
class GeneratedVisibilityTest {
    private val classes: Path =
        Paths.get(CoreClient::class.java.protectionDomain.codeSource.location.toURI())

    /** Public top-level declarations of the compiled classes in [pkg]. */
    private fun publicIn(pkg: String): List<String> {
        val dir = classes.resolve(pkg.replace('.', '/'))
        val names = Files.list(dir).use { files ->
            files.map { it.fileName.toString() }
                .filter { it.endsWith(".class") && '$' !in it }
                .map { it.removeSuffix(".class") }
                .toList()
        }
        return names.sorted().flatMap { name ->
            val meta = Class.forName("$pkg.$name", false, javaClass.classLoader)
                .getAnnotation(Metadata::class.java) ?: return@flatMap emptyList()
            when (val km = KotlinClassMetadata.readLenient(meta)) {
                is KotlinClassMetadata.Class ->
                    listOf(name).filter { km.kmClass.visibility == Visibility.PUBLIC }
                is KotlinClassMetadata.FileFacade -> km.kmPackage.run {
                    functions.filter { it.visibility == Visibility.PUBLIC }.map { "$name.${it.name}" } +
                        properties.filter { it.visibility == Visibility.PUBLIC }.map { "$name.${it.name}" } +
                        typeAliases.filter { it.visibility == Visibility.PUBLIC }.map { "$name.${it.name}" }
                }
                else -> emptyList()
            }
        }
    }

    @Test
    fun `generated code is internal to the module`() {
        assertEquals(emptyList<String>(), publicIn("dev.tokenwell.internal.ffi"))
    }

    @Test
    fun `the hand-written API is public`() {
        val api = publicIn("dev.tokenwell")
        for (name in listOf("TokenClient", "TokenConfig", "TokenwellException", "TokenStore")) {
            assertTrue(name in api) { "$name missing from $api" }
        }
    }
}
