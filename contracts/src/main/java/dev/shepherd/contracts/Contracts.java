package dev.shepherd.contracts;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.NodePath;
import dev.shepherd.model.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.NullNode;

/**
 * Validates messages, views and job payloads against Shepherd's JSON Schemas (draft 2020-12, in
 * {@code contracts/schemas} and {@code contracts/payloads} on the classpath). The schemas are read
 * and compiled once, when an instance is built; validating is then a walk over the node, safe from
 * any number of threads at once. Use {@link #shared()} unless you have a reason not to.
 *
 * <p>Each broken rule comes back as a {@link Violation} naming the field (a JSON pointer) and the
 * rule, ready for a problem+json {@code errors} entry or a dead-job reason:
 *
 * <pre>{@code
 * List<Contracts.Violation> problems =
 *     Contracts.shared().validate(Contracts.JOB_SUBMISSION, Json.mapper().readTree(body));
 * // [Violation[field=/maxAttempts, message=/maxAttempts: must be at most 100]]
 * }</pre>
 */
public final class Contracts {

  /** What a producer sends: {@link dev.shepherd.model.JobSubmission}. */
  public static final String JOB_SUBMISSION = "job-submission";

  /** One attempt on {@code shepherd.work}: {@link dev.shepherd.model.WorkMessage}. */
  public static final String WORK_MESSAGE = "work-message";

  /** A worker's report on {@code shepherd.status}: {@link dev.shepherd.model.StatusEvent}. */
  public static final String STATUS_EVENT = "status-event";

  /** {@code GET /api/v1/jobs/{id}}: {@link dev.shepherd.model.JobView}. */
  public static final String JOB_VIEW = "job-view";

  /** One row of {@code GET /api/v1/jobs}: {@link dev.shepherd.model.JobSummary}. */
  public static final String JOB_SUMMARY = "job-summary";

  /** A dead-job record: {@link dev.shepherd.model.DeadJob}. */
  public static final String DEAD_JOB = "dead-job";

  /** The answer to a submission: {@link dev.shepherd.model.SubmitReceipt}. */
  public static final String SUBMIT_RECEIPT = "submit-receipt";

  /** Every REST error, as problem+json (RFC 9457). */
  public static final String PROBLEM = "problem";

  /**
   * A producer's cancel request on {@code shepherd.control}, key {@code cancel}: {@link
   * dev.shepherd.model.CancelRequest}.
   */
  public static final String CANCEL_REQUEST = "cancel-request";

  /**
   * An order to one worker on {@code shepherd.control}, key {@code worker.<workerId>}: {@link
   * dev.shepherd.model.WorkerControl}.
   */
  public static final String WORKER_CONTROL = "worker-control";

  /** Every schema {@link #validate} knows, by name. */
  public static final List<String> SCHEMAS =
      List.of(
          JOB_SUBMISSION,
          WORK_MESSAGE,
          STATUS_EVENT,
          JOB_VIEW,
          JOB_SUMMARY,
          DEAD_JOB,
          SUBMIT_RECEIPT,
          PROBLEM,
          CANCEL_REQUEST,
          WORKER_CONTROL);

  /** The job types that ship a payload schema, {@code contracts/payloads/<type>.schema.json}. */
  public static final List<String> PAYLOAD_TYPES =
      List.of("site.generate", "demo.flaky", "demo.poison", "demo.noop");

  /** Where every schema's {@code $id} starts; the name of no host we fetch from. */
  public static final String ID_BASE = "https://shepherd.dev/contracts/";

  /** Shared building blocks that the schemas reference; not a validation target. */
  public static final String DEFINITIONS = "definitions";

  /**
   * One broken rule.
   *
   * @param field JSON pointer of the offending field ({@code /type}, {@code /payload/site}); for a
   *     missing required property or an unknown one, the pointer of that property; {@code ""} for
   *     the whole document
   * @param message the field and the rule, for people: {@code /maxAttempts: must be at most 100}
   */
  public record Violation(String field, String message) {

    /**
     * This violation seen from an enclosing document, where the validated node sits at {@code
     * pointer}: a payload's {@code /site} becomes the submission's {@code /payload/site}, in the
     * field and in the message.
     */
    public Violation within(String pointer) {
      String inner = label(field);
      String outerField = pointer + field;
      String rule =
          message.startsWith(inner + ": ") ? message.substring(inner.length() + 2) : message;
      return new Violation(outerField, label(outerField) + ": " + rule);
    }
  }

  private static final class Shared {
    static final Contracts INSTANCE = new Contracts();
  }

  private final Map<String, Schema> schemas;
  private final Map<String, Schema> payloadSchemas;
  private final Set<String> payloadTypes;
  private final Map<String, String> shippedSources;

