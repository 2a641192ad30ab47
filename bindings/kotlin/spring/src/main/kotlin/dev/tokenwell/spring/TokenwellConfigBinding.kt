package dev.tokenwell.spring

import org.springframework.boot.context.properties.bind.Bindable
import org.springframework.boot.context.properties.bind.Binder
import org.springframework.boot.json.JsonParserFactory
import org.springframework.core.env.Environment

/**
 * `tokenwell.clients.<name>.*` as the core's config JSON. The keys and their
 * types are the core's schema's (config.schema.json, in this jar): a key is
 * matched to the schema's whatever its spelling (`client-id`, `clientId`,
 * `client_id`, and the `CLIENTID` of Spring's environment-variable form), a
 * text value is turned into the number or boolean the schema's key takes. A key
 * the schema lacks, or a value the schema refuses, is passed on as it is: the
 * core rejects it, naming the key, and the client is not built.
 */
internal object TokenwellConfigBinding {
    const val PREFIX = "tokenwell.clients"

    /** The configured client names. */
    fun names(env: Environment): Set<String> = tree(env).keys

    /**
     * Client [name]'s config: the core's JSON (`name` defaulting to [name]; holds
     * the secret: never log it), and the keys whose text is not of the schema's
     * type (the core's error says what it expected, not where).
     */
    class Bound(val config: Map<String, Any?>, val mistyped: List<String>)

    fun bind(env: Environment, name: String): Bound {
        val raw = tree(env)[name] as? Map<*, *> ?: emptyMap<Any, Any>()
        val config = LinkedHashMap<String, Any?>()
        config["name"] = name
        val mistyped = ArrayList<String>()
        config.putAll(normalise(raw, SCHEMA.root, "$PREFIX.$name", mistyped))
        return Bound(config, mistyped)
    }

    private fun tree(env: Environment): Map<String, Any?> {
        val bound: Map<String, Any>? = Binder.get(env).bind(PREFIX, Bindable.mapOf(String::class.java, Any::class.java)).orElse(null)
        return bound ?: emptyMap()
    }

    /** Squeezes a key to compare spellings: lower case, no `-` or `_`. */
    private fun squeeze(key: String) = key.lowercase().replace("-", "").replace("_", "")

    private fun normalise(raw: Map<*, *>, node: Schema.Node, path: String, mistyped: MutableList<String>): Map<String, Any?> {
        val out = LinkedHashMap<String, Any?>()
        for ((k, v) in raw) {
            val key = k.toString()
            val known = node.properties[squeeze(key)]
            if (known == null) {
                // Not in the schema: the core names it in its error.
                out[key.replace('-', '_')] = v
                continue
            }
            out[known.first] = convert(v, known.second, "$path.$key", mistyped)
        }
        return out
    }

    private fun convert(value: Any?, node: Schema.Node, path: String, mistyped: MutableList<String>): Any? = when {
        // A list: Spring binds `key[0]`/YAML items as a map of indexes, and a text value is comma-separated.
        "array" in node.types && value is Map<*, *> && value.keys.all { it.toString().toIntOrNull() != null } ->
            value.entries.sortedBy { it.key.toString().toInt() }
                .map { (i, v) -> convert(v, node.items ?: Schema.Node.ANY, "$path[$i]", mistyped) }
        "array" in node.types && value is String ->
            value.split(',').map { it.trim() }.filter { it.isNotEmpty() }
                .mapIndexed { i, v -> convert(v, node.items ?: Schema.Node.ANY, "$path[$i]", mistyped) }
        value is List<*> -> value.mapIndexed { i, v -> convert(v, node.items ?: Schema.Node.ANY, "$path[$i]", mistyped) }
        value is Map<*, *> && node.properties.isNotEmpty() -> normalise(value, node, path, mistyped)
        // A free-form object (headers, extra_params): its keys are the user's, kept as written.
        value is Map<*, *> ->
            value.entries.associate { (k, v) -> k.toString() to convert(v, node.additional ?: Schema.Node.ANY, "$path.$k", mistyped) }
        value is String -> coerce(value, node.types) ?: value.also { mistyped += "$path (${node.types.filter { it != "null" }.joinToString(" or ")})" }
        else -> value
    }

    /** [text] as the schema's type; null when it is none of the types the key takes. */
    private fun coerce(text: String, types: Set<String>): Any? {
        val t = text.trim()
        return when {
            types.isEmpty() || "string" in types -> text
            "integer" in types && t.toBigIntegerOrNull() != null -> t.toBigInteger()
            "number" in types && t.toBigDecimalOrNull() != null -> t.toBigDecimal()
            "boolean" in types && t.lowercase() in setOf("true", "false") -> t.lowercase().toBoolean()
            else -> null
        }
    }

    private val SCHEMA: Schema by lazy {
        val text = TokenwellConfigBinding::class.java.getResourceAsStream("/META-INF/tokenwell/config.schema.json")
            ?.use { it.readBytes().toString(Charsets.UTF_8) }
            ?: error("tokenwell: config.schema.json missing from the starter jar")
        Schema(JsonParserFactory.getJsonParser().parseMap(text))
    }

    /** What the binding needs of a JSON schema: each object's keys, each value's types. */
    class Schema(private val doc: Map<String, Any?>) {
        class Node(
            /** Squeezed key to (the schema's snake_case key, its node). */
            val properties: Map<String, Pair<String, Node>>,
            val additional: Node?,
            val types: Set<String>,
            /** An array's items. */
            val items: Node? = null,
        ) {
            companion object {
                val ANY = Node(emptyMap(), null, emptySet())
            }
        }

        val root: Node = node(doc)

        @Suppress("UNCHECKED_CAST")
        private fun node(schema: Map<String, Any?>): Node {
            val parts = ArrayList<Map<String, Any?>>()
            collect(schema, parts)
            val properties = LinkedHashMap<String, Pair<String, Node>>()
            var additional: Node? = null
            var items: Node? = null
            val types = HashSet<String>()
            for (p in parts) {
                when (val t = p["type"]) {
                    is String -> types += t
                    is List<*> -> t.forEach { types += it.toString() }
                }
                if (p.containsKey("const") || p.containsKey("enum")) types += "string"
                (p["properties"] as? Map<String, Any?>)?.forEach { (key, sub) ->
                    // The snake_case spelling wins over its camelCase alias.
                    val squeezed = squeeze(key)
                    if (properties[squeezed] == null || key.contains('_') || key == key.lowercase()) {
                        properties[squeezed] = key to node(sub as Map<String, Any?>)
                    }
                }
                (p["additionalProperties"] as? Map<String, Any?>)?.let { additional = node(it) }
                (p["items"] as? Map<String, Any?>)?.let { items = node(it) }
            }
            return Node(properties, additional, types, items)
        }

        @Suppress("UNCHECKED_CAST")
        private fun collect(schema: Map<String, Any?>, into: MutableList<Map<String, Any?>>) {
            into += schema
            (schema["\$ref"] as? String)?.let { ref ->
                val name = ref.removePrefix("#/\$defs/")
                val defs = doc["\$defs"] as Map<String, Any?>
                collect(defs.getValue(name) as Map<String, Any?>, into)
            }
            for (k in listOf("anyOf", "oneOf", "allOf")) {
                (schema[k] as? List<*>)?.forEach { collect(it as Map<String, Any?>, into) }
            }
        }
    }
}
