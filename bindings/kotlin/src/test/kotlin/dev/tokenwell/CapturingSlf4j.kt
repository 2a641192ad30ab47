package dev.tokenwell

import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import org.slf4j.ILoggerFactory
import org.slf4j.IMarkerFactory
import org.slf4j.Logger
import org.slf4j.Marker
import org.slf4j.event.Level
import org.slf4j.helpers.AbstractLogger
import org.slf4j.helpers.BasicMarkerFactory
import org.slf4j.helpers.MessageFormatter
import org.slf4j.helpers.NOPMDCAdapter
import org.slf4j.spi.MDCAdapter
import org.slf4j.spi.SLF4JServiceProvider

/** What the test SLF4J provider captured, and the level it has enabled. */
object Captured {
    data class Entry(val logger: String, val level: Level, val message: String, val thread: String)

    val entries = CopyOnWriteArrayList<Entry>()

    /** The least severe level enabled (INFO unless a test says otherwise). */
    @Volatile var threshold: Level = Level.INFO

    fun enabled(level: Level) = level.toInt() >= threshold.toInt()
}

/** A test-scope SLF4J 2 provider (META-INF/services) that records every enabled call. */
class CapturingSlf4jProvider : SLF4JServiceProvider {
    private val loggers = ConcurrentHashMap<String, Logger>()
    private val factory = ILoggerFactory { name -> loggers.computeIfAbsent(name) { CapturingLogger(it) } }
    private val markers = BasicMarkerFactory()
    private val mdc = NOPMDCAdapter()

    override fun getLoggerFactory(): ILoggerFactory = factory
    override fun getMarkerFactory(): IMarkerFactory = markers
    override fun getMDCAdapter(): MDCAdapter = mdc
    override fun getRequestedApiVersion(): String = "2.0.99"
    override fun initialize() {}
}

class CapturingLogger(private val loggerName: String) : AbstractLogger() {
    override fun getName(): String = loggerName
    override fun isTraceEnabled() = Captured.enabled(Level.TRACE)
    override fun isTraceEnabled(marker: Marker?) = isTraceEnabled
    override fun isDebugEnabled() = Captured.enabled(Level.DEBUG)
    override fun isDebugEnabled(marker: Marker?) = isDebugEnabled
    override fun isInfoEnabled() = Captured.enabled(Level.INFO)
    override fun isInfoEnabled(marker: Marker?) = isInfoEnabled
    override fun isWarnEnabled() = Captured.enabled(Level.WARN)
    override fun isWarnEnabled(marker: Marker?) = isWarnEnabled
    override fun isErrorEnabled() = Captured.enabled(Level.ERROR)
    override fun isErrorEnabled(marker: Marker?) = isErrorEnabled
    override fun getFullyQualifiedCallerName(): String? = null

    override fun handleNormalizedLoggingCall(
        level: Level,
        marker: Marker?,
        messagePattern: String?,
        arguments: Array<out Any?>?,
        throwable: Throwable?,
    ) {
        val message = MessageFormatter.basicArrayFormat(messagePattern, arguments?.let { arrayOf(*it) })
        Captured.entries.add(Captured.Entry(loggerName, level, message, Thread.currentThread().name))
    }
}