  /**
   * Reads and compiles every schema from the classpath. Fails at once when a file is missing or not
   * JSON (naming it), or when a {@code $ref} points at no schema (naming the reference).
   */
  public Contracts() {
    Map<String, String> sources = new LinkedHashMap<>();
    sources.put(schemaId(DEFINITIONS), read("contracts/schemas/" + DEFINITIONS + ".schema.json"));
    for (String name : SCHEMAS) {
      sources.put(schemaId(name), read("contracts/schemas/" + name + ".schema.json"));
    }
    for (String type : PAYLOAD_TYPES) {
      sources.put(payloadId(type), read("contracts/payloads/" + type + ".schema.json"));
    }
    // Draft 2020-12 treats "format" as an annotation; our contracts mean it ("at" must be a
    // date-time), so formats are asserted. Nothing is fetched from the network: every $ref
    // resolves to one of the sources above or fails here.
    SchemaRegistryConfig config =
        SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build();
    SchemaRegistry registry =
        SchemaRegistry.withDefaultDialect(
            SpecificationVersion.DRAFT_2020_12,
            builder -> builder.schemas(sources).schemaRegistryConfig(config));
    Map<String, Schema> byName = new LinkedHashMap<>();
    for (String name : SCHEMAS) {
      byName.put(name, compile(registry, schemaId(name)));
    }
    Map<String, Schema> byType = new LinkedHashMap<>();
    for (String type : PAYLOAD_TYPES) {
      byType.put(type, compile(registry, payloadId(type)));
    }
    this.schemas = Collections.unmodifiableMap(byName);
    this.payloadSchemas = Collections.unmodifiableMap(byType);
    this.payloadTypes = Collections.unmodifiableSet(new TreeSet<>(byType.keySet()));
    this.shippedSources = Map.copyOf(sources);
  }

  /**
   * A payload schema that a worker announced for its job type (ADR 35), compiled as the shipped
   * ones are: formats asserted, {@code $ref}s resolved among the shipped schemas (so it may use
   * {@code definitions}) and nothing fetched from the network. Its own {@code $id} is replaced by
   * {@link #announcedPayloadId}.
   *
   * @throws IllegalArgumentException when it is not a JSON Schema that compiles, saying why
   */
  public PayloadSchema compileAnnounced(String jobType, JsonNode schema) {
    if (schema == null || !(schema.isObject() || schema.isBoolean())) {
      throw new IllegalArgumentException(
          "the payload schema announced for job type '" + jobType + "' is not a JSON object");
    }
    String id = announcedPayloadId(jobType);
    JsonNode copy = schema.deepCopy();
    if (copy.isObject()) {
      ((tools.jackson.databind.node.ObjectNode) copy).put("$id", id);
    }
    Map<String, String> sources = new LinkedHashMap<>(shippedSources);
    sources.put(id, Json.mapper().writeValueAsString(copy));
    SchemaRegistryConfig config =
        SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build();
    try {
      SchemaRegistry registry =
          SchemaRegistry.withDefaultDialect(
              SpecificationVersion.DRAFT_2020_12,
              builder -> builder.schemas(sources).schemaRegistryConfig(config));
      // a schema that breaks the meta-schema ({"type": 5}) would compile and judge nothing
      List<Violation> broken =
          violations(
              registry
                  .getSchema(SchemaLocation.of("https://json-schema.org/draft/2020-12/schema"))
                  .validate(copy));
      if (!broken.isEmpty()) {
        throw new IllegalArgumentException(
            "the payload schema announced for job type '"
                + jobType
                + "' is not a JSON Schema (draft 2020-12): "
                + broken.stream().map(Violation::message).toList());
      }
      Schema compiled = compile(registry, id);
      return payload -> violations(compiled.validate(orNull(payload)));
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "the payload schema announced for job type '"
              + jobType
              + "' does not compile: "
              + e.getMessage(),
          e);
    }
  }

  /** The {@code $id} an announced payload schema is compiled under. */
  public static String announcedPayloadId(String jobType) {
    return ID_BASE + "announced/" + jobType + ".schema.json";
  }

  /** A compiled payload schema: the violations of a payload, relative to the payload. */
  @FunctionalInterface
  public interface PayloadSchema {
    List<Violation> validate(JsonNode payload);
  }

  /** One instance for the whole process, built on first use. */
  public static Contracts shared() {
    return Shared.INSTANCE;
  }

  /** The {@code $id} of a message or view schema: {@code <ID_BASE><name>.schema.json}. */
  public static String schemaId(String schemaName) {
    return ID_BASE + schemaName + ".schema.json";
  }

  /** The {@code $id} of a job type's payload schema. */
  public static String payloadId(String jobType) {
    return ID_BASE + "payloads/" + jobType + ".schema.json";
  }

  /**
   * The violations of {@code node} against the named schema, in document order; empty when it
   * conforms. An absent node ({@code null} or a missing node) is validated as JSON {@code null}.
   *
   * @param schemaName one of {@link #SCHEMAS}, such as {@link #JOB_SUBMISSION}
   * @throws IllegalArgumentException for a name that is not one of {@link #SCHEMAS}
   */
  public List<Violation> validate(String schemaName, JsonNode node) {
    Schema schema = schemas.get(schemaName);
    if (schema == null) {
      throw new IllegalArgumentException(
          "no contract schema named '" + schemaName + "'; known: " + SCHEMAS);
    }
    return violations(schema.validate(orNull(node)));
  }

  /**
   * The violations of a job's payload against its type's payload schema, with fields relative to
   * the payload ({@code /site}; see {@link Violation#within} for {@code /payload/site}). Empty when
   * it conforms, and for a job type without a payload schema: see {@link #hasPayloadSchema}.
   */
  public List<Violation> validatePayload(String jobType, JsonNode payload) {
    Schema schema = payloadSchemas.get(jobType);
    if (schema == null) {
      return List.of();
    }
    return violations(schema.validate(orNull(payload)));
  }

  /** An absent node (Java null, or Jackson's missing node) is judged as JSON null. */
  private static JsonNode orNull(JsonNode node) {
    return node == null || node.isMissingNode() ? NullNode.getInstance() : node;
  }

  /** Whether {@code jobType} ships a payload schema that {@link #validatePayload} applies. */
  public boolean hasPayloadSchema(String jobType) {
    return payloadSchemas.containsKey(jobType);
  }

  /** The job types with a payload schema, sorted; read-only. */
  public Set<String> payloadTypes() {
    return payloadTypes;
  }

  private static Schema compile(SchemaRegistry registry, String id) {
    Schema schema = registry.getSchema(SchemaLocation.of(id));
    // Resolve every $ref now, not lazily on the first validation of some request thread.
    schema.initializeValidators();
    return schema;
  }

  private static List<Violation> violations(List<Error> errors) {
    Set<Violation> out = new LinkedHashSet<>();
    for (Error error : TaggedUnions.explain(errors)) {
      String field = pointer(error.getInstanceLocation());
      if (error.getProperty() != null && NAMES_A_PROPERTY.contains(error.getKeyword())) {
        field = field + "/" + escape(error.getProperty());
      }
      out.add(new Violation(field, label(field) + ": " + Rules.describe(error)));
    }
    return List.copyOf(out);
  }

  /** Keywords whose error concerns a property of the node rather than the node itself. */
  private static final Set<String> NAMES_A_PROPERTY =
      Set.of("required", "additionalProperties", "unevaluatedProperties", "dependentRequired");

  private static String label(String field) {
    return field.isEmpty() ? "(root)" : field;
  }

  private static String pointer(NodePath path) {
    StringBuilder pointer = new StringBuilder();
    for (int i = 0; i < path.getNameCount(); i++) {
      pointer.append('/').append(escape(String.valueOf(path.getElement(i))));
    }
    return pointer.toString();
  }

  private static String escape(String name) {
    return name.replace("~", "~0").replace("/", "~1");
  }

  /**
   * The text of one schema as shipped ({@code contracts/schemas/<name>.schema.json}): one of {@link
   * #SCHEMAS} or {@link #DEFINITIONS}, for documents that embed the contracts (OpenAPI).
   */
  public static String schemaText(String name) {
    return read("contracts/schemas/" + name + ".schema.json");
  }

  /**
   * The text of a job type's payload schema as shipped; {@code type} is one of {@link
   * #PAYLOAD_TYPES}.
   */
  public static String payloadSchemaText(String type) {
    return read("contracts/payloads/" + type + ".schema.json");
  }

  /** The AsyncAPI document of the AMQP interface, as shipped. */
  public static String asyncApiText() {
    try (InputStream in =
        Contracts.class.getClassLoader().getResourceAsStream("contracts/asyncapi.yaml")) {
      if (in == null) {
        throw new IllegalStateException("missing contract resource contracts/asyncapi.yaml");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String read(String resource) {
    try (InputStream in = Contracts.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing contract resource " + resource);
      }
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      try {
        Json.mapper().readTree(text);
      } catch (RuntimeException e) {
        throw new IllegalStateException("contract resource " + resource + " is not JSON", e);
      }
      return text;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read contract resource " + resource, e);
    }
  }

  /**
   * A {@code oneOf} whose branches each pin a property with {@code const} (the status event's
   * {@code event}) is a tagged union. When it fails, the validator reports every branch's errors,
   * and most of them only say "this is not a PROGRESS event". Keep the errors of the one branch
   * whose tag matched; when no branch (or several) matched, the tag is what is wrong, and the
   * errors of the tag itself, reported outside the union, say so.
   */
  static final class TaggedUnions {

    private TaggedUnions() {}

    static List<Error> explain(List<Error> errors) {
      Set<Error> dropped = Collections.newSetFromMap(new IdentityHashMap<>());
      for (Error union : errors) {
        if (!"oneOf".equals(union.getKeyword()) || dropped.contains(union)) {
          continue;
        }
        String prefix = union.getEvaluationPath() + "/";
        Map<String, List<Error>> branches = new TreeMap<>();
        for (Error e : errors) {
          String path = e.getEvaluationPath().toString();
          if (path.startsWith(prefix)) {
            String rest = path.substring(prefix.length());
            int slash = rest.indexOf('/');
            branches
                .computeIfAbsent(
                    slash < 0 ? rest : rest.substring(0, slash), k -> new ArrayList<>())
                .add(e);
          }
        }
        JsonNode alternatives = union.getSchemaNode();
        if (alternatives == null || branches.size() < alternatives.size()) {
          continue; // some branch passed: the union failed because several did; say that
        }
        List<List<Error>> tagMatched =
            branches.values().stream().filter(b -> !hasTagMismatch(b, union)).toList();
        branches.values().forEach(dropped::addAll);
        if (tagMatched.size() == 1) {
          dropped.removeAll(tagMatched.get(0));
          dropped.add(union);
        } else if (errors.stream().anyMatch(e -> e != union && !dropped.contains(e))) {
          dropped.add(union); // something outside the union (the tag's own rule) explains it
        }
      }
      return errors.stream().filter(e -> !dropped.contains(e)).toList();
    }

    private static boolean hasTagMismatch(List<Error> branch, Error union) {
      return branch.stream()
          .anyMatch(
              e ->
                  "const".equals(e.getKeyword())
                      && union.getInstanceLocation().equals(e.getInstanceLocation().getParent()));
    }
  }

  /** The rule an error breaks, in words that read after "field: ". */
  static final class Rules {

    private Rules() {}

    static String describe(Error error) {
      JsonNode rule = error.getSchemaNode();
      Object[] args = error.getArguments();
      return switch (error.getKeyword()) {
        case "required", "dependentRequired" -> "is required";
        case "additionalProperties", "unevaluatedProperties" -> "is not allowed (unknown property)";
        case "minimum" -> "must be at least " + rule;
        case "maximum" -> "must be at most " + rule;
        case "exclusiveMinimum" -> "must be greater than " + rule;
        case "exclusiveMaximum" -> "must be less than " + rule;
        case "minLength" ->
            rule.asInt() == 1
                ? "must not be empty"
                : "must be at least " + rule + " characters long";
        case "maxLength" -> "must be at most " + rule + " characters long";
        case "minItems" -> "must have at least " + rule + " items";
        case "maxItems" -> "must have at most " + rule + " items";
        case "pattern" ->
            String.valueOf(error.getSchemaLocation()).contains("/positiveDuration/")
                ? "must be a positive ISO-8601 duration in days, hours, minutes and seconds,"
                    + " such as PT30S or PT10M"
                : "must match the pattern " + rule.asString();
        case "enum" -> "must be one of " + values(rule);
        case "const" -> "must be " + rule;
        case "type" ->
            "must be "
                + typeNames(rule)
                + (args != null && args.length > 0 ? ", not " + typeName(args[0]) : "");
        case "format" ->
            "date-time".equals(rule.asString())
                ? "must be an RFC 3339 date-time with an offset, such as 2026-11-25T10:00:00Z"
                : "must be a valid " + rule.asString();
        case "oneOf" -> "must match exactly one of the allowed kinds";
        default -> error.getMessage();
      };
    }

    private static String values(JsonNode values) {
      List<String> out = new ArrayList<>();
      values.forEach(v -> out.add(v.isString() ? v.asString() : v.toString()));
      return String.join(", ", out);
    }

    private static String typeNames(JsonNode rule) {
      if (rule.isArray()) {
        List<String> out = new ArrayList<>();
        rule.forEach(t -> out.add(typeName(t.asString())));
        return String.join(" or ", out);
      }
      return typeName(rule.asString());
    }

    private static String typeName(Object type) {
      String name = String.valueOf(type);
      return switch (name) {
        case "null" -> "null";
        case "object", "array", "integer" -> "an " + name;
        default -> "a " + name;
      };
    }
  }
}
